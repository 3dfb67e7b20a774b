"""Reference images for training: hashed, and cropped to the resolution."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

def image_hashes(paths: list[Path]) -> list[dict[str, str]]:
    """Each image's file name and sha256 (what the metadata records)."""
    return [{"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
            for p in paths]


def pixel_batch(paths: list[Path], resolution: int) -> Any:
    """The images as one float tensor (N, 3, R, R) in [-1, 1]: the shorter side scaled to R,
    then the centre cut out."""
    import numpy as np
    import torch
    from PIL import Image, ImageOps

    rows = []
    for path in paths:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
        picture = ImageOps.fit(picture, (resolution, resolution), Image.Resampling.BICUBIC)
        array = np.asarray(picture, dtype=np.float32) / 127.5 - 1.0
        rows.append(torch.from_numpy(array).permute(2, 0, 1))
    return torch.stack(rows)
