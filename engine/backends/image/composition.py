"""A picture composed around the caption band: drawn a little taller than the frame, then cut
to it where the band at the bottom holds the least detail, so the busiest part of the picture
(its subjects) stays clear of the captions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from engine.backends.detail import detail, mean_in

STEP = 4
"""Crop positions tried, every this many frame pixels (the detail map's resolution)."""


@dataclass(frozen=True, slots=True)
class Composition:
    """Where the frame was cut from the taller picture, and the band's detail there and in
    the centred cut (the mean gradient energy the caption placement reads)."""

    drawn: tuple[int, int]
    crop_top: float
    band_detail: float
    centred_detail: float

    def as_json(self) -> dict[str, Any]:
        return {"drawn": list(self.drawn), "crop_top": round(self.crop_top, 4),
                "band_detail": round(self.band_detail, 3),
                "centred_detail": round(self.centred_detail, 3)}


def drawn_height(height: int, band: float, headroom: float) -> int:
    """The height to draw a `height`-high frame at: `headroom` taller when captions are burned
    (`band` < 1), else the frame's."""
    return round(height * (1 + headroom)) if band < 1.0 and headroom > 0 else height


def cut_to_frame(picture: Image.Image, width: int, height: int, band: float
                 ) -> tuple[Image.Image, Composition | None]:
    """`picture` fitted to `width`, then cut to `height` where the band from `band` (fraction
    of the frame's height) down holds the least detail (ties: the cut nearest the centre); a
    picture not taller than the frame is resized to it (no composition)."""
    tall = round(picture.height * width / picture.width)
    if tall <= height or band >= 1.0:
        return picture.resize((width, height), Image.Resampling.LANCZOS), None
    scaled = picture.resize((width, tall), Image.Resampling.LANCZOS)
    extra = tall - height

    def in_band(top: int) -> float:  # as the editor measures the frame it is shown
        frame = scaled.crop((0, top, width, top + height))
        return mean_in(detail(frame, width, height), (0.0, band, 1.0, 1.0))

    scores = {top: in_band(top) for top in sorted({*range(0, extra + 1, STEP), extra,
                                                   extra // 2})}
    best = min(scores, key=lambda top: (round(scores[top], 3), abs(top - extra / 2)))
    return (scaled.crop((0, best, width, best + height)),
            Composition(picture.size, best / tall, scores[best], scores[extra // 2]))
