"""Colour conversion between RGB and limited-range BT.709 YUV 4:2:0 planes (what x264 encodes)."""

from __future__ import annotations

import cv2
import numpy as np

from engine.backends.video.transitions import Planes

# Limited-range BT.709 (what players assume for HD H.264; the stream is tagged with it).
_KR, _KB = 0.2126, 0.0722


_KG = 1 - _KR - _KB
_TO_YUV = np.array([[_KR, _KG, _KB],  # rows: Y, Cb, Cr of RGB in [0, 1], before range scaling
                    [-_KR / (2 - 2 * _KB), -_KG / (2 - 2 * _KB), 0.5],
                    [0.5, -_KG / (2 - 2 * _KR), -_KB / (2 - 2 * _KR)]])
_RANGE = np.array([[219.0], [224.0], [224.0]]) / 255.0
TO_YUV_U8 = np.hstack((_TO_YUV * _RANGE, [[16.0], [128.0], [128.0]]))
"""RGB in 0..255 → limited-range Y, Cb, Cr in 0..255, as an affine matrix for cv2.transform."""


def rgb_to_yuv420(rgb: np.ndarray, alpha: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y (h×w) and Cb, Cr (h/2×w/2) uint8 planes of an RGB array; chroma weighted by `alpha`."""
    if alpha is None:  # a whole picture: the same sums, in OpenCV's vector loops
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = rgb.shape[:2]
        luma = cv2.transform(rgb, TO_YUV_U8[:1])
        quarter = cv2.resize(rgb.astype(np.float32), (w // 2, h // 2),
                             interpolation=cv2.INTER_AREA)  # the mean of each 2×2 block
        chroma = cv2.transform(quarter, TO_YUV_U8[1:])
        return luma, to_u8(chroma[..., 0]), to_u8(chroma[..., 1])
    rgb = rgb.astype(np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = _KR * r + (1 - _KR - _KB) * g + _KB * b
    cb = (b - luma) / (2 * (1 - _KB))
    cr = (r - luma) / (2 * (1 - _KR))
    weight = np.ones_like(luma) if alpha is None else alpha.astype(np.float32) + 1e-3
    return (to_u8(16 + 219 * luma), to_u8(128 + 224 * _quarter(cb, weight)),
            to_u8(128 + 224 * _quarter(cr, weight)))


def yuv420_to_rgb(planes: Planes) -> np.ndarray:
    """An RGB frame (h×w×3 uint8) of rgb_to_yuv420's planes, chroma upsampled bilinearly."""
    luma, cb, cr = planes
    size = (luma.shape[1], luma.shape[0])
    yuv = cv2.merge((luma, cv2.resize(cb, size, interpolation=cv2.INTER_LINEAR),
                     cv2.resize(cr, size, interpolation=cv2.INTER_LINEAR))).astype(np.float32)
    scaled = np.linalg.inv(_TO_YUV) @ np.diag(1.0 / _RANGE[:, 0])  # to RGB in 0..255
    matrix = np.hstack((scaled, -scaled @ np.array([[16.0], [128.0], [128.0]])))
    return np.clip(np.rint(cv2.transform(yuv, matrix)), 0, 255).astype(np.uint8)


def _quarter(plane: np.ndarray, weight: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    num = (plane * weight).reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
    return num / weight.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))


def to_u8(plane: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def even(value: float) -> int:
    """The nearest even size (yuv420p halves both sides for its chroma), at least 2."""
    return max(2, round(value / 2) * 2)
