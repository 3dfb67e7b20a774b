"""In landscape the procedural illustrator stands its figures above the caption band the editor
reports, so a two-row caption stays at the bottom and covers no figure; portrait is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from engine.backends.fonts import find_font
from engine.backends.image import SUBJECTS, CharacterLook, DrawRequest
from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.video.caption_plan import caption_bands, captions_on_top
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.backends.video.frames import CaptionStyle
from engine.captions import wrap
from engine.stages.draw import make_picture

CAST = (CharacterLook("Bea", "a little girl with a yellow dress"),
        CharacterLook("Fox", "a red fox", ("fox",)),
        CharacterLook("Owl", "a wise old owl with round glasses", ("owl",)),
        CharacterLook("Sam", "a tiny green snail with a yellow shell"))
TWO_ROWS = "Bea: Look, the fox has found the path through the tall grass!"
EDITOR = FFmpegEditor()
STYLE = CaptionStyle(find_font("DejaVuSans-Bold.ttf"))
"""The editor's captions (its default font and size)."""
W, H = 1280, 720


def drawn(tmp_path: Path, cast: tuple[CharacterLook, ...], width: int, height: int,
          band: float, setting: str = "a meadow in the morning", title: str = "The meadow"
          ) -> Path:
    request = DrawRequest("s", "", title, setting, "", cast, width, height, 11,
                          caption_band=band)
    out = tmp_path / f"{len(cast)}-{width}x{height}-{band}.png"
    make_picture(ProceduralIllustrator(supersample=1), request, out)
    return out


Box = tuple[float, float, float, float]


def faces(picture: Path) -> tuple[list[Box], list[Box]]:
    """Each figure's upper half (where its face is) and its whole box, as the illustrator
    noted them."""
    with Image.open(picture) as image:
        boxes = json.loads(image.text[SUBJECTS])["characters"]
    return [(x0, y0, x1, y0 + 0.5 * (y1 - y0)) for x0, y0, x1, y1 in boxes], boxes


def overlaps(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("setting", ["a meadow in the morning", "a beach by the sea"])
def test_landscape_figures_stand_above_a_two_row_caption(tmp_path: Path, count: int,
                                                          setting: str):
    assert len(wrap(TWO_ROWS, EDITOR.caption_fits(W, H))) == 2
    band = EDITOR.caption_band(W, H)
    assert 0.6 < band < 0.9
    picture = drawn(tmp_path, CAST[:count], W, H, band, setting)
    bottom = caption_bands([TWO_ROWS], W, H, STYLE)[False]
    assert bottom[1] >= band - 1e-9  # the picture was told of a band reaching this high
    face_boxes, boxes = faces(picture)
    assert len(boxes) == count
    assert not any(overlaps(bottom, face) for face in face_boxes)
    assert not any(overlaps(bottom, box) for box in boxes)  # whole figures, in fact
    assert not captions_on_top(picture, None, [TWO_ROWS], W, H, STYLE)


def test_without_the_band_figures_reach_into_it(tmp_path: Path):
    """What the band changes: told nothing, the same scene's figures stand lower."""
    band = EDITOR.caption_band(W, H)
    _, told = faces(drawn(tmp_path, CAST, W, H, band))
    _, untold = faces(drawn(tmp_path, CAST, W, H, 1.0))
    assert max(box[3] for box in untold) > band > max(box[3] for box in told)


def test_portrait_pictures_do_not_change(tmp_path: Path):
    band = EDITOR.caption_band(720, 1280)
    assert band < 1.0
    told, untold = tmp_path / "told", tmp_path / "untold"
    told.mkdir(), untold.mkdir()
    assert (drawn(told, CAST[:2], 720, 1280, band).read_bytes()
            == drawn(untold, CAST[:2], 720, 1280, 1.0).read_bytes())


def test_raised_figures_stay_clear_of_a_two_row_title(tmp_path: Path):
    """Figures raised over the caption band are made smaller rather than pushed up into the
    title's banner, however many rows the title takes."""
    title = "The long and winding path through the tall grass to the old oak tree by the river"
    dragon = (CharacterLook("Ember", "a huge dragon", ("dragon",)),)  # raised as far as any
    with Image.open(drawn(tmp_path, dragon, W, H, EDITOR.caption_band(W, H), title=title)) as image:
        notes = json.loads(image.text[SUBJECTS])
    (banner,) = notes["title"]
    (figure,) = notes["characters"]
    assert banner[3] > 0.2  # two rows reach below the one-row banner's 0.16
    assert not overlaps(banner, figure)
