"""A burned caption as YUV planes: rows of text on a rounded translucent box, and where it goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.backends.fonts import runs
from engine.backends.video.text import draw_rows, pillow_font, row_width
from engine.backends.video.transitions import Planes
from engine.backends.video.yuv import even, rgb_to_yuv420, to_u8
from engine.captions import word_places, wrap

WHITE = (255, 255, 255, 255)


@dataclass(frozen=True)
class CaptionStyle:
    """How burned captions look: a rounded dark box, white text, bottom centre."""

    font: Path | None
    size: float = 0.058        # font size as a fraction of the frame's shorter side
    fallbacks: tuple[Path, ...] = ()  # fonts for characters `font` lacks (CJK, emoji), in order
    width: float = 0.86        # the widest row, as a fraction of the frame width
    bottom: float = 0.06       # gap below the box (landscape), fraction of the height
    bottom_portrait: float = 0.2  # portrait frames keep clear of phone UI at the bottom
    top: float = 0.15          # gap above a box moved to the top (clear of a title banner)
    box_opacity: int = 170
    highlight: tuple[int, int, int, int] | None = None  # the word being spoken, in this colour

    @property
    def chain(self) -> tuple[Path, ...]:
        return (self.font, *self.fallbacks) if self.font is not None else self.fallbacks


@dataclass(frozen=True)
class Overlay:
    """A rendered caption: its planes premultiplied by alpha, 255 − alpha per plane, and where it
    goes (even coordinates). Drawing it is `(premultiplied + under·(255 − alpha) + 127) // 255`."""

    x: int
    y: int
    premultiplied: tuple[np.ndarray, np.ndarray, np.ndarray]
    transparency: tuple[np.ndarray, np.ndarray, np.ndarray]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the caption's box in pixels."""
        height, width = self.premultiplied[0].shape
        return width, height

    def draw_on(self, planes: Planes) -> None:
        for index, (plane, over, clear) in enumerate(zip(planes, self.premultiplied,
                                                         self.transparency)):
            scale = 1 if index == 0 else 2
            x, y = self.x // scale, self.y // scale
            h, w = min(over.shape[0], plane.shape[0] - y), min(over.shape[1], plane.shape[1] - x)
            under = plane[y:y + h, x:x + w]  # a box taller than a tiny frame is cut off
            under[:] = (over[:h, :w] + under * clear[:h, :w] + 127) // 255


def caption_size(width: int, height: int, style: CaptionStyle) -> int:
    """The captions' font size in pixels for this frame."""
    return max(8, round(min(width, height) * style.size))


def caption_limit(width: int, size: int, style: CaptionStyle) -> float:
    """How wide (pixels) a caption's row may be in a frame this wide."""
    return width * style.width - size


def caption_fits(width: int, height: int, style: CaptionStyle) -> Callable[[str], bool]:
    """Whether a caption row fits this frame, measured as it is drawn (the fallback chain)."""
    size = caption_size(width, height, style)
    limit = caption_limit(width, size, style)

    @lru_cache(maxsize=4096)  # splitting a long line asks about the same rows again and again
    def fits(row: str) -> bool:
        return row_width(row, style.chain, size) <= limit

    return fits


def caption_overlay(text: str, width: int, height: int, style: CaptionStyle, marked: int = -1,
                    top: bool = False) -> Overlay:
    """Render one caption: rows wrapped to fit, centred in a rounded box near the bottom (or the
    top); its word number `marked` (of `display_words(text)`) in the highlight colour. Rendered
    once for the same arguments (where the captions go is judged by their boxes, and the frames
    draw the same ones): the overlay's arrays are read-only."""
    return _caption_overlay(text, width, height, style, marked, top)


@lru_cache(maxsize=64)
def _caption_overlay(text: str, width: int, height: int, style: CaptionStyle, marked: int,
                     top: bool) -> Overlay:
    size = caption_size(width, height, style)
    limit = caption_limit(width, size, style)
    spacing = round(size * 0.25)
    pad_x, pad_y = round(size * 0.6), round(size * 0.35)
    parts = runs(text, style.chain)
    font, scale = pillow_font(parts[0][1] if parts else None, size)
    if len({path for _, path in parts}) > 1 or scale != 1.0 or style.highlight:  # run by run
        rows = wrap(text, fits=lambda row: row_width(row, style.chain, size) <= limit) or [""]
        block = draw_rows(rows, style.chain, size, spacing, WHITE)
        box_w = min(even(block.width + 2 * pad_x + 1), even(width) - 2)
        box_h = even(block.height + 2 * pad_y + 1)
        card = _card(box_w, box_h, size, style)
        places = word_places(rows)
        if 0 <= marked < len(places) and style.highlight:  # the box is the unmarked one's
            block = draw_rows(rows, style.chain, size, spacing, WHITE, places[marked],
                              style.highlight)
        block = block.crop((0, 0, min(block.width, box_w), min(block.height, box_h)))
        card.alpha_composite(block, ((box_w - block.width) // 2, pad_y))
    else:  # one font: Pillow lays the rows out at once
        rows = wrap(text, fits=lambda row: font.getlength(row) <= limit) or [""]
        probe = ImageDraw.Draw(Image.new("L", (1, 1)))
        left, top_edge, right, bottom = probe.multiline_textbbox(
            (0, 0), "\n".join(rows), font=font, spacing=spacing, align="center")
        box_w = min(even(right - left + 2 * pad_x + 1), even(width) - 2)
        box_h = even(bottom - top_edge + 2 * pad_y + 1)
        card = _card(box_w, box_h, size, style)
        ImageDraw.Draw(card).multiline_text((box_w / 2, pad_y - top_edge), "\n".join(rows),
                                            font=font, spacing=spacing, align="center",
                                            anchor="ma", fill=WHITE)
    rgba = np.asarray(card)
    alpha = rgba[..., 3]
    planes = rgb_to_yuv420(rgba[..., :3], alpha)
    half = to_u8(alpha.reshape(box_h // 2, 2, box_w // 2, 2).mean(axis=(1, 3)))
    alphas = (alpha.astype(np.uint16), half.astype(np.uint16), half.astype(np.uint16))
    x, y = caption_corner(box_w, box_h, width, height, style, top)
    premultiplied = tuple(p * a for p, a in zip(planes, alphas))
    transparency = tuple(255 - a for a in alphas)
    for array in (*premultiplied, *transparency):
        array.flags.writeable = False
    return Overlay(x, y, premultiplied, transparency)  # type: ignore[arg-type]


def caption_corner(box_w: int, box_h: int, width: int, height: int, style: CaptionStyle,
                   top: bool) -> tuple[int, int]:
    """Where a caption box of this size goes (even coordinates): centred, near the bottom, or
    near the top."""
    x = (width - box_w) // 2 // 2 * 2
    if top:
        return x, min(max(0, height - box_h), round(height * style.top)) // 2 * 2
    margin = style.bottom_portrait if height > width else style.bottom
    return x, max(0, (height - box_h - round(height * margin)) // 2 * 2)


def _card(box_w: int, box_h: int, size: int, style: CaptionStyle) -> Image.Image:
    """The caption's rounded translucent box, nothing on it yet."""
    card = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    ImageDraw.Draw(card).rounded_rectangle((0, 0, box_w - 1, box_h - 1),
                                           radius=round(size * 0.45),
                                           fill=(18, 18, 32, style.box_opacity))
    return card
