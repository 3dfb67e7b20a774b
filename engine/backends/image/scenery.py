"""Backgrounds for the procedural illustrator: skies, hills, trees, houses, water, caves."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from engine.backends.image.looks import RGB, mix, shade

SKIES: dict[str, tuple[RGB, RGB]] = {
    "day": ((118, 178, 236), (210, 235, 250)), "dawn": ((126, 136, 206), (255, 202, 170)),
    "dusk": ((84, 66, 140), (250, 160, 112)), "night": ((10, 16, 48), (44, 58, 112)),
    "space": ((4, 4, 18), (26, 20, 58)),
}
"""Top and horizon colours of the sky by time of day."""

_LIGHT: dict[str, tuple[RGB, float]] = {
    "day": ((255, 255, 255), 0.0), "dawn": ((235, 170, 170), 0.16),
    "dusk": ((150, 80, 110), 0.28), "night": ((22, 28, 70), 0.58), "space": ((255, 255, 255), 0.0),
}


@dataclass
class Canvas:
    """The picture being painted (supersampled), its blending pen, random source and light."""

    image: Image.Image
    draw: ImageDraw.ImageDraw
    rng: random.Random
    time: str
    indoor: bool = False  # lamps light a room: night darkens it half as much
    rainy: bool = False

    @property
    def w(self) -> int:
        return self.image.width

    @property
    def h(self) -> int:
        return self.image.height

    def lit(self, colour: RGB) -> RGB:
        """A colour as the time of day lights it (night is dark and blue)."""
        tint, amount = _LIGHT[self.time]
        if self.rainy:
            colour = mix(colour, (120, 125, 140), 0.25)
        return mix(colour, tint, amount * 0.5 if self.indoor else amount)

    def shape(self, points: list[tuple[float, float]], colour: RGB, edge: bool = True) -> None:
        fill = self.lit(colour)
        self.draw.polygon(points, fill=fill, outline=shade(fill, -0.3) if edge else None,
                          width=max(1, self.h // 360) if edge else 0)

    def disc(self, x: float, y: float, rx: float, ry: float, fill: tuple[int, ...],
             edge: bool = False) -> None:
        outline = shade(fill[:3], -0.3) if edge else None
        self.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill, outline=outline,
                          width=max(1, self.h // 360) if edge else 0)


def gradient(canvas: Canvas, top: RGB, bottom: RGB, y0: int = 0, y1: int | None = None) -> None:
    """A vertical gradient band: one column computed with numpy, stretched across the width."""
    y1 = canvas.h if y1 is None else y1
    if y1 <= y0:
        return
    t = np.linspace(0.0, 1.0, y1 - y0, dtype=np.float32)[:, None]
    column = (np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t)
    strip = Image.fromarray(np.ascontiguousarray(column[:, None, :].astype(np.uint8)))
    canvas.image.paste(strip.resize((canvas.w, y1 - y0), Image.NEAREST), (0, y0))


def sky(canvas: Canvas, horizon: int, moon: bool = True, sun: bool = True,
        tint: RGB | None = None) -> None:
    top, bottom = SKIES[canvas.time]
    if tint is not None:  # 'a pink sky': the named colour, as the time of day lights it
        top, bottom = mix(top, tint, 0.6), mix(bottom, tint, 0.45)
    if canvas.rainy:
        top, bottom = mix(top, (110, 115, 135), 0.55), mix(bottom, (170, 175, 185), 0.55)
    gradient(canvas, top, bottom, 0, horizon)
    rng, w, h = canvas.rng, canvas.w, canvas.h
    if canvas.time == "night" and not canvas.rainy:  # clouds hide the stars and the moon
        for _ in range(90):
            x, y = rng.uniform(0, w), rng.uniform(0, horizon * 0.95)
            r = rng.uniform(0.6, 2.2) * h / 720
            canvas.disc(x, y, r, r, (255, 250, 220, rng.randint(150, 255)))
        if moon:
            x, y, r = rng.uniform(0.6, 0.85) * w, 0.22 * h, 0.06 * h
            for k in (2.4, 1.7):
                canvas.disc(x, y, r * k, r * k, (255, 245, 200, 22))
            canvas.disc(x, y, r, r, (250, 240, 200, 255))
            canvas.disc(x + 0.45 * r, y - 0.25 * r, r * 0.85, r * 0.85, (*top, 255))
    elif sun and not canvas.rainy:
        low = canvas.time in ("dawn", "dusk")
        x = rng.uniform(0.1, 0.3) * w if rng.random() < 0.5 else rng.uniform(0.7, 0.9) * w
        y, r = (horizon - 0.05 * h, 0.08 * h) if low else (0.24 * h, 0.055 * h)
        colour = (255, 170, 90) if low else (255, 226, 110)
        for k, a in ((3.0, 18), (2.0, 30), (1.4, 50)):
            canvas.disc(x, y, r * k, r * k, (*colour, a))
        canvas.disc(x, y, r, r, (*colour, 255))
    if canvas.time != "night":
        clouds(canvas, rng.randint(2, 4), 0.16, 0.45 * horizon / h)


def clouds(canvas: Canvas, count: int, top: float, bottom: float, grey: bool = False) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    colour = canvas.lit((150, 155, 170) if grey else (255, 255, 255))
    for _ in range(count):
        x, y, s = rng.uniform(0, w), rng.uniform(top, bottom) * h, rng.uniform(0.04, 0.07) * h
        for dx, dy, k in ((-1.2, 0.3, 0.8), (0, 0, 1.1), (1.2, 0.25, 0.85), (0.5, 0.45, 0.9),
                          (-0.5, 0.45, 0.9)):
            canvas.disc(x + dx * s, y + dy * s, k * s * 1.3, k * s, (*colour, 235))


def hills(canvas: Canvas, horizon: int, ground: RGB, layers: int = 3, height: float = 0.12) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for layer in range(layers):
        depth = layer / max(1, layers - 1)
        colour = mix(shade(ground, 0.35), ground, depth)
        base = horizon + depth * 0.07 * h
        amp = height * h * (1 - 0.4 * depth)
        phase, freq = rng.uniform(0, 6.3), rng.uniform(1.2, 2.4)
        points = [(x, base - amp * (0.5 + 0.5 * math.sin(phase + freq * math.pi * x / w)))
                  for x in np.linspace(-10, w + 10, 40)]
        canvas.shape([(-10, h), *points, (w + 10, h)], colour, edge=layer == layers - 1)


def mountains(canvas: Canvas, horizon: int, snowy: bool) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(rng.randint(3, 5)):
        x, top = rng.uniform(-0.1, 1.1) * w, horizon - rng.uniform(0.22, 0.36) * h
        half = rng.uniform(0.16, 0.28) * w
        canvas.shape([(x - half, horizon), (x, top), (x + half, horizon)], (130, 140, 175))
        cap = 0.28
        canvas.shape([(x - half * cap, top + (horizon - top) * cap), (x, top),
                      (x + half * cap, top + (horizon - top) * cap),
                      (x + half * cap * 0.3, top + (horizon - top) * cap * 0.8),
                      (x - half * cap * 0.2, top + (horizon - top) * cap * 1.1)],
                     (250, 250, 255) if snowy else (170, 175, 200), edge=False)


def trees(canvas: Canvas, y: float, count: int, scale: float, pine: bool,
          snowy: bool = False, leaves: tuple[RGB, ...] | None = None) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(count):
        x, s = rng.uniform(-0.02, 1.02) * w, scale * h * rng.uniform(0.8, 1.2)
        base = y + rng.uniform(-0.01, 0.02) * h
        canvas.shape([(x - 0.04 * s, base), (x - 0.035 * s, base - 0.35 * s),
                      (x + 0.035 * s, base - 0.35 * s), (x + 0.04 * s, base)], (120, 85, 60))
        palette = leaves or ((95, 165, 80), (120, 175, 85), (80, 150, 95))
        green = (60, 130, 80) if pine else rng.choice(palette)
        if pine:
            for k in range(3):
                top = base - s * (0.55 + 0.3 * k)
                wide = 0.28 * s * (1 - 0.25 * k)
                canvas.shape([(x - wide, top + 0.35 * s), (x, top - 0.1 * s),
                              (x + wide, top + 0.35 * s)], green)
                if snowy:
                    canvas.shape([(x - wide * 0.35, top + 0.03 * s), (x, top - 0.1 * s),
                                  (x + wide * 0.35, top + 0.03 * s)], (250, 250, 255), edge=False)
        else:
            for dx, dy, r in ((0, -0.75, 0.3), (-0.2, -0.55, 0.22), (0.2, -0.55, 0.22)):
                fill = canvas.lit(green)
                canvas.disc(x + dx * s, base + dy * s, r * s, r * s, fill, edge=True)
            canvas.disc(x - 0.08 * s, base - 0.85 * s, 0.1 * s, 0.08 * s,
                        (*canvas.lit(shade(green, 0.3)), 120))


def houses(canvas: Canvas, y: float, count: int, scale: float, roofs: RGB | None = None) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    night = canvas.time in ("night", "dusk")
    for index in range(count):
        s = scale * h * rng.uniform(0.85, 1.15)
        x = (index + 0.5 + rng.uniform(-0.3, 0.3)) * w / count
        left, right, top = x - 0.5 * s, x + 0.5 * s, y - 0.7 * s
        wall = rng.choice([(245, 225, 190), (240, 200, 170), (225, 215, 240), (250, 240, 215)])
        roof = roofs or rng.choice([(200, 80, 70), (150, 90, 150), (90, 110, 170), (190, 120, 70)])
        canvas.shape([(left + 0.65 * s, top - 0.2 * s), (left + 0.65 * s, top - 0.45 * s),
                      (left + 0.8 * s, top - 0.45 * s), (left + 0.8 * s, top - 0.1 * s)],
                     (150, 100, 90))
        canvas.shape([(left, y), (left, top), (right, top), (right, y)], wall)
        canvas.shape([(left - 0.1 * s, top), (x, top - 0.45 * s), (right + 0.1 * s, top)], roof)
        glass = (255, 215, 110) if night else (170, 210, 240)
        for wx in (left + 0.14 * s, right - 0.34 * s):
            box = (wx, top + 0.14 * s, wx + 0.2 * s, top + 0.34 * s)
            if night:
                canvas.disc((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 0.22 * s, 0.22 * s,
                            (255, 210, 120, 40))
            canvas.draw.rectangle(box, fill=glass if night else canvas.lit(glass),
                                  outline=canvas.lit((120, 90, 80)), width=max(1, h // 400))
        canvas.shape([(x - 0.09 * s, y), (x - 0.09 * s, y - 0.3 * s), (x + 0.09 * s, y - 0.3 * s),
                      (x + 0.09 * s, y)], shade(roof, -0.2))


def water(canvas: Canvas, top: int, bottom: int) -> None:
    deep, near = canvas.lit((60, 120, 190)), canvas.lit((110, 180, 215))
    gradient(canvas, deep, near, top, bottom)
    rng, w, h = canvas.rng, canvas.w, canvas.h
    foam = (*canvas.lit((235, 245, 255)), 170)
    for row in range(5):
        y = top + (row + 0.6) * (bottom - top) / 5.5
        for _ in range(4 + row):
            x, r = rng.uniform(0, w), (0.02 + 0.006 * row) * h
            canvas.draw.arc((x - 2 * r, y - r, x + 2 * r, y + r), 200, 340, fill=foam,
                            width=max(1, h // 300))


def flowers(canvas: Canvas, top: float, bottom: float, count: int) -> None:
    rng, h = canvas.rng, canvas.h
    for _ in range(count):
        x, y = rng.uniform(0, canvas.w), rng.uniform(top, bottom) * h
        r = rng.uniform(0.008, 0.013) * h
        petal = canvas.lit(rng.choice([(245, 120, 150), (250, 210, 80), (180, 130, 230),
                                       (255, 255, 255)]))
        canvas.draw.line((x, y + r, x, y + 4 * r), fill=canvas.lit((70, 140, 70)),
                         width=max(1, h // 500))
        for k in range(5):
            t = k * 2 * math.pi / 5
            canvas.disc(x + r * math.cos(t), y + r * math.sin(t), r * 0.75, r * 0.75, (*petal, 255))
        canvas.disc(x, y, r * 0.55, r * 0.55, (*canvas.lit((250, 190, 60)), 255))


def puddles(canvas: Canvas, top: float, bottom: float, count: int) -> None:
    rng, h = canvas.rng, canvas.h
    for _ in range(count):
        x, y, r = rng.uniform(0, canvas.w), rng.uniform(top, bottom) * h, rng.uniform(0.05, 0.1) * h
        canvas.disc(x, y, r * 1.6, r * 0.35, (*canvas.lit((120, 170, 215)), 255), edge=True)
        canvas.disc(x - r * 0.4, y - r * 0.08, r * 0.5, r * 0.08, (255, 255, 255, 120))


def rain(canvas: Canvas) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    colour = (90, 110, 170, 120)
    for _ in range(170):
        x, y, length = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.025, 0.05) * h
        canvas.draw.line((x, y, x - 0.3 * length, y + length), fill=colour, width=max(1, h // 360))


def snowflakes(canvas: Canvas) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(110):
        r = rng.uniform(0.003, 0.008) * h
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        canvas.disc(x, y, r, r, (255, 255, 255, rng.randint(170, 255)))


def fireflies(canvas: Canvas) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(28):
        x, y, r = rng.uniform(0, w), rng.uniform(0.3, 0.9) * h, rng.uniform(0.004, 0.007) * h
        canvas.disc(x, y, r * 4, r * 4, (255, 240, 120, 40))
        canvas.disc(x, y, r, r, (255, 250, 170, 255))


def cave(canvas: Canvas, floor: int) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    gradient(canvas, canvas.lit((60, 50, 70)), canvas.lit((95, 80, 95)), 0, h)
    cx, top = rng.uniform(0.35, 0.65) * w, 0.3 * h
    canvas.disc(cx, floor, 0.22 * w, floor - top, (*canvas.lit(SKIES[canvas.time][1]), 255))
    gradient(canvas, canvas.lit((90, 75, 85)), canvas.lit((70, 58, 70)), floor, h)
    for _ in range(9):
        x, length = rng.uniform(0, w), rng.uniform(0.08, 0.2) * h
        canvas.shape([(x - 0.025 * w, 0), (x, length), (x + 0.025 * w, 0)], (80, 68, 85))
    for _ in range(14):
        x, y, r = rng.uniform(0, w), rng.uniform(0.1, 0.9) * h, rng.uniform(0.004, 0.009) * h
        colour = rng.choice([(140, 220, 255), (230, 150, 255), (255, 230, 140)])
        canvas.disc(x, y, r * 3, r * 3, (*colour, 40))
        canvas.disc(x, y, r, r, (*colour, 255))


def underwater(canvas: Canvas, floor: int) -> None:
    rng, w, h = canvas.rng, canvas.w, canvas.h
    gradient(canvas, canvas.lit((90, 180, 220)), canvas.lit((25, 70, 140)), 0, h)
    for _ in range(4):
        x = rng.uniform(0, w)
        canvas.draw.polygon([(x, 0), (x + 0.05 * w, 0), (x + 0.18 * w, h), (x + 0.08 * w, h)],
                            fill=(255, 255, 255, 22))
    dunes = [(x, floor - 0.03 * h * math.sin(x / w * 7 + 1)) for x in np.linspace(0, w, 24)]
    canvas.shape([(0, h), *dunes, (w, h)], (230, 205, 150))
    for _ in range(7):
        x, tall = rng.uniform(0, w), rng.uniform(0.15, 0.3) * h
        points = [(x + 0.012 * w * math.sin(k * 1.3), floor - tall * k / 8) for k in range(9)]
        canvas.draw.line(points, fill=canvas.lit((60, 160, 90)), width=max(3, h // 90),
                         joint="curve")
    for _ in range(22):
        x, y, r = rng.uniform(0, w), rng.uniform(0, floor), rng.uniform(0.005, 0.015) * h
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), outline=(230, 245, 255, 180),
                            width=max(1, h // 500))


def castle(canvas: Canvas, y: float, scale: float, roofs: RGB | None = None) -> None:
    """A fairy-tale castle on the horizon: towers with pointed roofs and flags."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    cx, s = rng.uniform(0.3, 0.7) * w, scale * h
    stone = (215, 205, 220)
    roof = roofs or rng.choice([(120, 90, 180), (200, 80, 90), (80, 120, 190)])
    canvas.shape([(cx - 0.6 * s, y), (cx - 0.6 * s, y - 0.45 * s), (cx + 0.6 * s, y - 0.45 * s),
                  (cx + 0.6 * s, y)], stone)
    for dx, tall in ((-0.6, 0.8), (0.0, 1.05), (0.6, 0.8)):
        x = cx + dx * s
        canvas.shape([(x - 0.13 * s, y), (x - 0.13 * s, y - tall * s), (x + 0.13 * s, y - tall * s),
                      (x + 0.13 * s, y)], shade(stone, -0.05))
        canvas.shape([(x - 0.17 * s, y - tall * s), (x, y - (tall + 0.3) * s),
                      (x + 0.17 * s, y - tall * s)], roof)
        canvas.draw.line((x, y - (tall + 0.3) * s, x, y - (tall + 0.42) * s),
                         fill=canvas.lit((90, 70, 60)), width=max(1, h // 400))
        canvas.shape([(x, y - (tall + 0.42) * s), (x + 0.1 * s, y - (tall + 0.38) * s),
                      (x, y - (tall + 0.34) * s)], (240, 200, 80), edge=False)
    canvas.disc(cx, y - 0.12 * s, 0.1 * s, 0.14 * s, (*canvas.lit((110, 80, 60)), 255))


def boat(canvas: Canvas, deck: float, wood: RGB = (170, 110, 70)) -> None:
    """A wide wooden boat in the foreground, its deck where the characters stand."""
    w, h = canvas.w, canvas.h
    canvas.shape([(0.08 * w, deck), (0.92 * w, deck), (0.82 * w, h * 1.01), (0.18 * w, h * 1.01)],
                 wood)
    canvas.shape([(0.08 * w, deck), (0.92 * w, deck), (0.91 * w, deck + 0.03 * h),
                  (0.09 * w, deck + 0.03 * h)], shade(wood, 0.25))
    canvas.draw.line((0.5 * w, deck, 0.5 * w, 0.2 * h), fill=canvas.lit((120, 80, 55)),
                     width=max(2, h // 120))
    canvas.shape([(0.51 * w, 0.22 * h), (0.51 * w, deck - 0.05 * h), (0.7 * w, deck - 0.05 * h)],
                 (250, 245, 230))
