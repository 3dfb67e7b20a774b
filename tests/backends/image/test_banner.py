"""The title banner's layout: one row when it fits, else two (at word boundaries), a little
smaller if need be, and cut with "…" only when even that fails, always narrower than a pan's
window; what the illustrator says about it."""

from __future__ import annotations

import json

import pytest

from engine.backends.image import SUBJECTS, DrawRequest
from engine.backends.image.banner import ROWS, SPAN, layout, text_room
from engine.backends.image.procedural import (
    TITLE_FONTS,
    ProceduralIllustrator,
    title_chain,
)
from engine.backends.video.camera import PAN_ZOOM, ZOOM
from engine.backends.video.text import row_width

CHAIN = title_chain(TITLE_FONTS)
LONG = "Une très longue promenade dans la grande forêt enchantée"


def test_the_banner_fits_inside_what_every_camera_move_keeps():
    assert SPAN < 1 / PAN_ZOOM and SPAN < 1 / ZOOM


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (640, 360)])
def test_a_short_title_is_one_row_at_full_size(size: tuple[int, int]):
    banner = layout("The big  puddle", *size, CHAIN)
    assert banner.rows == ("The big puddle",) and not banner.cut
    assert banner.size == round(min(size) * 0.052)


def test_a_long_title_wraps_at_word_boundaries_before_it_is_ever_cut():
    banner = layout(LONG, 1080, 1920, CHAIN)
    assert len(banner.rows) == ROWS and not banner.cut
    assert " ".join(banner.rows) == LONG  # whole words, in order, nothing dropped
    assert all(row_width(row, CHAIN, banner.size) <= text_room(1080, banner.size)
               for row in banner.rows)
    assert not layout(LONG, 1920, 1080, CHAIN).cut  # landscape: no less room


def test_a_title_too_long_for_two_rows_is_cut_after_a_whole_word():
    banner = layout(LONG, 270, 480, CHAIN)
    assert banner.cut and len(banner.rows) == ROWS and banner.rows[-1].endswith("…")
    shown = " ".join(banner.rows)[:-1].split()
    assert shown == LONG.split()[:len(shown)]  # whole words, then "…"
    assert all(row_width(row, CHAIN, banner.size) <= text_room(270, banner.size)
               for row in banner.rows)


def test_the_drawn_banner_is_where_the_note_says_and_the_illustrator_says_its_rows():
    illustrator = ProceduralIllustrator(texture=0, vignette=0, supersample=1)
    for title, cut in ((LONG, True), ("The big puddle", False)):
        request = DrawRequest("s", "", title, "a meadow", "", (), 270, 480, 3)
        picture = illustrator.draw(request)
        [box] = json.loads(picture.info[SUBJECTS])["title"]
        assert 0 < box[0] and box[2] < 1 and box[2] - box[0] <= SPAN + 0.01
        said = illustrator.describe(request)["title"]
        assert said == {"rows": list(layout(title, 270, 480, CHAIN).rows), "cut": cut}
    untitled = DrawRequest("s", "", None, "a meadow", "", (), 270, 480, 3)
    assert illustrator.describe(untitled)["title"] is None
