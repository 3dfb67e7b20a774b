"""Burned captions: the spoken word highlighted, and captions kept off the characters (9:16)."""

from __future__ import annotations

import dataclasses
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile
from PIL.PngImagePlugin import PngInfo

from engine.backends.fonts import find_font
from engine.backends.image import SUBJECTS, CharacterLook, DrawRequest
from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.video import camera
from engine.backends.video.camera import PAN_ZOOM, camera_view
from engine.backends.video.caption_box import CaptionStyle, Overlay, caption_overlay
from engine.backends.video.caption_plan import (caption_bands, caption_entries, captions_on_top,
                                                in_frame)
from engine.backends.video.framing import (camera_keeps, characters_in, pan_fallback,
                                          subject_boxes)
from engine.captions import Cue, Word
from engine.stages.draw import make_picture

FONT = find_font("DejaVuSans-Bold.ttf")
YELLOW = (255, 214, 80, 255)


def yellow_columns(overlay: Overlay) -> np.ndarray:
    """Columns of the caption box where yellow text is: blue-difference chroma well under grey."""
    frame = (np.full((360, 640), 128, np.uint8), np.full((180, 320), 128, np.uint8),
             np.full((180, 320), 128, np.uint8))
    planes = tuple(p.copy() for p in frame)
    overlay.draw_on(planes)
    return np.flatnonzero((planes[1] < 100).any(axis=0)) * 2


def test_the_marked_word_alone_is_yellow_and_the_box_never_moves():
    style = CaptionStyle(font=FONT, highlight=YELLOW)
    text = "Owl: Where are you, little fox?"
    plain = caption_overlay(text, 640, 360, style)
    assert yellow_columns(plain).size == 0
    spans = []
    for marked in range(6):
        overlay = caption_overlay(text, 640, 360, style, marked)
        assert (overlay.x, overlay.y, overlay.size) == (plain.x, plain.y, plain.size)
        columns = yellow_columns(overlay)
        spans.append((columns.min(), columns.max()))
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))  # left to right, apart
    assert spans[4][1] - spans[4][0] > spans[2][1] - spans[2][0]  # "little" is wider than "are"
    cjk = CaptionStyle(font=find_font("NotoSansCJK-Bold.ttc") or FONT, highlight=YELLOW)
    assert yellow_columns(caption_overlay("你好小狐狸", 640, 360, cjk, 2)).size > 0


def test_a_highlighted_cue_changes_with_each_word():
    words = (Word(1.0, 1.3, "Where"), Word(1.3, 1.5, "are"), Word(1.5, 1.52, "you?"))
    cue = Cue(1.0, 2.0, "Where are you?", "Owl", words)
    entries = caption_entries([cue], first_frame=10, frames=100, fps=10, highlight=True)
    assert entries == ((0, 3, "Owl: Where are you?", 1), (3, 5, "Owl: Where are you?", 2),
                       (5, 10, "Owl: Where are you?", 3))  # word 0 is the speaker's name
    assert caption_entries([cue], 10, 100, 10, highlight=False) == ((0, 10, "Owl: Where are you?",
                                                                     -1),)
    untimed = dataclasses.replace(cue, words=())
    assert caption_entries([untimed], 10, 100, 10, highlight=True)[0][3] == -1
    fast = dataclasses.replace(cue, start=0.91, words=(
        Word(0.91, 0.95, "Where"), Word(0.95, 1.0, "are"), Word(1.5, 2.0, "you?")))
    # "Where" and "are" start in the same frame: "Where" shows it, "are" is never marked
    assert [e[3] for e in caption_entries([fast], 10, 100, 10, True)] == [1, 3]


def picture_of(tmp_path: Path, width: int, height: int, characters=("a small red fox",
                                                                    "a grey owl"),
               title: str = "Night Walk") -> Path:
    request = DrawRequest("hill", "Pip and Owl on a hill", title, "a green hill at night",
                          "", tuple(CharacterLook(f"c{i}", d) for i, d in enumerate(characters)),
                          width, height, 1)
    out = tmp_path / f"{width}x{height}-{len(characters)}-{len(title)}.png"
    make_picture(ProceduralIllustrator(texture=0), request, out)
    return out


