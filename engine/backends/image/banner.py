"""The procedural illustrator's title banner: the title laid out in at most two rows that fit
inside what every camera move keeps in the frame, and drawn on a ribbon at the top."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from engine.backends.video.text import draw_rows, row_width
from engine.captions import wrap

SPAN = 0.84
"""The widest the whole ribbon (its tails too) may be, as a fraction of the picture's width:
narrower than a pan's window (1/1.12 of the frame) and a zoom's closest view (1/1.15), so every
camera move can keep the banner whole."""
ROWS = 2
"""A title too wide for one row wraps (at word boundaries) into at most this many."""
SIZE = 0.052
"""The title's font size, as a fraction of the picture's shorter side."""
SMALLEST = 0.7
"""How far (a fraction of SIZE) a title that does not fit in ROWS rows shrinks before it is cut."""
PAD_X, PAD_Y, TOP = 0.67, 0.35, 0.035
"""The ribbon's padding around the text (fractions of the font size) and where it begins (a
fraction of the picture's shorter side)."""


@dataclass(frozen=True, slots=True)
class Banner:
    """How a title is laid out: its rows, their font size, and whether it had to be cut."""

    rows: tuple[str, ...]
    size: int
    cut: bool


def _tail(size: int) -> float:
    """How far each of the ribbon's tails reaches past its body (pixels)."""
    return 0.96 * (1.25 + 2 * PAD_Y) * size


def text_room(width: int, size: int) -> float:
    """The widest a row of text may be at `size` for the ribbon to stay within SPAN."""
    return SPAN * width - 2 * (PAD_X * size + _tail(size)) - 4


def layout(title: str, width: int, height: int, chain: Sequence[Path]) -> Banner:
    """The title in as few rows as fit (up to ROWS, at word boundaries), at the full size if it
    fits so, else a little smaller (down to SMALLEST); cut with "…" only when even that fails."""
    text = " ".join(title.split())
    full = max(10, round(min(width, height) * SIZE))
    sizes = sorted({max(8, round(full * (1 - k * 0.05))) for k in range(7)
                    if 1 - k * 0.05 >= SMALLEST - 1e-9}, reverse=True)
    for size in sizes:
        fits = _fits(chain, size, text_room(width, size))
        rows = wrap(text, fits)
        if len(rows) <= ROWS and all(fits(row) for row in rows):
            return Banner(tuple(rows), size, cut=False)
    size = sizes[-1]
    room = text_room(width, size)
    rows = wrap(text, _fits(chain, size, room))
    kept = [*rows[:ROWS - 1], " ".join(rows[ROWS - 1:])] if len(rows) > ROWS else rows
    return Banner(tuple(_shortened(row, chain, size, room) for row in kept), size, cut=True)


def reach(banner: Banner, width: int, height: int) -> float:
    """How far down (pixels) the banner's ribbon may reach at this picture size: a little past
    what `draw_banner` draws (rows of 1.3 sizes, their padding, the tails' drop and shadow)."""
    rows = len(banner.rows)
    body = (1.3 * rows + 0.15 * (rows - 1)) * banner.size + 2 * PAD_Y * banner.size
    return min(width, height) * TOP + 1.12 * body + 4


def _fits(chain: Sequence[Path], size: int, room: float) -> Callable[[str], bool]:
    """Whether a row at `size` is at most `room` pixels wide."""
    return lambda row: row_width(row, chain, size) <= room


def _shortened(row: str, chain: Sequence[Path], size: int, room: float) -> str:
    """The row as it is when it fits, else its first words that fit and "…" (a lone word too
    wide: its first letters and "…")."""
    if row_width(row, chain, size) <= room:
        return row
    words = row.split(" ")
    while len(words) > 1 and row_width(" ".join(words) + "…", chain, size) > room:
        words.pop()
    row = " ".join(words) + "…"
    while row_width(row, chain, size) > room and len(row) > 2:
        row = row[:-2].rstrip() + "…"
    return row


Box = tuple[float, float, float, float]


def draw_banner(image: Image.Image, banner: Banner, chain: Sequence[Path]) -> Box:
    """The banner's rows on a ribbon at the top of `image`, centred; the ribbon's box (pixels,
    tails and shadow included)."""
    w, h = image.size
    size = banner.size
    block = draw_rows(list(banner.rows), chain, size, round(0.15 * size), (88, 52, 82, 255))
    block = block.crop(block.getchannel("A").getbbox() or (0, 0, 1, 1))
    tw, th = block.size
    pad_x, pad_y = PAD_X * size, PAD_Y * size
    draw = ImageDraw.Draw(image, "RGBA")
    x0, y0 = (w - tw) / 2 - pad_x, min(w, h) * TOP
    x1, y1 = (w + tw) / 2 + pad_x, y0 + th + 2 * pad_y
    tail = _tail(size) / 1.6  # the tails' notch is as deep as a one-row ribbon's
    for side, edge in ((-1, x0), (1, x1)):
        upper, lower = y0 + 0.25 * (y1 - y0), y1 + 0.12 * (y1 - y0)
        draw.polygon([(edge, upper), (edge + side * tail * 1.6, upper),
                      (edge + side * tail, (y0 + y1) / 2 + 0.12 * (y1 - y0)),
                      (edge + side * tail * 1.6, lower), (edge, lower)],
                     fill=(214, 120, 120, 235))
    radius = min(y1 - y0, 1.25 * size + 2 * pad_y) / 3
    draw.rounded_rectangle((x0 + 3, y0 + 4, x1 + 3, y1 + 4), radius=radius, fill=(40, 20, 40, 60))
    draw.rounded_rectangle((x0, y0, x1, y1), radius=radius, fill=(253, 246, 228, 240),
                           outline=(200, 110, 110, 255), width=max(1, min(w, h) // 240))
    image.paste(block, (round((w - tw) / 2), round(y0 + pad_y)), block)
    return x0 - tail * 1.6, y0, x1 + tail * 1.6 + 3, max(y1 + 4, y1 + 0.12 * (y1 - y0))
