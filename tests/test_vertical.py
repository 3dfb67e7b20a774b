"""A 9:16 render end to end: the burned captions sit where no character is, the spoken word lit."""

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

ROOT = Path(__file__).resolve().parents[1]
W, H = 180, 320


def seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def frame_at(video: Path, t: float) -> tuple[np.ndarray, np.ndarray]:
    """The RGB frame showing at `t` seconds, and its blue-difference chroma."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time >= t:
                yuv = frame.to_ndarray(format="yuv420p")
                return frame.to_ndarray(format="rgb24"), yuv[H:H + H // 4].reshape(H // 2, W // 2)
    raise AssertionError(f"no frame at {t}s")


@pytest.mark.slow
def test_a_shorts_render_keeps_captions_off_every_character(tmp_path: Path):
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", "stories/first-snow.story", "video=shorts",
         f"render.width={W}", f"render.height={H}", "render.fps=8", "video.highlight_words=true",
         f"hydra.run.dir={run}", f"cache.dir={tmp_path / 'cache'}"],
        cwd=ROOT, env={**os.environ, "COLUMNS": "120"}, capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr
    picture = run / "scenes" / "white-morning.png"  # a still scene: frame = picture + caption
    noted = subject_boxes(picture, W, H)
    assert noted and len(noted["characters"]) == 2  # Pip and Grandma-Bear
    boxes = noted["characters"] + noted["title"]
    cue = webvtt.read(str(run / "captions.vtt"))[0]
    rgb, blue = frame_at(run / "video.mp4", (seconds(cue.start) + seconds(cue.end)) / 2)
    still = np.asarray(av.open(str(picture)).decode(video=0).__next__().to_ndarray(format="rgb24"))
    ys, xs = np.nonzero(np.abs(rgb.astype(int) - still.astype(int)).sum(axis=2) > 120)
    caption = (xs.min() / W, ys.min() / H, (xs.max() + 1) / W, (ys.max() + 1) / H)
    assert caption[3] < 0.5  # moved to the top: the bottom would cover the characters
    for x0, y0, x1, y1 in boxes:
        assert min(caption[2], x1) <= max(caption[0], x0) or min(caption[3], y1) <= max(
            caption[1], y0), (caption, (x0, y0, x1, y1))
    lit = blue[int(caption[1] * H / 2):int(caption[3] * H / 2),
               int(caption[0] * W / 2):int(caption[2] * W / 2)] < 100
    assert lit.any()  # the word being spoken, in yellow