def test_the_procedural_boxes_hold_every_pixel_of_the_characters(tmp_path: Path):
    cast, empty = picture_of(tmp_path, 180, 320), picture_of(tmp_path, 180, 320, ())
    noted = subject_boxes(cast, 180, 320)
    assert noted is not None and len(noted["characters"]) == 2 and len(noted["title"]) == 1
    boxes = noted["characters"]
    drawn = np.abs(np.asarray(Image.open(cast), float) - np.asarray(Image.open(empty), float))
    ys, xs = np.nonzero(drawn.sum(axis=2) > 80)  # the faint ground shadows are left out
    inside = np.zeros(len(xs), bool)
    for x0, y0, x1, y1 in boxes:
        inside |= ((xs >= x0 * 180 - 1) & (xs <= x1 * 180 + 1)
                   & (ys >= y0 * 320 - 1) & (ys <= y1 * 320 + 1))
    assert inside.all()
    assert min(b[1] for b in boxes) * 320 == pytest.approx(ys.min(), abs=2)  # tight on top


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.mark.parametrize("camera", [None, "slow zoom in", "pan left"])
def test_in_9_16_captions_leave_the_characters_and_title_uncovered(tmp_path: Path, camera):
    width, height = 360, 640
    image = picture_of(tmp_path, width, height)
    style = CaptionStyle(font=FONT)
    texts = ["Where are you, little fox? It is getting dark on the hill.", "Here!"]
    assert captions_on_top(image, camera, texts, width, height, style)
    band = caption_bands(texts, width, height, style)[True]
    keep = characters_in(image, width, height)
    boxes = [box for kind in subject_boxes(image, width, height).values() for box in kind]
    assert len(boxes) == 3  # two characters and the title ribbon
    for box in boxes:
        assert not overlaps(band, in_frame(box, camera, keep)), box
    bottom = caption_bands(texts, width, height, style)[False]
    assert any(overlaps(bottom, in_frame(box, camera, keep)) for box in boxes)
    assert not captions_on_top(image, camera, texts, width, height, style, "bottom")


def test_in_16_9_the_bottom_band_is_free_and_captions_stay_there(tmp_path: Path):
    image = picture_of(tmp_path, 640, 360)
    style = CaptionStyle(font=FONT)
    assert not captions_on_top(image, None, ["Goodnight, hill."], 640, 360, style)
    assert captions_on_top(image, None, ["Goodnight, hill."], 640, 360, style, "top")


def test_a_zoom_moves_a_box_out_from_the_centre():
    box = (0.6, 0.6, 0.7, 0.7)
    assert in_frame(box, None) == box
    zoomed = in_frame(box, "slow zoom in")
    assert zoomed[0] == pytest.approx(0.6) and zoomed[2] == pytest.approx(0.5 + 0.2 * 1.15)


def test_without_boxes_a_busy_bottom_sends_captions_up(tmp_path: Path):
    plain = Image.new("RGB", (640, 360), (120, 170, 230))
    busy = plain.copy()
    draw = ImageDraw.Draw(busy)
    for x in range(0, 640, 6):  # stripes where the bottom caption would go
        draw.line((x, 250, x, 359), fill=(20, 20, 20), width=2)
    plain.save(tmp_path / "plain.png")
    busy.save(tmp_path / "busy.png")
    style = CaptionStyle(font=FONT)
    assert subject_boxes(tmp_path / "busy.png", 640, 360) is None
    assert captions_on_top(tmp_path / "busy.png", None, ["Hello there."], 640, 360, style)
    assert not captions_on_top(tmp_path / "plain.png", None, ["Hello there."], 640, 360, style)


@pytest.mark.parametrize("camera", ["pan left", "pan right", "slow zoom in", "slow zoom out"])
def test_camera_moves_keep_every_character_whole(tmp_path: Path, camera: str):
    image = picture_of(tmp_path, 640, 360, ("a small red fox", "a grey owl", "a white rabbit",
                                            "a brown bear"))
    keep = characters_in(image, 640, 360)
    assert keep[0] < 1 - 1 / 1.12 or keep[2] > 1 / 1.12  # a plain pan would cut someone off
    cut_off = [box for box in subject_boxes(image, 640, 360)["characters"]
               for t in (0.0, 1.0) if not inside(in_frame_at(box, camera, t, None))]
    assert cut_off or "zoom" in camera
    for box in subject_boxes(image, 640, 360)["characters"]:
        clipped = (max(box[0], 0.0), max(box[1], 0.0), min(box[2], 1.0), min(box[3], 1.0))
        for t in (0.0, 0.3, 0.7, 1.0):
            assert inside(in_frame_at(clipped, camera, t, keep)), (camera, t, box)
    moves = [camera_view(camera, t, keep) for t in (0.0, 1.0)]
    assert moves[0] != moves[1]  # it still moves


@pytest.mark.parametrize("camera", ["pan left", "pan right", "slow zoom in", "slow zoom out"])
def test_camera_moves_keep_the_title_banner_whole_too(tmp_path: Path, camera: str):
    """A picture's title is read: a zoom or pan keeps it in the frame with the characters."""
    image = picture_of(tmp_path, 640, 360)
    [title] = subject_boxes(image, 640, 360)["title"]
    keep = camera_keeps(image, 640, 360)
    assert keep == characters_in(image, 640, 360, ("characters", "title"))
    for t in (0.0, 0.3, 0.7, 1.0):
        assert inside(in_frame_at(title, camera, t, keep)), (camera, t, title)
    cut_without = [t for t in (0.0, 1.0) if not inside(in_frame_at(
        title, camera, t, characters_in(image, 640, 360)))]
    assert cut_without or "pan" not in camera  # keeping the characters alone cut it off
    assert camera_view(camera, 0.0, keep) != camera_view(camera, 1.0, keep)  # it still moves


