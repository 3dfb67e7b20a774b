"""Picture-book figures for the procedural illustrator: one drawer per kind of character."""

from __future__ import annotations

import math
from typing import Callable

from PIL import ImageDraw

from engine.backends.image.looks import RGB, Look, mix, shade
from engine.backends.image.pen import INK, WHITE, Head, Pen, accessories, face, gesture

FLYING = frozenset({"moon", "sun", "star", "butterfly", "bee"})
"""Kinds drawn in the sky rather than standing on the ground."""

WIDTH = {"snail": 1.0, "fish": 0.95, "dragon": 1.5, "turtle": 0.95, "frog": 0.8, "moon": 1.05,
         "sun": 1.1, "butterfly": 0.9, "sheep": 0.8}
"""A figure's width as a fraction of its height (default 0.7), for spacing figures apart."""

def _animal(pen: Pen, look: Look) -> Head:
    kind, body, accent = look.kind, look.body, look.accent
    dark = shade(body, -0.2)
    head = Head(0.04, 0.68, 0.24)
    _tail(pen, kind, body, accent, dark)
    if kind == "sheep":
        for i in range(8):
            t = i * math.pi / 4
            pen.oval(0.2 * math.cos(t), 0.3 + 0.2 * math.sin(t), 0.13, 0.13, body)
    pen.oval(0, 0.27, 0.27, 0.27, body)
    pen.shine(-0.08, 0.36, 0.1, 0.08, body)
    if kind != "sheep":
        pen.oval(0.03, 0.22, 0.15, 0.17, accent, outline=False)
    if "clothes" in dict(look.parts):  # 'a fox in a yellow raincoat'
        coat = look.part("clothes", body)
        pen.poly([(-0.24, 0.1), (-0.2, 0.46), (0.2, 0.46), (0.25, 0.1)], coat)
        for y in (0.2, 0.32):
            pen.dot(0.05, y, 0.022, (*shade(coat, -0.35), 255))
    for x in (-0.12, 0.14):
        pen.oval(x, 0.03, 0.1, 0.05, dark)
    head_fill = accent if kind == "sheep" else body
    ear_fill = dark if kind in ("dog",) else body
    _ears(pen, kind, body, accent)
    pen.oval(head.x, head.y, head.r, head.r * 0.95, head_fill)
    pen.shine(head.x - 0.08, head.y + 0.08, 0.08, 0.06, head_fill)
    if kind in ("dog", "sheep"):
        for side in (-1, 1):
            pen.oval(0.04 + side * 0.23, 0.66, 0.07, 0.14, ear_fill if kind == "dog" else accent,
                     angle=side * -15)
    if kind in ("fox", "dog", "bear", "cat", "lion", "mouse"):
        pen.oval(0.08, 0.58, 0.11, 0.07, shade(head_fill, 0.45), outline=False)
        pen.oval(0.1, 0.61, 0.035, 0.025, INK, outline=False)
    if kind == "pig":
        pen.oval(0.08, 0.59, 0.09, 0.06, shade(body, -0.12))
        for side in (-1, 1):
            pen.dot(0.08 + side * 0.03, 0.59, 0.015, (*INK, 255))
    face(pen, head, look.cheeks)
    return head


def _tail(pen: Pen, kind: str, body: RGB, accent: RGB, dark: RGB) -> None:
    """The animal's tail (or a hedgehog's spikes), drawn first: the body goes over it."""
    if kind == "fox":
        pen.oval(-0.34, 0.26, 0.24, 0.1, body, angle=-35)
        pen.oval(-0.5, 0.38, 0.08, 0.05, accent, angle=-35)
    elif kind == "cat":
        pen.line([(-0.2, 0.12), (-0.38, 0.2), (-0.42, 0.42), (-0.34, 0.55)], dark, 0.05)
    elif kind in ("dog", "pig"):
        pen.oval(-0.3, 0.3, 0.1, 0.04, dark, angle=-40)
    elif kind in ("rabbit", "bear", "sheep"):
        pen.dot(-0.28, 0.18, 0.07, (*accent, 255) if kind == "rabbit" else (*dark, 255))
    elif kind == "hedgehog":
        spikes = [(-0.36 + 0.07 * i, 0.3 + 0.28 * math.sin(i * 0.35) + (0.1 if i % 2 else 0))
                  for i in range(11)]
        pen.poly([(-0.38, 0.05), *spikes, (0.36, 0.05)], accent)


