"""When and where a scene's burned captions show: their frames (one entry per spoken word when
the word is highlighted), and the top or the bottom of the frame, whichever keeps them off the
picture's characters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from engine.backends.detail import detail, mean_in
from engine.backends.video.camera import camera_view, decoded
from engine.backends.video.caption_box import (CaptionStyle, caption_corner, caption_overlay,
                                               caption_size)
from engine.backends.video.framing import (CAMERA_KEEPS, PAN_FALLBACK, Box, around,
                                           subject_boxes)
from engine.captions import Cue, caption_text, display_words

PLACES = ("auto", "bottom", "top")
BUSIER = 2.0
"""Without subject boxes: captions go up when the bottom band has this much more detail."""


def caption_entries(cues: Sequence[Cue], first_frame: int, frames: int, fps: int,
                    highlight: bool) -> tuple[tuple[int, int, str, int], ...]:
    """The scene's captions as [first, end) frames (scene-relative), text and highlighted word;
    with `highlight`, a cue whose words are timed has an entry per word (the word marked from
    its start until the next word starts), else one entry marked -1."""
    entries = []
    for cue in cues:
        begin = max(_frame(cue.start, fps) - first_frame, 0)
        end = min(_frame(cue.end, fps) - first_frame, frames)
        text = caption_text(cue)
        if begin >= end or not text:
            continue
        if not (highlight and cue.words):
            entries.append((begin, end, text, -1))
            continue
        before = len(display_words(text)) - len(cue.words)  # the speaker's name, "Owl:"
        starts = [min(max(_frame(w.start, fps) - first_frame, begin), end) for w in cue.words]
        starts[0] = begin
        for index, start in enumerate(starts):
            stop = next((s for s in starts[index + 1:] if s > start), end)
            if start < stop and (not entries or entries[-1][1] <= start):
                entries.append((start, stop, text, before + index))
    return tuple(entries)


def _frame(seconds: float, fps: int) -> int:
    return math.ceil(seconds * fps - 1e-6)


def in_frame(box: Box, camera: str | None, keep: Box | None = None,
             fallback: Box | None = None) -> Box:
    """Where a box of the picture shows in the frame (fractions) over the camera's whole move
    (which `keep`, else `fallback`, frames, as the editor's does): the union of where it is at
    the move's two ends (zooms and pans move monotonically)."""
    seen = []
    for t in (0.0, 1.0):
        zoom, cx, cy = camera_view(camera, t, keep, fallback)
        left = min(max(cx - 0.5 / zoom, 0.0), 1 - 1 / zoom)
        top = min(max(cy - 0.5 / zoom, 0.0), 1 - 1 / zoom)
        seen.append(((box[0] - left) * zoom, (box[1] - top) * zoom,
                     (box[2] - left) * zoom, (box[3] - top) * zoom))
    return (min(b[0] for b in seen), min(b[1] for b in seen),
            max(b[2] for b in seen), max(b[3] for b in seen))


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def caption_bands(texts: Sequence[str], width: int, height: int, style: CaptionStyle
                  ) -> dict[bool, Box]:
    """The area the scene's captions take at the bottom (False) and at the top (True), as
    fractions of the frame: the widest and tallest of their boxes."""
    sizes = [caption_overlay(text, width, height, style).size for text in set(texts)]
    box_w, box_h = max(w for w, _ in sizes), max(h for _, h in sizes)
    bands = {}
    for top in (False, True):
        x, y = caption_corner(box_w, box_h, width, height, style, top)
        bands[top] = (x / width, y / height, (x + box_w) / width, (y + box_h) / height)
    return bands


BAND_ROWS = 2
"""The caption rows the picture keeps clear at the bottom (a line's caption is one or two)."""


def bottom_band_top(width: int, height: int, style: CaptionStyle, rows: int = BAND_ROWS
                    ) -> float:
    """Where a `rows`-row caption box at the bottom of a `width`×`height` frame begins, as a
    fraction of the height: measured by drawing one (each row a word wider than a row, so it
    wraps to exactly `rows`), so it is the box the editor burns in."""
    size = caption_size(width, height, style)
    word = "Åg" * max(4, width // size)
    box_w, box_h = caption_overlay(" ".join([word] * rows), width, height, style).size
    return caption_corner(box_w, box_h, width, height, style, False)[1] / height


def captions_on_top(image: Path, camera: str | None, texts: Sequence[str], width: int,
                    height: int, style: CaptionStyle, place: str = "auto") -> bool:
    """Whether the scene's captions go to the top: `place` says so, or (auto) the picture's
    characters would be under them at the bottom and less so at the top. A picture that does
    not say where its characters are is judged by its detail: the top when the bottom band is
    much busier (a cheap stand-in for "the subjects are low")."""
    if place != "auto" or not texts:
        return place == "top"
    bands = caption_bands(texts, width, height, style)
    noted = subject_boxes(image, width, height)
    if noted is not None:
        keep, title = around(noted, CAMERA_KEEPS), around(noted, PAN_FALLBACK)
        seen = [in_frame(box, camera, keep, title) for boxes in noted.values() for box in boxes]
        covered = {top: sum(_overlap(band, box) for box in seen) for top, band in bands.items()}
        return covered[False] > 0 and covered[True] < covered[False]
    energy = detail(decoded(image), width, height)
    busy = {top: mean_in(energy, band) for top, band in bands.items()}
    return busy[False] > BUSIER * busy[True]
