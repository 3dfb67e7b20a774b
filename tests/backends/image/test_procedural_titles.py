"""The procedural banner draws a title in any script: each character in the first font of its
chain that has it (checked against that font's character map), and `check` warns at a scene
title no banner font draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTCollection, TTFont

from engine.backends.fonts import runs
from engine.backends.image import DrawRequest
from engine.backends.image.procedural import TITLE_FONTS, ProceduralIllustrator, title_chain
from engine.commands.check import collect

CHAIN = title_chain(TITLE_FONTS)
needs_noto = pytest.mark.skipif(
    not {"NotoSerifCJK-Bold.ttc", "NotoColorEmoji.ttf"} <= {font.name for font in CHAIN},
    reason="Noto CJK and Noto Color Emoji are not installed (scripts/setup.sh installs them)")


def cmap(font: Path) -> set[int]:
    face = TTCollection(str(font)).fonts[0] if font.suffix == ".ttc" else TTFont(str(font))
    return set(face.getBestCmap())


def banner(title: str) -> np.ndarray:
    """The top of the picture (where the banner is), drawn with nothing else changing."""
    request = DrawRequest("s", "", title, "a meadow", "", (), 640, 360, 3)
    image = ProceduralIllustrator(texture=0, vignette=0).draw(request)
    return np.asarray(image, dtype=np.int16)[: 360 // 5]


@needs_noto
def test_chinese_and_emoji_titles_draw_distinct_glyphs_from_fonts_that_have_them():
    titles = ["月亮", "星星", "草地", "雪 🦊", "🦊🌙"]
    pictures = {title: banner(title) for title in titles}
    for one in titles:
        for other in titles:
            if one != other:
                assert np.abs(pictures[one] - pictures[other]).sum() > 0, (one, other)
    for title in titles:
        for part, font in runs(title, CHAIN):
            assert font is not None
            assert all(ord(c) in cmap(font) for c in part if not c.isspace()), (part, font)
    assert {font.name for _, font in runs("雪 🦊 Fox", CHAIN)} == {
        "DejaVuSerif-Bold.ttf", "NotoSerifCJK-Bold.ttc", "NotoColorEmoji.ttf"}


@needs_noto
def test_an_emoji_title_is_drawn_in_colour():
    top = banner("🦊🦊🦊")
    red, green, blue = top[..., 0], top[..., 1], top[..., 2]
    orange = (red > 200) & (green > 90) & (green < 180) & (blue < 80)  # the fox's fur
    assert orange.sum() > 50


@needs_noto
def test_a_full_moon_title_is_the_colour_emoji_not_a_text_fonts_outline():
    assert [font.name for _, font in runs("🌕", CHAIN)] == ["NotoColorEmoji.ttf"]
    top = banner("🌕🌕🌕")
    red, green, blue = top[..., 0], top[..., 1], top[..., 2]
    yellow = (red > 200) & (green > 180) & (red - blue > 60)  # the moon's face
    assert yellow.sum() > 500  # DejaVu Sans's outline moon leaves about 100 (the sky's)


def test_check_warns_at_a_scene_title_no_banner_font_draws(tmp_path: Path):
    path = tmp_path / "sinhala.story"
    path.write_text('title: Moon\n\nscene night\n  title: Moon ක\n  setting: a field\n'
                    '  "Hello moon."\n', encoding="utf-8")
    (warning,) = [d for d in collect([str(path)]) if d.code == "undrawable-characters"]
    assert (warning.span.line, warning.span.column) == (4, 15)
    assert "'ක' (U+0D9A)" in warning.message and "title banner" in warning.message
    assert "image.title_fonts" in (warning.hint or "")



def test_check_warns_at_a_title_the_banner_cuts_short_at_the_configured_size(tmp_path: Path):
    path = tmp_path / "walk.story"
    long = " ".join(["a very long walk through the deep and enchanted forest"] * 4)
    path.write_text(f'title: Walk\n\nscene forest\n  title: {long}\n  setting: a forest\n'
                    '  "Hello."\n\nscene glade\n  title: Une très longue promenade dans la '
                    'grande forêt enchantée\n  setting: a glade\n  "Bonjour."\n',
                    encoding="utf-8")
    (warning,) = [d for d in collect([str(path)]) if d.code == "title-cut"]
    assert (warning.span.line, warning.span.column) == (4, 10)  # the forest's, not the glade's
    assert "1280×720" in warning.message and "…" in warning.message
    assert "render.width" in (warning.hint or "")
