"""A zoom's views: every sample at its sub-pixel place, bilinearly, the picture's edges repeated."""

from __future__ import annotations

import cv2
import numpy as np

from engine.backends.video.camera import _warp

W, H = 320, 180
BASE_W, BASE_H = 368, 207  # the picture kept 1.15× the frame for a zoom


def exact_view(plane: np.ndarray, x0: float, y0: float, scale: float) -> np.ndarray:
    """Bilinear samples at start + scale·(d + ½) − ½ in floating point, edges repeated."""
    def taps(start: float, size: int, extent: int):
        place = start + scale * (np.arange(size) + 0.5) - 0.5
        whole = np.floor(place).astype(int)
        return (np.clip(whole, 0, extent - 1), np.clip(whole + 1, 0, extent - 1),
                place - whole)

    ix, jx, fx = taps(x0, W, plane.shape[1])
    iy, jy, fy = taps(y0, H, plane.shape[0])
    rows = plane[iy].astype(float) * (1 - fy)[:, None] + plane[jy] * fy[:, None]
    return rows[:, ix] * (1 - fx) + rows[:, jx] * fx


def test_zoom_views_sample_their_exact_places():
    rng = np.random.default_rng(3)
    plane = cv2.GaussianBlur(rng.integers(0, 256, (BASE_H, BASE_W), dtype=np.uint8), (0, 0), 2)
    for trial in range(60):
        zoom = 1 + 0.15 * rng.random()
        w, h = BASE_W / zoom, BASE_H / zoom
        x0, y0 = [(rng.random() * (BASE_W - w), rng.random() * (BASE_H - h)), (0.0, 0.0),
                  (BASE_W - w, BASE_H - h)][trial % 3]  # the picture's corners too
        exact = exact_view(plane, x0, y0, w / W)
        view = _warp(plane, x0, y0, w / W, W, H)
        assert view.shape == (H, W) and view.dtype == np.uint8
        error = np.abs(view - exact)
        # Fixed-point places and weights, 8-bit rounding: under a level everywhere, a third on average.
        assert error.max() <= 1.5 and error.mean() <= 0.35, (trial, zoom, x0, y0)


def test_a_view_moved_a_fraction_of_a_pixel_moves_its_picture():
    """Sub-pixel motion: a window moved by a quarter pixel shows a picture a quarter pixel on
    (no whole-pixel steps, the judder of ffmpeg's zoompan)."""
    ramp = np.tile(np.arange(BASE_W, dtype=np.float64) * 0.5, (BASE_H, 1)).astype(np.uint8)
    scale = (BASE_W / 1.1) / W
    views = [_warp(ramp, 10.0 + dx, 5.0, scale, W, H).astype(float) for dx in (0, 0.25, 0.5)]
    steps = [float((b - a)[:, 20:-20].mean()) for a, b in zip(views, views[1:])]
    assert all(abs(step - 0.125) < 0.03 for step in steps), steps  # 0.25 px × 0.5 levels a px
