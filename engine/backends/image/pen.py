"""Drawing tools for procedural figures: a pen in figure units, faces, head accessories, arms."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import ImageDraw

from engine.backends.image.looks import RGB, Look, shade

INK = (60, 45, 60)
WHITE = (252, 250, 245)
_CHEEK = (245, 120, 130, 110)


@dataclass(frozen=True, slots=True)
class Head:
    """Where a figure's face sits (figure units: x right of centre, y up from the feet)."""

    x: float
    y: float
    r: float


class Pen:
    """Draws in figure units: x in heights from the centre (mirrored by `facing`), y up."""

    def __init__(self, draw: ImageDraw.ImageDraw, cx: float, base: float, size: float,
                 facing: int, tilt: float = 0.0, pose: str | None = None) -> None:
        self.draw, self.cx, self.base, self.s, self.f = draw, cx, base, size, facing
        self.width = max(1, round(size * 0.016))
        self.pose = pose
        turn = math.radians(tilt) * facing  # > 0 leans the figure forward, the way it faces
        self._cos, self._sin = math.cos(turn), math.sin(turn)

    def at(self, x: float, y: float) -> tuple[float, float]:
        u = self.f * x
        return (self.cx + (u * self._cos + y * self._sin) * self.s,
                self.base - (y * self._cos - u * self._sin) * self.s)

    def oval(self, x: float, y: float, rx: float, ry: float, fill: RGB | tuple[int, ...],
             angle: float = 0.0, outline: bool = True) -> None:
        steps = 28
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        points = []
        for i in range(steps):
            t = 2 * math.pi * i / steps
            px, py = rx * math.cos(t), ry * math.sin(t)
            points.append((x + px * c - py * s, y + px * s + py * c))
        self.poly(points, fill, outline)

    def poly(self, points: list[tuple[float, float]], fill: RGB | tuple[int, ...],
             outline: bool = True) -> None:
        edge = shade(fill[:3], -0.45) if outline and len(fill) == 3 else None
        self.draw.polygon([self.at(x, y) for x, y in points], fill=fill, outline=edge,
                          width=self.width if edge else 0)

    def line(self, points: list[tuple[float, float]], colour: RGB, width: float) -> None:
        self.draw.line([self.at(x, y) for x, y in points], fill=colour,
                       width=max(1, round(width * self.s)), joint="curve")

    def dot(self, x: float, y: float, r: float, fill: tuple[int, ...]) -> None:
        px, py = self.at(x, y)
        rr = r * self.s
        self.draw.ellipse((px - rr, py - rr, px + rr, py + rr), fill=fill)

    def shine(self, x: float, y: float, rx: float, ry: float, colour: RGB) -> None:
        """A soft light patch that makes a flat shape read as round."""
        self.oval(x, y, rx, ry, (*shade(colour, 0.5), 90), outline=False)


def face(pen: Pen, head: Head, cheeks: bool, eye: RGB = INK, whites: bool = False) -> None:
    x, y, r = head.x + 0.1 * head.r, head.y, head.r
    for side in (-1, 1):
        if pen.pose == "sleeping":  # closed eyes: little downward arcs
            lid = [(x + side * 0.38 * r + 0.13 * r * math.cos(t), y + 0.12 * r - 0.08 * r *
                    math.sin(t)) for t in (i * math.pi / 6 for i in range(7))]
            pen.line(lid, INK, 0.04 * r)
        else:
            if whites:
                pen.dot(x + side * 0.38 * r, y + 0.1 * r, 0.19 * r, WHITE)
            pen.dot(x + side * 0.38 * r, y + 0.1 * r, 0.13 * r, eye)
            pen.dot(x + side * 0.38 * r + 0.04 * r, y + 0.15 * r, 0.045 * r, WHITE)
        if cheeks:
            pen.oval(x + side * 0.62 * r, y - 0.22 * r, 0.16 * r, 0.1 * r, _CHEEK, outline=False)
    arc = [(x + 0.22 * r * math.cos(t), y - 0.25 * r - 0.14 * r * math.sin(t))
           for t in (i * math.pi / 8 for i in range(9))]
    pen.line(arc, INK, 0.035 * r)


