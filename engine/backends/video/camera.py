"""A scene's still fitted to the frame as YUV planes, and the views of its camera move."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from engine.backends.video.framing import (CAMERA_KEEPS, PAN_FALLBACK, Box, around,
                                          pan_framing, pan_height, subject_boxes, zoom_framing)
from engine.backends.video.transitions import Planes, shift
from engine.backends.video.yuv import even, rgb_to_yuv420

# The segment workers draw side by side; OpenCV's own thread pool would only fight them for the
# cores (and a row split changes no byte: every output pixel is computed alone).
cv2.setNumThreads(1)

ZOOM = 1.15
"""How far `slow zoom in`/`slow zoom out` go (the picture's scale at the close end)."""
PAN_ZOOM = 1.12
"""A pan looks through a window this much smaller than the picture, sliding side to side."""

def _ease(t: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, t)))


def camera_view(camera: str | None, t: float, keep: Box | None = None,
                fallback: Box | None = None) -> tuple[float, float, float]:
    """(zoom, centre x, centre y) at `t` ∈ [0, 1] of the scene; centres are fractions of the
    picture. With `keep` (where the characters and a title are), a zoom goes only as close, and
    a pan only as far (and its window only as high or low), as keeps them whole in the frame; a
    pan whose window cannot hold all of `keep` keeps `fallback` (the title) whole instead."""
    e = _ease(t)
    if camera in ("slow zoom in", "slow zoom out"):
        most, cx, cy = (ZOOM, 0.5, 0.5) if keep is None else zoom_framing(keep, ZOOM)
        closeness = e if camera == "slow zoom in" else 1 - e
        return 1 + (most - 1) * closeness, cx, cy
    if camera in ("pan left", "pan right"):
        half = 0.5 / PAN_ZOOM
        left, right, held = half, 1 - half, None
        for box in (keep, fallback):
            travel = None if box is None else pan_framing(box, PAN_ZOOM)
            if travel is not None:
                (left, right), held = travel, box
                break
        start, end = (right, left) if camera == "pan left" else (left, right)
        held = held or keep
        return PAN_ZOOM, start + (end - start) * e, 0.5 if held is None else pan_height(
            held, PAN_ZOOM)
    return 1.0, 0.5, 0.5


class Picture:
    """A scene's still, fitted to the frame (cover, centred), able to render any camera view.

    A zooming camera keeps the picture at up to ZOOM× the frame size when the source has the
    pixels, and samples each view bilinearly at its sub-pixel place (see `_warp`), so moves are
    smooth: no rounding of the window to whole pixels, which is what
    makes ffmpeg's zoompan judder. A pan never changes scale, so its picture is
    scaled once to a strip exactly as tall as the frame and each frame is a sub-pixel horizontal
    shift of it: a blend of two whole-pixel windows, which costs about one memory pass.
    """

    def __init__(self, path: Path, width: int, height: int, camera: str | None):
        rgb = decoded(path)
        self.width, self.height, self.camera = width, height, camera
        self.still = camera in (None, "still")
        self.pan = camera in ("pan left", "pan right")
        noted = None if self.still else subject_boxes(path, width, height)  # read once
        self.keep = around(noted, CAMERA_KEEPS)
        self.title = around(noted, PAN_FALLBACK) if self.pan else None
        lanczos = Image.Resampling.LANCZOS
        if self.pan:
            strip_w, strip_h = even(width * PAN_ZOOM), even(height * PAN_ZOOM)
            fitted = ImageOps.fit(rgb, (strip_w, strip_h), lanczos)
            cy = camera_view(camera, 0.0, self.keep, self.title)[2]  # the same for the whole pan
            top = int(min(max((cy * strip_h - height / 2) // 2 * 2, 0), strip_h - height))
            self.base = rgb_to_yuv420(np.asarray(fitted)[top:top + height])
            return
        room = min(rgb.width / width, rgb.height / height)
        over = 1.0 if self.still else min(max(room, 1.0), ZOOM)
        fitted = ImageOps.fit(rgb, (even(width * over), even(height * over)), lanczos)
        self.base = rgb_to_yuv420(np.asarray(fitted))

    def at(self, t: float) -> Planes:
        """The view at `t` ∈ [0, 1] (fresh arrays: callers may draw on them)."""
        base_h, base_w = self.base[0].shape
        if self.still:  # fitted to the frame's (even) size
            return tuple(p.copy() for p in self.base)  # type: ignore[return-value]
        zoom, cx, cy = camera_view(self.camera, t, self.keep, self.title)
        if self.pan:
            x0 = min(max(cx * base_w - self.width / 2, 0.0), base_w - self.width)
            return (shift(self.base[0], x0, self.width), shift(self.base[1], x0 / 2, self.width // 2),
                    shift(self.base[2], x0 / 2, self.width // 2))
        w, h = base_w / zoom, base_h / zoom
        x0 = min(max(cx * base_w - w / 2, 0.0), base_w - w)
        y0 = min(max(cy * base_h - h / 2, 0.0), base_h - h)
        views = tuple(_warp(p, x0 / f, y0 / f, w / self.width, self.width // f, self.height // f)
                      for p, f in zip(self.base, (1, 2, 2)))
        return views  # type: ignore[return-value]


def decoded(path: Path) -> Image.Image:
    """The picture file as RGB, decoded once while the file stays the same (deciding where the
    captions go and fitting the picture to the frame both read it). Read-only: callers make new
    images from it (fit, convert), never draw on it."""
    stat = path.stat()
    return _decoded(str(path.absolute()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _decoded(path: str, mtime_ns: int, size: int) -> Image.Image:
    with Image.open(path) as source:
        return source.convert("RGB")


def picture(path: Path, width: int, height: int, camera: str | None) -> Picture:
    """The Picture of a still for this frame size and camera, made once while the file stays the
    same (a scene's segment and the transition into it from the scene before share it)."""
    stat = path.stat()
    return _picture(str(path.absolute()), stat.st_mtime_ns, stat.st_size, width, height, camera)


@lru_cache(maxsize=8)
def _picture(path: str, mtime_ns: int, size: int, width: int, height: int,
             camera: str | None) -> Picture:
    return Picture(Path(path), width, height, camera)


def _warp(plane: np.ndarray, x0: float, y0: float, scale: float, width: int,
          height: int) -> np.ndarray:
    """The window at (x0, y0) of `scale` source pixels per output pixel, pixel centres mapped
    onto pixel centres (as a resize of that box would), sampled bilinearly, edges repeated.

    OpenCV's affine warp places each sample to 1/32 pixel or finer (OpenCV 5.1 moves its output
    with a move of 1/256 pixel) and weighs its four taps in fixed point. With OpenCV 5.1 it
    takes about 0.35 ms for a 720p frame's three planes, less than half what a separable resize
    of a whole-pixel span did (benchmarks/RESULTS.md, session 7; older OpenCV's warp was slower
    than that resize)."""
    offset = 0.5 * scale - 0.5
    matrix = np.array([[scale, 0.0, x0 + offset], [0.0, scale, y0 + offset]])
    return cv2.warpAffine(plane, matrix, (width, height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
