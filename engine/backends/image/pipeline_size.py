"""The size a diffusers pipeline draws at: its native pixel budget at the frame's aspect."""

from __future__ import annotations

import math
from typing import Any

SIZE_MULTIPLE = 8  # what every Stable Diffusion family pipeline accepts


def drawing_size(width: int, height: int, pixels: int, multiple: int = SIZE_MULTIPLE
                 ) -> tuple[int, int]:
    """The size handed to the pipeline: about `pixels` pixels at the frame's aspect, each side
    a multiple of `multiple`."""
    scale = math.sqrt(pixels / (width * height))
    return tuple(max(multiple, round(side * scale / multiple) * multiple)
                 for side in (width, height))  # type: ignore[return-value]


def native_side(pipe: Any) -> int | None:
    """The side of the square the pipeline was trained at (SD 1.5: 512, SDXL: 1024): its
    default sample size (else its denoiser's) times the VAE's scale factor."""
    sample = getattr(pipe, "default_sample_size", None)
    if sample is None:
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        sample = getattr(getattr(denoiser, "config", None), "sample_size", None)
    if isinstance(sample, (tuple, list)):
        sample = min(sample)
    factor = getattr(pipe, "vae_scale_factor", None)
    return int(sample) * int(factor) if sample and factor else None


def size_multiple(pipe: Any) -> int:
    """What each side must be a multiple of: 8, or more where the pipeline packs latents
    (Flux: its image processor's factor, 16)."""
    processor = getattr(pipe, "image_processor", None)
    factor = getattr(getattr(processor, "config", None), "vae_scale_factor", None)
    return math.lcm(SIZE_MULTIPLE, int(factor)) if factor else SIZE_MULTIPLE


def drawing_size_for(pipe: Any, width: int, height: int, max_pixels: int | None
                     ) -> tuple[int, int]:
    """The pipeline's native pixel budget at the frame's aspect (`max_pixels`: the frame, at
    most that many pixels)."""
    frame = width * height
    if max_pixels is not None:
        pixels = min(frame, int(max_pixels))
    else:
        side = native_side(pipe)
        pixels = side * side if side else frame
    return drawing_size(width, height, pixels, size_multiple(pipe))
