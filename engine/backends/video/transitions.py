"""Transitions between scenes, drawn on YUV 4:2:0 planes: how a scene's tail turns into the next.

Each takes the outgoing frame, the incoming scene's first frame and the progress `p` ∈ (0, 1),
and returns a new frame. Edges (wipes, circles, slides) sit at sub-pixel positions and are
anti-aliased by pixel coverage, so they glide instead of stepping a whole pixel at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import cv2
import numpy as np

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Y at full size, Cb and Cr at half size, uint8 arrays (rows × columns)."""

BLACK = (16, 128, 128)
"""Limited-range black, per plane."""
DISSOLVE_SOFTNESS = 0.15
"""A dissolving pixel takes this fraction of the transition to turn over (0: a hard switch)."""


def shift(plane: np.ndarray, offset: float, width: int) -> np.ndarray:
    """The `width` columns of `plane` starting at the (fractional) column `offset`."""
    whole = int(np.floor(offset))
    part = offset - whole
    if part < 1e-9:  # a copy, always: captions are drawn on it, and `plane` may be shared
        return plane[:, whole:whole + width].copy()
    return cv2.addWeighted(plane[:, whole:whole + width], 1.0 - part,
                           plane[:, whole + 1:whole + 1 + width], part, 0.0)


def _shift_rows(plane: np.ndarray, offset: float, height: int) -> np.ndarray:
    whole = int(np.floor(offset))
    part = offset - whole
    if part < 1e-9:
        return np.ascontiguousarray(plane[whole:whole + height])
    return cv2.addWeighted(plane[whole:whole + height], 1.0 - part,
                           plane[whole + 1:whole + 1 + height], part, 0.0)


def _mix(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """a where `weight` is 0, b where it is 1 (float32, the planes' size), blended between."""
    return cv2.blendLinear(a, b, 1.0 - weight, weight)


def _per_plane(frame: Planes, draw: Callable[[int, np.ndarray], np.ndarray]) -> Planes:
    return tuple(draw(index, plane) for index, plane in enumerate(frame))  # type: ignore[return-value]


def crossfade(a: Planes, b: Planes, p: float) -> Planes:
    return _per_plane(a, lambda i, plane: cv2.addWeighted(plane, 1.0 - p, b[i], p, 0.0))


def fade_through_black(a: Planes, b: Planes, p: float) -> Planes:
    """The first half fades the outgoing picture to black, the second brings the next one up."""
    source, level = (a, 1.0 - 2 * p) if p < 0.5 else (b, 2 * p - 1.0)
    return _per_plane(source, lambda i, plane: cv2.addWeighted(
        plane, level, plane, 0.0, BLACK[i] * (1.0 - level)))


@cache
def _noise(height: int, width: int) -> np.ndarray:
    """Each pixel's turn in a dissolve: fixed, so the same frames come out every time."""
    return np.random.default_rng(20240601).random((height, width), dtype=np.float32)


def dissolve(a: Planes, b: Planes, p: float) -> Planes:
    """Pixels turn over one by one, in a fixed random order."""
    reach = p * (1.0 + DISSOLVE_SOFTNESS)

    def draw(index: int, plane: np.ndarray) -> np.ndarray:
        noise = _noise(*a[0].shape)
        if index:
            noise = np.ascontiguousarray(noise[::2, ::2])
        weight = np.clip((reach - noise) / DISSOLVE_SOFTNESS, 0.0, 1.0)
        return _mix(plane, b[index], weight)

    return _per_plane(a, draw)


def _wipe(direction: str) -> Callable[[Planes, Planes, float], Planes]:
    """The next picture is uncovered by an edge moving `direction` across the frame."""
    def wipe(a: Planes, b: Planes, p: float) -> Planes:
        def draw(index: int, plane: np.ndarray) -> np.ndarray:
            height, width = plane.shape
            horizontal = direction in ("left", "right")
            length = width if horizontal else height
            edge = p * length
            position = np.arange(length, dtype=np.float32)
            # the share of each pixel [x, x+1] the next picture covers
            if direction in ("left", "up"):
                cover = np.clip(position + 1.0 - (length - edge), 0.0, 1.0)
            else:
                cover = np.clip(edge - position, 0.0, 1.0)
            shape = (1, width) if horizontal else (height, 1)
            weight = np.ascontiguousarray(np.broadcast_to(cover.reshape(shape), plane.shape))
            return _mix(plane, b[index], weight)

        return _per_plane(a, draw)

    return wipe


def _slide(direction: str) -> Callable[[Planes, Planes, float], Planes]:
    """Both pictures move `direction`: the outgoing one leaves, the next one comes in behind."""
    def slide(a: Planes, b: Planes, p: float) -> Planes:
        def draw(index: int, plane: np.ndarray) -> np.ndarray:
            height, width = plane.shape
            if direction in ("left", "right"):
                first, second = (plane, b[index]) if direction == "left" else (b[index], plane)
                offset = p * width if direction == "left" else (1.0 - p) * width
                return shift(np.hstack((first, second)), offset, width)
            first, second = (plane, b[index]) if direction == "up" else (b[index], plane)
            offset = p * height if direction == "up" else (1.0 - p) * height
            return _shift_rows(np.vstack((first, second)), offset, height)

        return _per_plane(a, draw)

    return slide


@cache
def _distances(height: int, width: int) -> np.ndarray:
    """Each pixel centre's distance from the frame's centre, in pixels."""
    ys = np.arange(height, dtype=np.float32) + 0.5 - height / 2
    xs = np.arange(width, dtype=np.float32) + 0.5 - width / 2
    return np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)


def _circle(opening: bool) -> Callable[[Planes, Planes, float], Planes]:
    """Open: the next picture shows through a circle growing from the centre. Close: the
    outgoing picture shrinks into a circle at the centre, the next one around it."""
    def circle(a: Planes, b: Planes, p: float) -> Planes:
        def draw(index: int, plane: np.ndarray) -> np.ndarray:
            height, width = plane.shape
            reach = float(np.hypot(height, width)) / 2 + 1.0
            radius = (p if opening else 1.0 - p) * reach
            inside = np.clip(radius - _distances(height, width) + 0.5, 0.0, 1.0)
            return _mix(plane, b[index], inside if opening else 1.0 - inside)

        return _per_plane(a, draw)

    return circle


DRAWERS: dict[str, Callable[[Planes, Planes, float], Planes]] = {
    "crossfade": crossfade,
    "dissolve": dissolve,
    "fade through black": fade_through_black,
    **{f"wipe {d}": _wipe(d) for d in ("left", "right", "up", "down")},
    **{f"slide {d}": _slide(d) for d in ("left", "right", "up", "down")},
    "circle open": _circle(True),
    "circle close": _circle(False),
}
"""Every transition with frames of its own (`cut` has none), by its name in the language."""


def transition_frame(name: str, outgoing: Planes, incoming: Planes, p: float) -> Planes:
    """The frame `p` ∈ (0, 1) of the way through transition `name` (a new frame)."""
    try:
        draw = DRAWERS[name]
    except KeyError:
        raise ValueError(f"unknown transition {name!r}; known: {', '.join(DRAWERS)}") from None
    return draw(outgoing, incoming, p)