def _ears(pen: Pen, kind: str, body: RGB, inner: RGB) -> None:
    """Ears that stand above the head (a lion's mane too), drawn before the head."""
    if kind == "rabbit":
        for side in (-1, 1):
            pen.oval(0.04 + side * 0.1, 1.0, 0.06, 0.2, body, angle=side * 8)
            pen.oval(0.04 + side * 0.1, 1.0, 0.03, 0.14, inner, angle=side * 8, outline=False)
    elif kind in ("fox", "cat"):
        for side in (-1, 1):
            ex = 0.04 + side * 0.15
            pen.poly([(ex - 0.09, 0.82), (ex + side * 0.03, 1.04), (ex + 0.09, 0.82)], body)
    elif kind in ("bear", "mouse", "lion", "pig"):
        if kind == "lion":
            pen.oval(0.04, 0.68, 0.36, 0.34, inner)
        r = 0.12 if kind == "mouse" else 0.08
        for side in (-1, 1):
            pen.oval(0.04 + side * 0.17, 0.86, r, r, body)
            pen.oval(0.04 + side * 0.17, 0.86, r * 0.55, r * 0.55, inner, outline=False)


def _owl(pen: Pen, look: Look) -> Head:
    body, accent, dark = look.body, look.accent, shade(look.body, -0.25)
    for side in (-1, 1):
        pen.poly([(side * 0.1, 0.68), (side * 0.24, 0.86), (side * 0.25, 0.62)], body)
    pen.oval(0, 0.4, 0.3, 0.4, body)
    pen.shine(-0.1, 0.55, 0.1, 0.1, body)
    for side in (-1, 1):
        pen.oval(side * 0.27, 0.36, 0.09, 0.22, dark, angle=side * 10)
    pen.oval(0, 0.28, 0.19, 0.22, accent, outline=False)
    for side in (-1, 1):
        pen.oval(side * 0.11, 0.56, 0.1, 0.1, WHITE)
        pen.dot(side * 0.11 + 0.02, 0.55, 0.05, (*INK, 255))
        pen.dot(side * 0.11 + 0.035, 0.57, 0.017, (*WHITE, 255))
    pen.poly([(-0.04, 0.49), (0.04, 0.49), (0, 0.42)], (240, 160, 60))
    for side in (-1, 1):
        pen.oval(side * 0.09, 0.02, 0.06, 0.03, (240, 160, 60))
    return Head(0, 0.56, 0.26)


def _bird(pen: Pen, look: Look) -> Head:
    body, accent = look.body, look.accent
    if look.kind == "penguin":
        pen.oval(0, 0.4, 0.26, 0.4, body)
        pen.oval(0.02, 0.34, 0.17, 0.3, accent, outline=False)
        for side in (-1, 1):
            pen.oval(side * 0.26, 0.38, 0.06, 0.18, shade(body, -0.2), angle=side * 20)
        head = Head(0.02, 0.6, 0.2)
    else:
        pen.poly([(-0.22, 0.32), (-0.46, 0.42), (-0.44, 0.24)], shade(body, -0.15))
        pen.oval(0, 0.3, 0.3, 0.25, body)
        pen.shine(-0.08, 0.38, 0.1, 0.07, body)
        pen.oval(-0.04, 0.3, 0.16, 0.1, shade(body, -0.2), angle=-15)
        head = Head(0.18, 0.55, 0.18)
        pen.oval(head.x, head.y, head.r, head.r, body)
    pen.poly([(head.x + 0.12, head.y - 0.02), (head.x + 0.28, head.y - 0.06),
              (head.x + 0.12, head.y - 0.1)], (245, 165, 50) if look.kind != "penguin" else accent)
    for x in (-0.06, 0.06):
        pen.line([(x, 0.06), (x, -0.02)], (230, 150, 60), 0.025)
    face(pen, Head(head.x - 0.02, head.y + 0.02, head.r * 0.9), look.cheeks)
    return head


