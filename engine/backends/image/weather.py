"""Weather and lights in the sky for the procedural illustrator: storms, rainbows, aurora, wind."""

from __future__ import annotations

import math

import numpy as np

from engine.backends.image.looks import RGB, mix, shade
from engine.backends.image.scenery import Canvas

RAINBOW: tuple[RGB, ...] = ((230, 80, 80), (245, 150, 60), (250, 215, 70), (120, 195, 95),
                            (80, 150, 225), (140, 105, 200))


def dark_clouds(canvas: Canvas, bottom: float, storm: bool) -> None:
    """A heavy, low lid of grey clouds across the whole sky (darker in a storm)."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    base = (92, 96, 116) if storm else (135, 140, 158)
    for row, y in enumerate((0.02, 0.1, 0.2, 0.3)):
        colour = canvas.lit(shade(base, 0.12 * row) if row else shade(base, -0.15))
        count = 7 + row
        for k in range(count):
            x = (k + rng.uniform(-0.3, 0.3)) * w / (count - 1)
            s = rng.uniform(0.07, 0.11) * h
            cy = min(y + rng.uniform(-0.02, 0.03), bottom) * h
            for dx, dy, r in ((-1.1, 0.3, 0.85), (0, 0, 1.15), (1.1, 0.25, 0.9), (0, 0.5, 1.0)):
                canvas.disc(x + dx * s, cy + dy * s, r * s * 1.35, r * s, (*colour, 240))
        for _ in range(3 if row < 3 else 0):
            x, cy = rng.uniform(0, w), (y + 0.06) * h
            canvas.disc(x, cy, 0.12 * w, 0.02 * h, (*shade(colour, -0.2), 90))


def lightning(canvas: Canvas, bottom: float) -> None:
    """One or two zigzag bolts from the clouds, with a pale glow."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(rng.randint(1, 2)):
        x, y = rng.uniform(0.15, 0.85) * w, 0.2 * h
        points = [(x, y)]
        while y < bottom * h:
            x += rng.uniform(-0.04, 0.04) * w
            y += rng.uniform(0.05, 0.09) * h
            points.append((x, min(y, bottom * h)))
        canvas.draw.line(points, fill=(255, 250, 200, 70), width=max(3, h // 60), joint="curve")
        canvas.draw.line(points, fill=(255, 248, 170, 255), width=max(2, h // 180), joint="curve")


def rainbow(canvas: Canvas, horizon: float) -> None:
    """A soft rainbow arc standing on the horizon."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    cx, radius = rng.uniform(0.35, 0.65) * w, rng.uniform(0.42, 0.52) * w
    band = max(2, round(0.018 * h))
    for index, colour in enumerate(RAINBOW):
        r = radius - index * band
        canvas.draw.arc((cx - r, horizon - r, cx + r, horizon + r), 180, 360,
                        fill=(*canvas.lit(colour), 170), width=band)


def aurora(canvas: Canvas) -> None:
    """Green and violet curtains of light waving across a night sky."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    step = max(2, w // 160)
    for colour, top in (((110, 240, 170), 0.06), ((170, 130, 240), 0.13), ((120, 250, 210), 0.2)):
        phase, freq = rng.uniform(0, 6.3), rng.uniform(1.5, 3.0)
        for x in range(0, w, step):
            y = (top + 0.05 * math.sin(phase + freq * x / w * math.pi)) * h
            length = (0.1 + 0.05 * math.sin(x / w * 23 + phase)) * h
            canvas.draw.line((x, y, x, y + length), fill=(*colour, 38), width=step)
            canvas.draw.line((x, y, x, y + 0.3 * length), fill=(*shade(colour, 0.4), 40),
                             width=step)


def wind(canvas: Canvas) -> None:
    """Curling gusts and a few leaves blown across the picture."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(6):
        x, y = rng.uniform(-0.1, 0.8) * w, rng.uniform(0.15, 0.75) * h
        length = rng.uniform(0.2, 0.35) * w
        points = [(x + t * length, y + 0.02 * h * math.sin(t * 7)) for t in np.linspace(0, 1, 16)]
        ex, ey = points[-1]
        curl = [(ex + 0.025 * h * math.cos(a), ey - 0.025 * h + 0.025 * h * math.sin(a))
                for a in np.linspace(math.pi / 2, 2.4 * math.pi, 12)]
        canvas.draw.line([*points, *curl], fill=(255, 255, 255, 170), width=max(1, h // 240),
                         joint="curve")
    leaves(canvas, ((120, 175, 85), (180, 200, 90)), 10)


def leaves(canvas: Canvas, colours: tuple[RGB, ...], count: int) -> None:
    """Leaves tumbling through the air."""
    rng, w, h = canvas.rng, canvas.w, canvas.h
    for _ in range(count):
        x, y, r = rng.uniform(0, w), rng.uniform(0.1, 0.9) * h, rng.uniform(0.008, 0.014) * h
        angle = rng.uniform(0, math.pi)
        colour = canvas.lit(rng.choice(colours))
        points = [(x + r * 1.8 * math.cos(angle + t) * (1 if k % 2 else 0.45),
                   y + r * 1.8 * math.sin(angle + t) * (1 if k % 2 else 0.45))
                  for k, t in enumerate(np.linspace(0, 2 * math.pi, 9)[:-1])]
        canvas.draw.polygon(points, fill=(*colour, 235), outline=(*shade(colour, -0.3), 255))


def fog(pixels: np.ndarray, amount: float = 0.55) -> np.ndarray:
    """Pale mist thickest near the ground, thinning towards the top (on the finished pixels)."""
    height = pixels.shape[0]
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    veil = amount * np.clip(0.35 + 0.9 * (t - 0.35), 0.25, 1.0)
    mist = np.array(mix((220, 225, 232), (255, 255, 255), 0.2), np.float32)
    return pixels * (1 - veil) + mist * veil
