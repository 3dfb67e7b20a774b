"""Caption text in any script: rows measured and drawn run by run, each run in the first font of
the fallback chain that has its characters (Latin, CJK, colour emoji)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engine.backends.fonts import runs

BITMAP_SIZE = 109
"""The one pixel size colour-bitmap fonts (Noto Color Emoji's CBDT strikes) can be opened at;
their glyphs are drawn at it and scaled to the caption's size."""

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def pillow_font(path: Path | None, size: int) -> tuple[Font, float]:
    """The font at `size` pixels, and the scale its drawings need (1 but for bitmap fonts)."""
    if path is None:
        return ImageFont.load_default(size=size), 1.0
    try:
        return ImageFont.truetype(str(path), size), 1.0
    except OSError:  # a bitmap-only font: one strike size
        return ImageFont.truetype(str(path), BITMAP_SIZE), size / BITMAP_SIZE


def single_font(rows: Sequence[str], chain: Sequence[Path]) -> bool:
    """Whether one font draws every character of these rows (Pillow lays them out at once)."""
    return len({font for row in rows for _, font in runs(row, chain)}) <= 1


def row_width(row: str, chain: Sequence[Path], size: int) -> float:
    total = 0.0
    for part, path in runs(row, chain):
        font, scale = pillow_font(path, size)
        total += font.getlength(part) * scale
    return total


Colour = tuple[int, int, int, int]
Mark = tuple[int, int, int]
"""Characters drawn in another colour: (row, first character, end character)."""


def draw_rows(rows: Sequence[str], chain: Sequence[Path], size: int, spacing: int,
              fill: Colour, mark: Mark | None = None, mark_fill: Colour | None = None
              ) -> Image.Image:
    """The rows centred under each other on a transparent RGBA image just large enough; the
    characters `mark` names in `mark_fill`."""
    drawn = [_draw_row(row, chain, size, fill,
                       (mark[1], mark[2], mark_fill) if mark and mark_fill and mark[0] == index
                       else None)
             for index, row in enumerate(rows)]
    width = max(image.width for image in drawn)
    height = sum(image.height for image in drawn) + spacing * (len(drawn) - 1)
    block = Image.new("RGBA", (max(1, width), max(1, height)), (0, 0, 0, 0))
    y = 0
    for image in drawn:
        block.alpha_composite(image, ((width - image.width) // 2, y))
        y += image.height + spacing
    return block


def _coloured(row: str, chain: Sequence[Path], fill: Colour,
              mark: tuple[int, int, Colour] | None) -> list[tuple[str, Path | None, Colour]]:
    """The row's runs (text, font), each with its colour; a marked stretch is a run of its own."""
    out, at = [], 0
    for part, path in runs(row, chain):
        cuts = sorted({0, len(part), *(min(max(c - at, 0), len(part)) for c in mark[:2])}
                      if mark else {0, len(part)})
        for begin, end in zip(cuts, cuts[1:]):
            inside = mark is not None and mark[0] <= at + begin < mark[1]
            out.append((part[begin:end], path, mark[2] if inside and mark else fill))
        at += len(part)
    return out


def _draw_row(row: str, chain: Sequence[Path], size: int, fill: Colour,
              mark: tuple[int, int, Colour] | None = None) -> Image.Image:
    """One row: its runs side by side on a common baseline."""
    pieces = []
    for part, path, colour in _coloured(row, chain, fill, mark):
        font, scale = pillow_font(path, size)
        ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (size, 0)
        width = max(1, round(font.getlength(part)))
        canvas = Image.new("RGBA", (width, ascent + descent), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((0, 0), part, font=font, fill=colour, embedded_color=True)
        if scale != 1.0:
            canvas = canvas.resize((max(1, round(canvas.width * scale)),
                                    max(1, round(canvas.height * scale))), Image.LANCZOS)
        pieces.append((canvas, round(ascent * scale)))
    baseline = max(ascent for _, ascent in pieces)
    below = max(image.height - ascent for image, ascent in pieces)
    out = Image.new("RGBA", (sum(image.width for image, _ in pieces), baseline + below),
                    (0, 0, 0, 0))
    x = 0
    for image, ascent in pieces:
        out.alpha_composite(image, (x, baseline - ascent))
        x += image.width
    return out