def _snail(pen: Pen, look: Look) -> Head:
    body, shell = look.body, look.accent
    pen.oval(0.04, 0.08, 0.46, 0.09, body)
    pen.oval(0.36, 0.24, 0.1, 0.18, body, angle=-10)
    for dx in (-0.05, 0.05):
        pen.line([(0.37, 0.38), (0.37 + dx * 1.6, 0.56)], shade(body, -0.3), 0.02)
        pen.dot(0.37 + dx * 1.6, 0.57, 0.035, (*WHITE, 255))
        pen.dot(0.37 + dx * 1.6 + 0.01, 0.57, 0.018, (*INK, 255))
    pen.oval(-0.06, 0.4, 0.32, 0.32, shell)
    pen.shine(-0.16, 0.52, 0.1, 0.07, shell)
    spiral = [(-0.06 + 0.26 * (1 - t / 14) * math.cos(t * 0.9),
               0.4 + 0.26 * (1 - t / 14) * math.sin(t * 0.9)) for t in range(15)]
    pen.line(spiral, shade(shell, -0.35), 0.025)
    head = Head(0.36, 0.26, 0.11)
    face(pen, Head(head.x, head.y + 0.02, head.r), look.cheeks)
    return head


def _turtle(pen: Pen, look: Look) -> Head:
    body, shell = look.body, look.accent
    for x in (-0.24, 0.22):
        pen.oval(x, 0.06, 0.08, 0.07, body)
    pen.oval(0.4, 0.26, 0.15, 0.14, body)
    pen.poly([(-0.42, 0.1), (-0.36, 0.36), (-0.15, 0.5), (0.15, 0.5), (0.34, 0.36),
              (0.4, 0.1)], shell)
    pen.line([(-0.2, 0.12), (-0.12, 0.35), (0.12, 0.35), (0.2, 0.12)], shade(shell, -0.3), 0.02)
    head = Head(0.42, 0.28, 0.14)
    face(pen, head, look.cheeks)
    return head


def _sky_body(pen: Pen, look: Look) -> Head:
    body, kind = look.body, look.kind
    head = Head(0, 0.5, 0.42)
    pen.dot(0, 0.5, 0.62, (*shade(body, 0.3), 45))
    if kind == "sun":
        for i in range(12):
            t = i * math.pi / 6
            pen.poly([(0.5 * math.cos(t - 0.15), 0.5 + 0.5 * math.sin(t - 0.15)),
                      (0.62 * math.cos(t), 0.5 + 0.62 * math.sin(t)),
                      (0.5 * math.cos(t + 0.15), 0.5 + 0.5 * math.sin(t + 0.15))], look.accent)
    if kind == "star":
        points = [(0.5 * (1 if i % 2 == 0 else 0.45) * math.sin(i * math.pi / 5),
                   0.45 + 0.5 * (1 if i % 2 == 0 else 0.45) * math.cos(i * math.pi / 5))
                  for i in range(10)]
        pen.poly(points, body)
        head = Head(0, 0.42, 0.25)
    else:
        pen.oval(0, 0.5, 0.42, 0.42, body)
        pen.shine(-0.14, 0.66, 0.14, 0.1, body)
        if kind == "moon":
            for x, y, r in ((-0.22, 0.36, 0.06), (0.24, 0.64, 0.05), (-0.05, 0.78, 0.04)):
                pen.oval(x, y, r, r, (*shade(body, -0.25), 90), outline=False)
    face(pen, head, look.cheeks)
    return head


