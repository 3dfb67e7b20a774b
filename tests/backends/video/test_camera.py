"""A zoom's views: every sample at its exact sub-pixel place, whether resized or warped."""

from __future__ import annotations

import cv2
import numpy as np

from engine.backends.video.camera import PAD, PLACED_WITHIN, _span, _view, _warp

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
    padded = cv2.copyMakeBorder(plane, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    resized = 0
    for trial in range(60):
        zoom = 1 + 0.15 * rng.random()
        w, h = BASE_W / zoom, BASE_H / zoom
        x0, y0 = [(rng.random() * (BASE_W - w), rng.random() * (BASE_H - h)), (0.0, 0.0),
                  (BASE_W - w, BASE_H - h)][trial % 3]  # the picture's corners too
        scale = w / W
        exact = exact_view(plane, x0, y0, scale)
        view = _view(padded, x0, y0, scale, W, H)
        warped = _warp(plane, x0, y0, scale, W, H)
        assert view.shape == (H, W) and view.dtype == np.uint8
        assert np.abs(view - exact).max() <= 1.5, (trial, zoom, x0, y0)
        assert np.abs(view - exact).mean() <= np.abs(warped - exact).mean() + 0.05
        spans = [_span(x0, scale, W, BASE_W), _span(y0, scale, H, BASE_H)]
        for start, span in zip((x0, y0), spans):
            if span is not None:
                first, end, lead = span
                assert abs(first + lead * scale - start) < PLACED_WITHIN
                assert -PAD <= first and lead >= (0 if scale >= 1 else 1)
        resized += all(span is not None for span in spans)
    assert resized >= 40  # most views are the faster resize
