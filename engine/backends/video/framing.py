"""Where a picture's characters are (as its illustrator noted them) and camera moves that keep
every one of them whole in the frame."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from PIL import Image

from engine.backends.image import SUBJECTS

Box = tuple[float, float, float, float]
"""[x0, y0, x1, y1] as fractions of the picture (or of the frame)."""


def subject_boxes(image: Path, width: int, height: int) -> dict[str, list[Box]] | None:
    """The boxes an illustrator noted in the picture, by kind ("characters", "title"), as
    fractions of the picture fitted to a `width`×`height` frame (cover, centred: the editor's
    fit); None when it noted none."""
    with Image.open(image) as picture:
        stored = _note(picture, image)
        aspect = picture.width / picture.height
    if stored is None:
        return None
    shown_x = min(1.0, (width / height) / aspect)  # the part of the picture's width in frame
    shown_y = min(1.0, aspect / (width / height))

    def fitted(box: list[float]) -> Box:
        x0, y0, x1, y1 = (float(v) for v in box)
        return ((x0 - (1 - shown_x) / 2) / shown_x, (y0 - (1 - shown_y) / 2) / shown_y,
                (x1 - (1 - shown_x) / 2) / shown_x, (y1 - (1 - shown_y) / 2) / shown_y)

    return {kind: [fitted(box) for box in boxes] for kind, boxes in json.loads(stored).items()}


def _note(picture: Image.Image, image: Path) -> str | None:
    """The subjects note, read from the chunks before the pixels (where Pillow writes text) with
    no decoding; only a PNG with text after its pixels is decoded (Pillow reads that text then)."""
    stored = picture.info.get(SUBJECTS)
    if stored is None and picture.format == "PNG" and _text_after_pixels(image):
        stored = getattr(picture, "text", {}).get(SUBJECTS)
    return stored


def _text_after_pixels(png: Path) -> bool:
    """Whether a text chunk follows the PNG's image data (its chunk headers read, nothing else)."""
    with open(png, "rb") as handle:
        handle.seek(8)  # the signature
        pixels = False
        while len(header := handle.read(8)) == 8:
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IEND":
                break
            pixels = pixels or kind == b"IDAT"
            if pixels and kind in (b"tEXt", b"zTXt", b"iTXt"):
                return True
            handle.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
    return False


def around(noted: dict[str, list[Box]] | None, kinds: tuple[str, ...]) -> Box | None:
    """The smallest box inside the picture around every subject of `kinds` in `noted` (what
    `subject_boxes` read); None when none is noted."""
    boxes = [box for kind in kinds for box in (noted or {}).get(kind) or []]
    if not boxes:
        return None
    return (max(0.0, min(b[0] for b in boxes)), max(0.0, min(b[1] for b in boxes)),
            min(1.0, max(b[2] for b in boxes)), min(1.0, max(b[3] for b in boxes)))


def characters_in(image: Path, width: int, height: int,
                  kinds: tuple[str, ...] = ("characters",)) -> Box | None:
    """The smallest box around every character inside the picture (None: none noted), or
    around every subject of the given `kinds`."""
    return around(subject_boxes(image, width, height), kinds)


CAMERA_KEEPS = ("characters", "title")
"""What a camera move keeps whole in the frame: the characters, and a title the picture shows."""
PAN_FALLBACK = ("title",)
"""What a pan keeps whole when its window cannot hold all of CAMERA_KEEPS (a cast spread wider
than the window): the title banner, which is laid out narrower than the window."""


def camera_keeps(image: Path, width: int, height: int) -> Box | None:
    """The box a camera move keeps in the frame (None: the picture noted nothing)."""
    return characters_in(image, width, height, CAMERA_KEEPS)


def pan_fallback(image: Path, width: int, height: int) -> Box | None:
    """The box a pan keeps whole when its window cannot hold `camera_keeps`' (PAN_FALLBACK)."""
    return characters_in(image, width, height, PAN_FALLBACK)


def zoom_framing(keep: Box, most: float) -> tuple[float, float, float]:
    """(zoom, centre x, centre y) of the closest view, at most `most`×, that holds `keep`
    whole, centred as near the picture's centre as that allows."""
    zoom = max(1.0, min(most, 1 / max(keep[2] - keep[0], 1e-6), 1 / max(keep[3] - keep[1], 1e-6)))
    half = 0.5 / zoom
    return (zoom, _nearest(0.5, max(keep[2] - half, half), min(keep[0] + half, 1 - half)),
            _nearest(0.5, max(keep[3] - half, half), min(keep[1] + half, 1 - half)))


def pan_framing(keep: Box, zoom: float) -> tuple[float, float] | None:
    """The leftmost and rightmost window centres of a pan at `zoom` that hold `keep` whole
    (None: the characters are wider than the window)."""
    width = 1 / zoom
    low, high = max(keep[2] - width, 0.0), min(keep[0], 1 - width)
    if low > high + 1e-9:
        return None
    return low + width / 2, high + width / 2


def pan_height(keep: Box, zoom: float) -> float:
    """The vertical centre of a pan's window at `zoom` nearest the middle that holds `keep`
    whole top to bottom (a title near the top edge as well as the characters)."""
    half = 0.5 / zoom
    return _nearest(0.5, max(keep[3] - half, half), min(keep[1] + half, 1 - half))


def _nearest(value: float, low: float, high: float) -> float:
    return min(max(value, low), high) if low <= high else (low + high) / 2