def _fish(pen: Pen, look: Look) -> Head:
    body, accent = look.body, look.accent
    pen.poly([(-0.32, 0.35), (-0.52, 0.52), (-0.52, 0.18)], shade(body, -0.1))
    pen.poly([(-0.1, 0.5), (0.05, 0.66), (0.12, 0.5)], shade(body, -0.1))
    pen.oval(0, 0.35, 0.38, 0.2, body)
    for x in (-0.12, 0.04):
        pen.oval(x, 0.35, 0.035, 0.17, accent, outline=False)
    pen.shine(0.08, 0.44, 0.12, 0.05, body)
    head = Head(0.2, 0.36, 0.14)
    face(pen, head, look.cheeks)
    return head


def _dragon(pen: Pen, look: Look) -> Head:
    body, accent, dark = look.body, look.accent, shade(look.body, -0.2)
    for reach in (-0.62, -0.36):
        pen.poly([(-0.02, 0.48), (reach, 1.0), (reach - 0.06, 0.78), (reach + 0.06, 0.68),
                  (reach + 0.04, 0.5), (reach + 0.2, 0.52), (0.1, 0.42)], mix(accent, body, 0.45))
    pen.poly([(-0.2, 0.15), (-0.6, 0.05), (-0.72, 0.2), (-0.2, 0.35)], body)
    for i in range(5):
        x = -0.25 + i * 0.12
        pen.poly([(x - 0.05, 0.5), (x, 0.62), (x + 0.05, 0.5)], accent)
    pen.oval(0, 0.3, 0.3, 0.26, body)
    pen.oval(0.04, 0.25, 0.17, 0.18, accent, outline=False)
    for x in (-0.14, 0.16):
        pen.oval(x, 0.04, 0.1, 0.06, dark)
    for side in (-1, 1):
        pen.poly([(0.18 + side * 0.07, 0.82), (0.16 + side * 0.12, 0.98), (0.22 + side * 0.1, 0.8)],
                 (250, 240, 210))
    head = Head(0.2, 0.7, 0.2)
    pen.oval(head.x, head.y, 0.2, 0.18, body)
    pen.oval(0.36, 0.64, 0.12, 0.08, body)
    pen.dot(0.44, 0.66, 0.014, (*INK, 255))
    face(pen, head, look.cheeks)
    return head


def _frog(pen: Pen, look: Look) -> Head:
    body, accent = look.body, look.accent
    for side in (-1, 1):
        pen.oval(side * 0.3, 0.08, 0.14, 0.07, shade(body, -0.15))
    pen.oval(0, 0.27, 0.36, 0.26, body)
    pen.oval(0, 0.2, 0.2, 0.15, accent, outline=False)
    for side in (-1, 1):
        pen.oval(side * 0.17, 0.5, 0.11, 0.11, body)
        pen.dot(side * 0.17, 0.51, 0.06, (*WHITE, 255))
        pen.dot(side * 0.17 + 0.01, 0.51, 0.035, (*INK, 255))
    arc = [(0.2 * math.cos(t), 0.36 - 0.07 * math.sin(t)) for t in
           (i * math.pi / 10 for i in range(11))]
    pen.line(arc, INK, 0.015)
    return Head(0, 0.42, 0.28)


def _flyer(pen: Pen, look: Look) -> Head:
    body, accent = look.body, look.accent
    if look.kind == "butterfly":
        for side in (-1, 1):
            pen.oval(side * 0.24, 0.6, 0.22, 0.18, body, angle=side * 20)
            pen.oval(side * 0.18, 0.32, 0.14, 0.12, body, angle=side * -20)
            pen.oval(side * 0.24, 0.6, 0.07, 0.06, accent, outline=False)
        pen.oval(0, 0.45, 0.05, 0.24, INK)
        head = Head(0, 0.7, 0.08)
    else:
        for side in (-1, 1):
            pen.oval(side * 0.1, 0.68, 0.12, 0.16, (255, 255, 255, 150), angle=side * -25,
                     outline=False)
        pen.oval(0, 0.45, 0.32, 0.24, body)
        for x in (-0.12, 0.02):
            pen.oval(x, 0.45, 0.04, 0.22, accent, outline=False)
        head = Head(0.2, 0.48, 0.14)
    face(pen, head, look.cheeks)
    return head


