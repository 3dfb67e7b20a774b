"""How much is drawn where in a picture (its gradient energy): what decides where captions go
on a picture that does not say where its subjects are, and how a diffusers picture is cropped
to keep them out of the caption band."""

from __future__ import annotations

import numpy as np
from PIL import Image

Band = tuple[float, float, float, float]
"""[x0, y0, x1, y1] as fractions of the picture."""


def detail(picture: Image.Image, width: int, height: int) -> np.ndarray:
    """How much is drawn at each point: the magnitude of the gradient of the grey picture
    fitted to `width`×`height` and reduced four times (one value per 4×4 pixels)."""
    grey = np.asarray(picture.convert("L").resize((width // 4 or 1, height // 4 or 1)),
                      dtype=np.float32)
    dy, dx = np.gradient(grey)
    return np.hypot(dx, dy)


def mean_in(energy: np.ndarray, band: Band) -> float:
    """The mean of `energy` (a `detail` map) inside `band`."""
    h, w = energy.shape
    part = energy[int(band[1] * h):max(int(band[3] * h), int(band[1] * h) + 1),
                  int(band[0] * w):max(int(band[2] * w), int(band[0] * w) + 1)]
    return float(part.mean()) if part.size else 0.0
