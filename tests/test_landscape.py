"""A 16:9 render end to end: the figures stand above the caption band, so every caption stays
at the bottom of the frame and covers no character."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import webvtt

from engine.backends.video.framing import subject_boxes
from tests.test_vertical import seconds

ROOT = Path(__file__).resolve().parents[1]
W, H = 640, 360


def frame_at(video: Path, t: float) -> np.ndarray:
    """The RGB frame showing at `t` seconds."""
    with av.open(str(video)) as container:
        for frame in container.decode(container.streams.video[0]):
            if frame.time >= t:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t}s")


@pytest.mark.slow
def test_a_landscape_render_keeps_captions_at_the_bottom_and_off_every_character(
        tmp_path: Path):
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", "stories/first-snow.story",
         f"render.width={W}", f"render.height={H}", "render.fps=4",
         f"hydra.run.dir={run}", f"cache.dir={tmp_path / 'cache'}"],
        cwd=ROOT, env={**os.environ, "COLUMNS": "120"}, capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr
    picture = run / "scenes" / "white-morning.png"  # a still scene: frame = picture + caption
    noted = subject_boxes(picture, W, H)
    assert noted and len(noted["characters"]) == 2  # Pip and Grandma-Bear
    still = np.asarray(av.open(str(picture)).decode(video=0).__next__().to_ndarray(
        format="rgb24"))
    cues = [cue for cue in webvtt.read(str(run / "captions.vtt"))
            if seconds(cue.end) <= 6.0]  # the first scene's
    assert cues
    for cue in cues:
        rgb = frame_at(run / "video.mp4", (seconds(cue.start) + seconds(cue.end)) / 2)
        ys, xs = np.nonzero(np.abs(rgb.astype(int) - still.astype(int)).sum(axis=2) > 120)
        caption = (xs.min() / W, ys.min() / H, (xs.max() + 1) / W, (ys.max() + 1) / H)
        assert caption[1] > 0.6, cue.text  # at the bottom
        for x0, y0, x1, y1 in noted["characters"] + noted["title"]:
            assert min(caption[2], x1) <= max(caption[0], x0) or min(caption[3], y1) <= max(
                caption[1], y0), (cue.text, caption, (x0, y0, x1, y1))