def _robot(pen: Pen, look: Look) -> Head:
    body, accent = look.body, look.accent
    pen.poly([(-0.22, 0.05), (-0.22, 0.5), (0.22, 0.5), (0.22, 0.05)], body)
    pen.poly([(-0.1, 0.2), (-0.1, 0.38), (0.1, 0.38), (0.1, 0.2)], accent)
    antenna = look.part("antenna", accent)
    pen.line([(0, 0.85), (0, 0.97)], shade(antenna, -0.3), 0.025)
    pen.dot(0, 0.99, 0.09, (*antenna, 70))
    pen.dot(0, 0.99, 0.045, (*antenna, 255))
    pen.poly([(-0.2, 0.52), (-0.2, 0.85), (0.2, 0.85), (0.2, 0.52)], body)
    head = Head(0, 0.68, 0.2)
    face(pen, head, look.cheeks, eye=look.part("eyes", accent))
    return head


def _person(pen: Pen, look: Look) -> Head:
    clothes, hair, skin = look.body, look.accent, look.skin
    head = Head(0, 0.74, 0.17)
    if look.kind == "girl":
        pen.oval(0, 0.7, 0.21, 0.22, hair)
    _legs(pen, skin, look.part("boots", INK))
    if look.kind == "girl":
        pen.poly([(-0.11, 0.56), (-0.23, 0.2), (0.23, 0.2), (0.11, 0.56)], clothes)
    else:
        pen.poly([(-0.14, 0.22), (-0.15, 0.56), (0.15, 0.56), (0.14, 0.22)], clothes)
        pen.poly([(-0.14, 0.16), (-0.14, 0.28), (0.14, 0.28), (0.14, 0.16)], shade(clothes, -0.3))
    pen.shine(-0.05, 0.45, 0.05, 0.07, clothes)
    for side in (-1, 1):
        pen.oval(side * 0.17, 0.4, 0.04, 0.14, shade(clothes, -0.08), angle=side * 12)
        pen.dot(side * 0.2, 0.27, 0.035, (*skin, 255))
    pen.oval(head.x, head.y, head.r, head.r, skin)
    hair_cap = [(0.18 * math.cos(t), 0.79 + 0.13 * math.sin(t))
                for t in (i * math.pi / 12 for i in range(13))]
    pen.poly(hair_cap, hair)
    if look.kind == "girl":
        for side in (-1, 1):
            pen.oval(side * 0.2, 0.66, 0.05, 0.09, hair)
    face(pen, Head(head.x, head.y - 0.03, head.r), look.cheeks, whites=True)
    return head


def _legs(pen: Pen, skin: tuple[int, int, int], boots: tuple[int, int, int]) -> None:
    """Standing legs, or, sitting, thighs forward over a stool and shins down to the ground."""
    if pen.pose == "sitting":
        pen.poly([(-0.16, 0.0), (-0.16, 0.2), (0.1, 0.2), (0.1, 0.0)], (170, 120, 85))
        for x in (-0.03, 0.03):
            pen.poly([(-0.06, 0.2 + x), (0.2, 0.2 + x), (0.2, 0.26 + x), (-0.06, 0.26 + x)], skin)
            pen.poly([(0.15, 0.0), (0.15, 0.23 + x), (0.21, 0.23 + x), (0.21, 0.0)], skin)
        pen.oval(0.21, 0.01, 0.06, 0.03, boots)
        return
    for x in (-0.07, 0.07):
        pen.poly([(x - 0.035, 0.0), (x - 0.035, 0.28), (x + 0.035, 0.28), (x + 0.035, 0.0)], skin)
        pen.oval(x + 0.02, 0.01, 0.06, 0.03, boots)