@pytest.mark.parametrize("camera", ["pan left", "pan right", "slow zoom in", "slow zoom out"])
@pytest.mark.parametrize("title", ["The big puddle",
                                   "Une très longue promenade dans la grande forêt enchantée"])
def test_in_9_16_camera_moves_keep_the_banner_whole_whatever_the_cast(tmp_path: Path,
                                                                      camera: str, title: str):
    """A portrait banner is laid out narrower than a pan's window, so a pan keeps it whole even
    where it cannot keep every character too (a cast spread across the picture)."""
    width, height = 270, 480
    cast = ("a small red fox", "a grey owl", "a white rabbit", "a brown bear")
    image = picture_of(tmp_path, width, height, cast, title)
    [banner] = subject_boxes(image, width, height)["title"]
    assert banner[2] - banner[0] < 1 / PAN_ZOOM
    keep, title_box = camera_keeps(image, width, height), pan_fallback(image, width, height)
    assert title_box == pytest.approx(banner)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert inside(in_frame_at(banner, camera, t, keep, title_box)), (camera, t, banner)
    assert camera_view(camera, 0.0, keep, title_box) != camera_view(camera, 1.0, keep, title_box)


@pytest.mark.parametrize("camera", ["pan left", "pan right"])
def test_a_pan_that_cannot_keep_the_whole_cast_keeps_the_title(camera: str):
    keep, title = (0.01, 0.02, 0.99, 0.95), (0.1, 0.02, 0.86, 0.1)  # cast wider than the window
    assert not all(inside(in_frame_at(title, camera, t, keep)) for t in (0.0, 1.0))
    for t in (0.0, 0.3, 0.7, 1.0):
        assert inside(in_frame_at(title, camera, t, keep, title)), (camera, t)
    assert camera_view(camera, 0.0, keep, title) != camera_view(camera, 1.0, keep, title)
    assert camera_view(camera, 0.5, (0.3, 0.2, 0.7, 0.9), title) == camera_view(
        camera, 0.5, (0.3, 0.2, 0.7, 0.9))  # a cast the window holds: the fallback is unused


def in_frame_at(box, camera, t, keep, fallback=None):
    zoom, cx, cy = camera_view(camera, t, keep, fallback)
    left = min(max(cx - 0.5 / zoom, 0.0), 1 - 1 / zoom)
    top = min(max(cy - 0.5 / zoom, 0.0), 1 - 1 / zoom)
    return ((box[0] - left) * zoom, (box[1] - top) * zoom, (box[2] - left) * zoom,
            (box[3] - top) * zoom)


def inside(box) -> bool:
    return box[0] >= -1e-6 and box[2] <= 1 + 1e-6 and box[1] >= -1e-6 and box[3] <= 1 + 1e-6


def test_the_subjects_note_is_read_without_decoding_the_picture(tmp_path: Path, monkeypatch):
    """Where the characters are is read from the PNG's text chunks alone (a scene's picture is
    asked three times per cut); a note after the pixels, as another tool may write it, still is."""
    note = json.dumps({"characters": [[0.25, 0.5, 0.75, 1.0]]})
    notes = PngInfo()
    notes.add_text(SUBJECTS, note)
    picture = Image.new("RGB", (64, 36), (10, 20, 30))
    picture.save(tmp_path / "before.png", pnginfo=notes)
    picture.save(tmp_path / "plain.png")
    body = SUBJECTS.encode("latin-1") + b"\0" + note.encode("latin-1")
    chunk = (struct.pack(">I", len(body)) + b"tEXt" + body
             + struct.pack(">I", zlib.crc32(b"tEXt" + body)))
    plain = (tmp_path / "plain.png").read_bytes()
    (tmp_path / "after.png").write_bytes(plain[:-12] + chunk + plain[-12:])  # before IEND
    expected = {"characters": [(0.25, 0.5, 0.75, 1.0)]}

    def no_decoding(self):
        raise AssertionError("the picture was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert subject_boxes(tmp_path / "before.png", 64, 36) == expected
    assert subject_boxes(tmp_path / "plain.png", 64, 36) is None
    monkeypatch.undo()
    assert subject_boxes(tmp_path / "after.png", 64, 36) == expected


def test_a_picture_is_decoded_once_for_its_captions_place_and_its_frames(tmp_path: Path):
    busy = Image.new("RGB", (640, 360), (120, 170, 230))
    ImageDraw.Draw(busy).rectangle((0, 250, 639, 359), fill=(20, 20, 20))
    busy.save(tmp_path / "busy.png")
    camera._decoded.cache_clear()
    captions_on_top(tmp_path / "busy.png", "slow zoom in", ["Hello there."], 640, 360,
                    CaptionStyle(font=FONT))
    camera.picture(tmp_path / "busy.png", 640, 360, "slow zoom in").at(0.5)
    assert camera._decoded.cache_info().misses == 1