def accessories(pen: Pen, look: Look, head: Head) -> None:
    x, y, r = head.x, head.y, head.r
    for name, colour in look.accessories:
        if name == "nightcap":
            pen.poly([(x - 0.95 * r, y + 0.5 * r), (x - 0.3 * r, y + 1.35 * r),
                      (x - 1.3 * r, y + 1.5 * r), (x + 0.1 * r, y + 1.2 * r),
                      (x + 0.95 * r, y + 0.5 * r)], colour)
            pen.oval(x, y + 0.5 * r, 1.0 * r, 0.18 * r, WHITE)
            pen.oval(x - 1.35 * r, y + 1.45 * r, 0.2 * r, 0.2 * r, WHITE)
        elif name == "hat":
            pen.poly([(x - 0.65 * r, y + 0.7 * r), (x - 0.55 * r, y + 1.5 * r),
                      (x + 0.55 * r, y + 1.5 * r), (x + 0.65 * r, y + 0.7 * r)], colour)
            pen.oval(x, y + 0.72 * r, 1.25 * r, 0.22 * r, colour)
        elif name == "cap":
            pen.oval(x + 0.6 * r, y + 0.72 * r, 0.55 * r, 0.14 * r, shade(colour, -0.2))
            cap = [(x + 0.9 * r * math.cos(t), y + 0.6 * r + 0.6 * r * math.sin(t))
                   for t in (i * math.pi / 10 for i in range(11))]
            pen.poly(cap, colour)
        elif name == "scarf":
            pen.poly([(x - 0.2 * r, y - 0.95 * r), (x - 0.35 * r, y - 1.9 * r),
                      (x + 0.05 * r, y - 1.9 * r), (x + 0.1 * r, y - 0.95 * r)],
                     shade(colour, -0.1))
            pen.oval(x, y - 0.95 * r, 0.95 * r, 0.24 * r, colour)
        elif name in ("bow", "ribbon"):
            bx, by = x + 0.65 * r, y + 0.8 * r
            for side in (-1, 1):
                pen.poly([(bx, by), (bx + side * 0.4 * r, by + 0.25 * r),
                          (bx + side * 0.4 * r, by - 0.25 * r)], colour)
        elif name == "crown":
            w, top = 0.6 * r, y + 0.85 * r
            pen.poly([(x - w, top), (x - w, top + 0.5 * r), (x - w / 2, top + 0.25 * r),
                      (x, top + 0.6 * r), (x + w / 2, top + 0.25 * r), (x + w, top + 0.5 * r),
                      (x + w, top)], colour)
        elif name == "glasses":
            ex = x + 0.1 * r
            for side in (-1, 1):
                ring = [(ex + side * 0.38 * r + 0.24 * r * math.cos(t),
                         y + 0.1 * r + 0.24 * r * math.sin(t)) for t in
                        (i * math.pi / 8 for i in range(17))]
                pen.line(ring, INK, 0.03 * r)
            pen.line([(ex - 0.14 * r, y + 0.12 * r), (ex + 0.14 * r, y + 0.12 * r)], INK, 0.03 * r)


def gesture(pen: Pen, look: Look, pose: str | None) -> None:
    """The arms a pose shows, over the body: waving, hugging, jumping, pointing."""
    if pose == "waving":
        _arm(pen, look, (0.28, 0.5), (0.42, 0.95))
        for k in (1, 2):
            pen.line([(0.5 + 0.05 * k, 0.85 + 0.08 * k * t) for t in (-1, 0, 1)], INK, 0.012)
    elif pose == "hugging":
        _arm(pen, look, (0.12, 0.48), (0.42, 0.5))
    elif pose == "jumping":  # both arms up, and little lines where the feet left the ground
        for side in (-1, 1):
            _arm(pen, look, (side * 0.2, 0.5), (side * 0.36, 0.92))
        for x in (-0.12, 0.0, 0.12):
            pen.line([(x, -0.06), (1.4 * x, -0.16)], INK, 0.012)
    elif pose == "pointing":  # one arm straight out the way the figure faces
        _arm(pen, look, (0.18, 0.5), (0.56, 0.56))
        hand = look.skin if look.kind in ("girl", "boy", "child") else look.body
        pen.line([(0.56, 0.56), (0.64, 0.575)], shade(hand, -0.35), 0.03)


def _arm(pen: Pen, look: Look, shoulder: tuple[float, float], hand: tuple[float, float]) -> None:
    person = look.kind in ("girl", "boy", "child")
    sleeve = shade(look.body, -0.08)
    pen.line([shoulder, hand], shade(sleeve, -0.35), 0.085)
    pen.line([shoulder, hand], sleeve, 0.06)
    pen.dot(*hand, 0.045, (*(look.skin if person else look.body), 255))
