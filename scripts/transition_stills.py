"""Draw docs/transitions/<name>.png: each transition a quarter, half and three quarters through.

    PYTHONPATH=. .venv/bin/python scripts/transition_stills.py

The frames come from the editor's own code (`engine.backends.video.transitions`), between two
simple pictures, so the stills show exactly what a render does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.backends.video.transitions import DRAWERS, Planes, transition_frame
from engine.backends.video.yuv import TO_YUV_U8, rgb_to_yuv420

WIDTH, HEIGHT = 160, 90
STEPS = (0.25, 0.5, 0.75)
OUT = Path(__file__).resolve().parents[1] / "docs" / "transitions"


def picture(sky: tuple[int, int, int], ground: tuple[int, int, int], sun: bool) -> Planes:
    """A small landscape: sky, a hill, a sun or a moon."""
    image = Image.new("RGB", (WIDTH, HEIGHT), sky)
    draw = ImageDraw.Draw(image)
    draw.ellipse((-40, HEIGHT * 0.55, WIDTH + 40, HEIGHT * 1.6), fill=ground)
    x, r = (WIDTH * 0.75, 12) if sun else (WIDTH * 0.25, 9)
    draw.ellipse((x - r, 14 - r + 6, x + r, 14 + r + 6), fill=(250, 215, 90) if sun else (235, 235, 220))
    return rgb_to_yuv420(np.asarray(image))


def to_rgb(planes: Planes) -> np.ndarray:
    """yuv420p → RGB (nearest chroma), inverting the editor's BT.709 limited-range matrix."""
    y = planes[0].astype(np.float64)
    u, v = (p.repeat(2, axis=0).repeat(2, axis=1).astype(np.float64) for p in planes[1:])
    yuv = np.stack((y, u, v), axis=-1) - TO_YUV_U8[:, 3]
    rgb = yuv @ np.linalg.inv(TO_YUV_U8[:, :3]).T
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    day = picture((120, 190, 235), (90, 160, 70), sun=True)
    night = picture((25, 30, 75), (40, 70, 60), sun=False)
    gap = 4
    for name in DRAWERS:
        strip = Image.new("RGB", (len(STEPS) * (WIDTH + gap) - gap, HEIGHT), (255, 255, 255))
        for index, p in enumerate(STEPS):
            frame = to_rgb(transition_frame(name, day, night, p))
            strip.paste(Image.fromarray(frame), (index * (WIDTH + gap), 0))
        strip.save(OUT / f"{name.replace(' ', '-')}.png", optimize=True)


if __name__ == "__main__":
    main()
