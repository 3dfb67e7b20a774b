"""Indoors for the procedural illustrator: walls and floor, a window on the time of day, furniture."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.backends.image.looks import shade
from engine.backends.image.scenery import SKIES, Canvas, gradient

_WALLS = ((245, 222, 195), (225, 215, 240), (210, 232, 215), (250, 230, 220))
_WOOD = (170, 115, 80)
_BOOKS = ((200, 80, 70), (80, 120, 190), (240, 190, 70), (110, 170, 90))


def room(canvas: Canvas, floor: int, bed: bool, shelf: bool = True) -> None:
    """A room whose floor starts at `floor` (pixels): a bedroom has a bed, a plain room a shelf."""
    _walls(canvas, floor)
    _window(canvas)
    canvas.disc(0.5 * canvas.w, floor + 0.16 * canvas.h, 0.3 * canvas.w, 0.06 * canvas.h,
                (*canvas.lit((200, 90, 100)), 255), edge=True)  # the rug
    if bed:
        _bed(canvas, floor)
    elif shelf:
        _bookshelf(canvas, floor)
    if canvas.time in ("night", "dusk"):
        _lamp(canvas)


def _walls(canvas: Canvas, floor: int) -> None:
    """A wall in one of a few soft colours and a wooden floor, its boards drawn in perspective."""
    w, h = canvas.w, canvas.h
    wall = canvas.rng.choice(_WALLS)
    gradient(canvas, canvas.lit(shade(wall, -0.08)), canvas.lit(wall), 0, floor)
    gradient(canvas, canvas.lit((200, 150, 105)), canvas.lit((160, 110, 75)), floor, h)
    for k in range(1, 9):
        canvas.draw.line((k * w / 8, floor, k * w / 8 + (k - 4.5) * 0.08 * w, h),
                         fill=canvas.lit((140, 95, 65)), width=max(1, h // 400))


def _window(canvas: Canvas) -> None:
    """A window on the sky of the scene's time of day (a moon and stars at night), framed."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    wx, wy, ww, wh = rng.uniform(0.55, 0.72) * w, 0.2 * h, 0.22 * w, 0.32 * h
    top, bottom = SKIES[canvas.time]
    band = np.linspace(0, 1, int(wh))[:, None, None]
    glass = (np.array(top) * (1 - band) + np.array(bottom) * band) * np.ones((1, int(ww), 1))
    canvas.image.paste(Image.fromarray(glass.astype(np.uint8)), (int(wx), int(wy)))
    if canvas.time == "night":
        moon = 0.1 * wh
        canvas.disc(wx + 0.7 * ww, wy + 0.3 * wh, moon, moon, (250, 240, 200, 255))
        for _ in range(12):
            star = 2 * h / 720
            canvas.disc(rng.uniform(wx, wx + ww), rng.uniform(wy, wy + wh), star, star,
                        (255, 250, 220, 230))
    frame = canvas.lit((250, 250, 245))
    canvas.draw.rectangle((wx, wy, wx + ww, wy + wh), outline=frame, width=max(2, h // 90))
    canvas.draw.line((wx + ww / 2, wy, wx + ww / 2, wy + wh), fill=frame, width=max(2, h // 150))
    canvas.draw.line((wx, wy + wh / 2, wx + ww, wy + wh / 2), fill=frame, width=max(2, h // 150))


def _bed(canvas: Canvas, floor: int) -> None:
    """A wooden bed on the left: head- and footboard, a pillow, a dotted blue blanket."""
    w, h = canvas.w, canvas.h
    bx, by, bw = 0.05 * w, floor + 0.08 * h, 0.32 * w
    canvas.shape([(bx, by), (bx, by - 0.34 * h), (bx + 0.035 * w, by - 0.36 * h),
                  (bx + 0.035 * w, by)], _WOOD)
    canvas.shape([(bx, by - 0.04 * h), (bx, by - 0.13 * h), (bx + bw, by - 0.13 * h),
                  (bx + bw, by - 0.04 * h)], _WOOD)
    pillow = (*canvas.lit((250, 250, 250)), 255)
    canvas.disc(bx + 0.09 * w, by - 0.18 * h, 0.05 * w, 0.035 * h, pillow, edge=True)
    canvas.shape([(bx + 0.13 * w, by - 0.1 * h), (bx + 0.14 * w, by - 0.2 * h),
                  (bx + bw + 0.01 * w, by - 0.19 * h), (bx + bw + 0.02 * w, by - 0.08 * h)],
                 (110, 145, 220))
    for k in range(4):
        canvas.disc(bx + 0.17 * w + k * 0.045 * w, by - 0.145 * h, 0.012 * w, 0.012 * w,
                    (*canvas.lit((250, 230, 120)), 255))
    canvas.shape([(bx + bw - 0.01 * w, by), (bx + bw - 0.01 * w, by - 0.24 * h),
                  (bx + bw + 0.025 * w, by - 0.24 * h), (bx + bw + 0.025 * w, by)], _WOOD)


def _bookshelf(canvas: Canvas, floor: int) -> None:
    """A shelf on the left with three rows of five coloured books."""
    w, h = canvas.w, canvas.h
    canvas.shape([(0.08 * w, floor), (0.08 * w, floor - 0.42 * h), (0.24 * w, floor - 0.42 * h),
                  (0.24 * w, floor)], (175, 125, 90))
    for row in range(3):
        y = floor - 0.12 * h - row * 0.13 * h
        for book in range(5):
            left, right = 0.1 * w + book * 0.025 * w, 0.12 * w + book * 0.025 * w
            canvas.shape([(left, y), (left, y - 0.09 * h), (right, y - 0.09 * h), (right, y)],
                         canvas.rng.choice(_BOOKS))


def _lamp(canvas: Canvas) -> None:
    """A ceiling lamp and its warm glow (a room at dusk or night)."""
    w, h = canvas.w, canvas.h
    lx = 0.45 * w
    canvas.draw.line((lx, 0, lx, 0.25 * h), fill=canvas.lit((90, 70, 60)), width=max(1, h // 300))
    canvas.disc(lx, 0.31 * h, 0.2 * h, 0.2 * h, (255, 220, 140, 35))
    canvas.shape([(lx - 0.04 * h, 0.3 * h), (lx - 0.025 * h, 0.24 * h), (lx + 0.025 * h, 0.24 * h),
                  (lx + 0.04 * h, 0.3 * h)], (255, 225, 150))