def _blob(pen: Pen, look: Look) -> Head:
    body, accent = look.body, look.accent
    for x in (-0.14, 0.14):
        pen.oval(x, 0.04, 0.09, 0.05, shade(body, -0.2))
    pen.oval(0, 0.38, 0.32, 0.36, body)
    pen.shine(-0.1, 0.52, 0.1, 0.08, body)
    for x, y in ((-0.15, 0.2), (0.18, 0.28), (-0.2, 0.45)):
        pen.oval(x, y, 0.05, 0.05, accent, outline=False)
    head = Head(0.02, 0.5, 0.24)
    face(pen, head, look.cheeks)
    return head


DRAWERS: dict[str, Callable[[Pen, Look], Head]] = {
    "owl": _owl, "bird": _bird, "penguin": _bird, "snail": _snail, "turtle": _turtle,
    "moon": _sky_body, "sun": _sky_body, "star": _sky_body, "fish": _fish, "dragon": _dragon,
    "frog": _frog, "butterfly": _flyer, "bee": _flyer, "robot": _robot, "girl": _person,
    "boy": _person, "child": _person, "blob": _blob,
}
"""Kinds not named here (fox, cat, dog, bear, rabbit, mouse, …) are drawn as sitting animals."""


_TILT = {"running": 12.0, "flying": 18.0, "hugging": 6.0, "sleeping": -90.0}
"""How far a pose leans the figure forward (degrees; sleeping lies on its back)."""


def draw_figure(draw: ImageDraw.ImageDraw, look: Look, cx: float, base: float, height: float,
                facing: int, grounded: bool = True, pose: str | None = None) -> None:
    """One character standing on `base` (pixels), `height` pixels tall, facing left or right,
    in a pose: running, flying, sleeping, waving, hugging, sitting, jumping or pointing (None:
    standing)."""
    width = WIDTH.get(look.kind, 0.7)
    if grounded:
        rx, ry = height * width * (0.75 if pose == "sleeping" else 0.45), height * 0.05
        if pose in ("flying", "jumping"):
            rx *= 0.6
        draw.ellipse((cx - rx, base - ry, cx + rx, base + ry), fill=(30, 20, 50, 60))
    lift = {"running": 0.04, "flying": 0.45 if grounded else 0.0, "sleeping": 0.5 * width,
            "jumping": 0.22 if grounded else 0.0,
            "sitting": 0.0 if look.kind in ("girl", "boy", "child") else 0.08}.get(pose or "", 0.0)
    x = cx + (facing * 0.45 * height if pose == "sleeping" else 0.0)
    pen = Pen(draw, x, base - lift * height, height, facing, _TILT.get(pose or "", 0.0), pose)
    if pose == "sitting" and lift:
        pen.oval(0, -0.03, 0.36 * width, 0.07, (200, 90, 100))
    if pose in ("running", "flying"):
        for y in (0.25, 0.45, 0.65):
            pen.line([(-0.45 * width - 0.05, y), (-0.45 * width - 0.3, y)], (255, 255, 255), 0.02)
    head = DRAWERS.get(look.kind, _animal)(pen, look)
    accessories(pen, look, head)
    gesture(pen, look, pose)
    if pose == "sleeping":  # z z z rising upright from the head, whichever way it lies
        upright = Pen(draw, *pen.at(head.x, head.y), height, 1)
        for k, size in enumerate((0.06, 0.08, 0.1)):
            zx, zy = 0.1 + 0.14 * k, 0.3 + 0.16 * k
            upright.line([(zx, zy + size), (zx + size, zy + size), (zx, zy), (zx + size, zy)],
                         (250, 250, 255), 0.02)


def heart(draw: ImageDraw.ImageDraw, x: float, y: float, r: float) -> None:
    """A small pink heart (two characters hugging)."""
    pen = Pen(draw, x, y, r, 1)
    pen.dot(-0.5, 0.0, 0.55, (240, 110, 140, 255))
    pen.dot(0.5, 0.0, 0.55, (240, 110, 140, 255))
    pen.poly([(-1.02, -0.15), (0.0, -1.4), (1.02, -0.15)], (240, 110, 140), outline=False)
