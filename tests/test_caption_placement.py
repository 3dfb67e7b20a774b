"""Renders end to end in 16:9 and 9:16: the burned captions cover no character (16:9: figures
stand above the caption band, so captions stay at the bottom; 9:16: captions move to the top),
the spoken word lit."""

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
Box = tuple[float, float, float, float]


def seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def render_first_snow(tmp_path: Path, width: int, height: int, *settings: str) -> Path:
    """The run folder of first-snow rendered at `width`×`height`."""
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", "stories/first-snow.story", *settings,
         f"render.width={width}", f"render.height={height}",
         f"hydra.run.dir={run}", f"cache.dir={tmp_path / 'cache'}"],
        cwd=ROOT, env={**os.environ, "COLUMNS": "120"}, capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr
    return run


def still_scene(run: Path, width: int, height: int) -> tuple[np.ndarray, list[Box]]:
    """The still scene's picture (its frames are picture + caption) and its noted boxes."""
    picture = run / "scenes" / "white-morning.png"
    noted = subject_boxes(picture, width, height)
    assert noted and len(noted["characters"]) == 2  # Pip and Grandma-Bear
    with av.open(str(picture)) as image:
        still = next(image.decode(video=0)).to_ndarray(format="rgb24")
    return still, noted["characters"] + noted["title"]


def frame_at(video: Path, t: float) -> av.VideoFrame:
    """The frame showing at `t` seconds."""
    with av.open(str(video)) as container:
        for frame in container.decode(container.streams.video[0]):
            if frame.time >= t:
                return frame
    raise AssertionError(f"no frame at {t}s")


def caption_box(rgb: np.ndarray, still: np.ndarray) -> Box:
    """Where the frame differs from the picture (the caption), as fractions of the frame."""
    height, width = still.shape[:2]
    ys, xs = np.nonzero(np.abs(rgb.astype(int) - still.astype(int)).sum(axis=2) > 120)
    return xs.min() / width, ys.min() / height, (xs.max() + 1) / width, (ys.max() + 1) / height


def assert_apart(caption: Box, boxes: list[Box], why: str = "") -> None:
    for x0, y0, x1, y1 in boxes:
        assert min(caption[2], x1) <= max(caption[0], x0) or min(caption[3], y1) <= max(
            caption[1], y0), (why, caption, (x0, y0, x1, y1))


@pytest.mark.slow
def test_a_landscape_render_keeps_captions_at_the_bottom_and_off_every_character(
        tmp_path: Path):
    width, height = 640, 360
    run = render_first_snow(tmp_path, width, height, "render.fps=4")
    still, boxes = still_scene(run, width, height)
    cues = [cue for cue in webvtt.read(str(run / "captions.vtt"))
            if seconds(cue.end) <= 6.0]  # the first scene's
    assert cues
    for cue in cues:
        frame = frame_at(run / "video.mp4", (seconds(cue.start) + seconds(cue.end)) / 2)
        caption = caption_box(frame.to_ndarray(format="rgb24"), still)
        assert caption[1] > 0.6, cue.text  # at the bottom
        assert_apart(caption, boxes, cue.text)


@pytest.mark.slow
def test_a_shorts_render_keeps_captions_off_every_character(tmp_path: Path):
    width, height = 180, 320
    run = render_first_snow(tmp_path, width, height, "video=shorts", "render.fps=8",
                            "video.highlight_words=true")
    still, boxes = still_scene(run, width, height)
    cue = webvtt.read(str(run / "captions.vtt"))[0]
    frame = frame_at(run / "video.mp4", (seconds(cue.start) + seconds(cue.end)) / 2)
    caption = caption_box(frame.to_ndarray(format="rgb24"), still)
    assert caption[3] < 0.5  # moved to the top: the bottom would cover the characters
    assert_apart(caption, boxes)
    blue = frame.to_ndarray(format="yuv420p")[height:height + height // 4].reshape(
        height // 2, width // 2)  # the blue-difference chroma plane
    lit = blue[int(caption[1] * height / 2):int(caption[3] * height / 2),
               int(caption[0] * width / 2):int(caption[2] * width / 2)] < 100
    assert lit.any()  # the word being spoken, in yellow
