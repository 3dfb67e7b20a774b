"""More places for the procedural illustrator: rooms, markets, rivers, big waves, space."""

from __future__ import annotations

import math

import numpy as np

from engine.backends.image.looks import RGB, mix, shade
from engine.backends.image.scenery import Canvas


def kitchen(canvas: Canvas, floor: int) -> None:
    """Cupboards, a counter with a stove and a steaming pot, a table with a fruit bowl."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    wood = rng.choice([(190, 140, 100), (120, 170, 190), (200, 120, 110)])
    for k in range(3):
        x = 0.04 * w + k * 0.1 * w
        canvas.shape([(x, 0.1 * h), (x + 0.09 * w, 0.1 * h), (x + 0.09 * w, 0.3 * h),
                      (x, 0.3 * h)], wood)
        canvas.disc(x + 0.075 * w, 0.2 * h, 0.005 * w, 0.005 * w, (*canvas.lit((90, 70, 60)), 255))
    top = floor - 0.2 * h
    canvas.shape([(0.02 * w, floor), (0.02 * w, top), (0.34 * w, top), (0.34 * w, floor)], wood)
    canvas.shape([(0.01 * w, top), (0.35 * w, top), (0.35 * w, top + 0.025 * h),
                  (0.01 * w, top + 0.025 * h)], (235, 230, 220))
    for k in range(2):
        canvas.disc((0.09 + 0.12 * k) * canvas.w, top - 0.005 * h, 0.04 * w, 0.01 * h,
                    (*canvas.lit((70, 70, 80)), 255))
    pot = (200, 70, 60)
    canvas.shape([(0.16 * w, top - 0.01 * h), (0.16 * w, top - 0.09 * h),
                  (0.25 * w, top - 0.09 * h), (0.25 * w, top - 0.01 * h)], pot)
    for k in range(3):
        x = 0.18 * w + k * 0.025 * w
        points = [(x + 0.008 * w * math.sin(t * 3), top - 0.11 * h - t * 0.08 * h)
                  for t in np.linspace(0, 1, 8)]
        canvas.draw.line(points, fill=(255, 255, 255, 140), width=max(1, h // 240), joint="curve")
    table = shade(wood, -0.1)
    ty = floor + 0.02 * h
    canvas.shape([(0.7 * w, ty - 0.16 * h), (0.97 * w, ty - 0.16 * h), (0.97 * w, ty - 0.14 * h),
                  (0.7 * w, ty - 0.14 * h)], table)
    for x in (0.72, 0.94):
        canvas.shape([(x * w, ty - 0.14 * h), ((x + 0.015) * w, ty - 0.14 * h),
                      ((x + 0.015) * w, ty + 0.04 * h), (x * w, ty + 0.04 * h)], table)
    for k, colour in enumerate(((230, 80, 70), (250, 200, 60), (120, 180, 80))):
        canvas.disc((0.8 + 0.03 * k) * w, ty - 0.185 * h, 0.018 * w, 0.018 * w,
                    (*canvas.lit(colour), 255), edge=True)


def classroom(canvas: Canvas, floor: int) -> None:
    """A green blackboard with chalk letters and sums, and little desks."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    canvas.shape([(0.06 * w, 0.12 * h), (0.5 * w, 0.12 * h), (0.5 * w, 0.45 * h),
                  (0.06 * w, 0.45 * h)], (60, 100, 80))
    canvas.draw.rectangle((0.06 * w, 0.12 * h, 0.5 * w, 0.45 * h),
                          outline=canvas.lit((150, 110, 70)), width=max(2, h // 100))
    chalk = (*canvas.lit((245, 245, 235)), 230)
    for row in range(3):
        x, y = 0.09 * w, (0.18 + row * 0.08) * h
        for _ in range(rng.randint(3, 5)):
            length = rng.uniform(0.03, 0.07) * w
            points = [(x + t * length, y + 0.012 * h * math.sin(t * 9 + row))
                      for t in np.linspace(0, 1, 10)]
            canvas.draw.line(points, fill=chalk, width=max(1, h // 300))
            x += length + 0.02 * w
    for k in range(3):
        x, y = (0.12 + 0.3 * k) * w, floor + 0.06 * h
        canvas.shape([(x, y - 0.1 * h), (x + 0.16 * w, y - 0.1 * h), (x + 0.16 * w, y - 0.08 * h),
                      (x, y - 0.08 * h)], (200, 150, 100))
        for dx in (0.01, 0.14):
            canvas.shape([((x + dx * w), y - 0.08 * h), (x + (dx + 0.012) * w, y - 0.08 * h),
                          (x + (dx + 0.012) * w, y), (x + dx * w, y)], (150, 110, 80))


def market(canvas: Canvas, y: float, colour: RGB | None) -> None:
    """Stalls with striped awnings and crates of fruit along the ground."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for k in range(3):
        x, s = (0.12 + 0.34 * k + rng.uniform(-0.03, 0.03)) * w, 0.24 * w
        stripe = colour or rng.choice([(220, 80, 80), (80, 130, 210), (110, 180, 90)])
        canvas.shape([(x, y), (x, y - 0.2 * h), (x + s, y - 0.2 * h), (x + s, y)], (200, 150, 100))
        for b in range(6):
            fill = stripe if b % 2 == 0 else (250, 245, 235)
            canvas.shape([(x - 0.02 * w + b * (s + 0.04 * w) / 6, y - 0.3 * h),
                           (x - 0.02 * w + (b + 1) * (s + 0.04 * w) / 6, y - 0.3 * h),
                           (x - 0.02 * w + (b + 1) * (s + 0.04 * w) / 6, y - 0.22 * h),
                           (x - 0.02 * w + b * (s + 0.04 * w) / 6, y - 0.22 * h)], fill)
        for b in range(5):
            fruit = rng.choice([(230, 80, 70), (250, 180, 60), (120, 180, 80), (160, 90, 180)])
            for f in range(3):
                canvas.disc(x + (0.03 + 0.045 * b + 0.012 * f) * w, y - 0.21 * h, 0.01 * w,
                            0.01 * w, (*canvas.lit(fruit), 255), edge=True)


def fence(canvas: Canvas, y: float) -> None:
    """A white picket fence behind a garden."""
    w, h = canvas.w, canvas.h
    paint = (245, 240, 230)
    canvas.shape([(0, y - 0.06 * h), (w, y - 0.06 * h), (w, y - 0.045 * h), (0, y - 0.045 * h)],
                 paint)
    for k in range(26):
        x = k * w / 25
        canvas.shape([(x - 0.008 * w, y), (x - 0.008 * w, y - 0.09 * h), (x, y - 0.1 * h),
                      (x + 0.008 * w, y - 0.09 * h), (x + 0.008 * w, y)], paint)


def river(canvas: Canvas, horizon: float, colour: RGB) -> None:
    """A river winding from the horizon to the front of the picture."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    start, phase = rng.uniform(0.3, 0.7), rng.uniform(0, 6.3)
    left, right = [], []
    for t in np.linspace(0, 1, 20):
        y = horizon + t * (h - horizon)
        cx = (start + 0.18 * t * math.sin(phase + 3 * t)) * w
        half = (0.01 + 0.16 * t * t + 0.02 * t) * w
        left.append((cx - half, y))
        right.append((cx + half, y))
    canvas.shape([*left, *reversed(right)], colour)
    for t in np.linspace(0.3, 0.9, 5):
        x, y = left[int(t * 19)][0] + 0.03 * w, horizon + t * (h - horizon)
        canvas.draw.line((x, y, x + 0.04 * w * t, y), fill=(255, 255, 255, 140),
                         width=max(1, h // 300))


def lake(canvas: Canvas, y: float, colour: RGB) -> None:
    """A wide calm lake in the middle ground with light glinting on it."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    cx = rng.uniform(0.4, 0.6) * w
    canvas.disc(cx, y, 0.42 * w, 0.07 * h, (*canvas.lit(colour), 255), edge=True)
    for k in range(5):
        gx = cx + rng.uniform(-0.3, 0.3) * w
        gy = y + rng.uniform(-0.03, 0.04) * h
        canvas.draw.line((gx, gy, gx + 0.05 * w, gy), fill=(255, 255, 255, 150),
                         width=max(1, h // 300))


def big_waves(canvas: Canvas, top: float, bottom: float) -> None:
    """Rolling waves with curling white crests across the sea."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    deep = (50, 100, 170)
    for row in range(4):
        y = top + (row + 1) * (bottom - top) / 4.5
        amp, count = (0.03 + 0.015 * row) * h, 4 + row
        colour = canvas.lit(mix(deep, (95, 165, 210), row / 3))
        crests = []
        for k in range(count * 8 + 1):
            x = k * w / (count * 8)
            crests.append((x, y - amp * abs(math.sin(math.pi * k / 8 + rng.random() * 0.2))))
        canvas.shape([(0, h), *crests, (w, h)], colour, edge=False)
        foam = (*canvas.lit((245, 250, 255)), 230)
        for k in range(count):
            x = (k + 0.5) * w / count
            canvas.draw.arc((x - 0.6 * amp, y - 1.3 * amp, x + 0.6 * amp, y - 0.1 * amp), 180, 40,
                            fill=foam, width=max(2, h // 160))


def starfield(canvas: Canvas, bottom: float, count: int) -> None:
    """Twinkling stars, some with a cross-shaped sparkle."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for index in range(count):
        x, y = rng.uniform(0, w), rng.uniform(0, bottom)
        r = rng.uniform(0.6, 2.2) * h / 720
        canvas.disc(x, y, r, r, (255, 250, 220, rng.randint(150, 255)))
        if index % 9 == 0:
            s = 4 * r
            for line in ((x - s, y, x + s, y), (x, y - s, x, y + s)):
                canvas.draw.line(line, fill=(255, 250, 220, 200), width=max(1, h // 720))


def planets(canvas: Canvas, bottom: float, colour: RGB | None) -> None:
    """Two or three planets, one with a ring."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    palette = [(230, 150, 90), (120, 170, 230), (200, 120, 200), (150, 210, 140)]
    for index in range(rng.randint(2, 3)):
        x, y = (0.15 + 0.35 * index + rng.uniform(-0.05, 0.05)) * w, rng.uniform(0.15, 0.6) * bottom
        r = rng.uniform(0.05, 0.09) * h
        fill = colour if colour and index == 0 else rng.choice(palette)
        canvas.disc(x, y, r, r, (*fill, 255), edge=True)
        canvas.disc(x - 0.3 * r, y - 0.3 * r, 0.45 * r, 0.35 * r, (*shade(fill, 0.4), 110))
        if index == 0:
            canvas.draw.arc((x - 1.8 * r, y - 0.45 * r, x + 1.8 * r, y + 0.45 * r), -20, 200,
                            fill=(*shade(fill, 0.3), 255), width=max(2, h // 150))


def moon_ground(canvas: Canvas, top: float, colour: RGB) -> None:
    """The grey, cratered surface of the moon, with the Earth rising above it."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    ex, ey, er = rng.uniform(0.15, 0.3) * w, 0.22 * h, 0.07 * h
    canvas.disc(ex, ey, er, er, (80, 140, 220, 255))
    for dx, dy, k in ((-0.3, -0.2, 0.35), (0.25, 0.2, 0.3)):
        canvas.disc(ex + dx * er, ey + dy * er, k * er, 0.7 * k * er, (110, 180, 100, 255))
    hills = [(x, top - 0.03 * h * math.sin(x / w * 5 + 0.7)) for x in np.linspace(0, w, 24)]
    canvas.shape([(0, h), *hills, (w, h)], colour)
    gradient_band = shade(colour, -0.2)
    for _ in range(9):
        x, y = rng.uniform(0, w), rng.uniform(top + 0.04 * h, h)
        r = rng.uniform(0.02, 0.05) * h * (0.6 + (y - top) / h)
        canvas.disc(x, y, 2.2 * r, 0.7 * r, (*gradient_band, 255), edge=True)
        canvas.disc(x + 0.2 * r, y + 0.1 * r, 1.8 * r, 0.5 * r, (*shade(colour, -0.05), 255))


def rocket(canvas: Canvas, x: float, base: float, tall: float, colour: RGB, flying: bool) -> None:
    """A round-nosed rocket with a window and fins; flames under it when it flies."""
    half = 0.16 * tall
    if flying:
        for k, (flame, length) in enumerate((((250, 160, 60), 0.34), ((255, 230, 120), 0.2))):
            canvas.draw.polygon([(x - half * (0.7 - 0.2 * k), base), (x, base + length * tall),
                                 (x + half * (0.7 - 0.2 * k), base)], fill=flame)
    fin = shade(colour, -0.15)
    for side in (-1, 1):
        canvas.shape([(x + side * half, base - 0.35 * tall), (x + side * 1.9 * half, base),
                      (x + side * half, base)], fin)
    canvas.shape([(x - half, base), (x - half, base - 0.62 * tall), (x + half, base - 0.62 * tall),
                  (x + half, base)], (240, 240, 245))
    canvas.shape([(x + half * math.cos(a), base - 0.6 * tall - 0.4 * tall * math.sin(a))
                  for a in np.linspace(0, math.pi, 16)], colour)
    canvas.shape([(x - half, base - 0.02 * tall), (x - half, base - 0.12 * tall),
                  (x + half, base - 0.12 * tall), (x + half, base - 0.02 * tall)], colour)
    canvas.disc(x, base - 0.4 * tall, 0.55 * half, 0.55 * half, (*canvas.lit((150, 210, 240)), 255),
                edge=True)
