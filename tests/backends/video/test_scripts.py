"""Captions in any script: the fallback chain draws every character of a Chinese + emoji story
(checked against each font's character map), CJK wraps between characters, emoji in colour,
the fonts used named in the cut's record, and `check` warns about characters no font draws."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image

from engine.backends.fonts import find_fonts, runs, undrawable
from engine.backends.tts import Audio
from engine.backends.video.caption_box import CaptionStyle, caption_overlay
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.captions import columns, wrap
from engine.commands.check import collect
from engine.dsl.load import load_with_diagnostics, render_diagnostics
from engine.stages.cut import CutLine, CutScene, cut
from engine.stages.speak import write_wav
from engine.timeline import TimelineSettings

NAMES = ["DejaVuSans-Bold.ttf", "NotoSansCJK-Bold.ttc", "NotoColorEmoji.ttf"]
CHAIN = find_fonts(NAMES)
needs_noto = pytest.mark.skipif(len(CHAIN) < 3, reason="Noto CJK and Noto Color Emoji are not "
                                "installed (scripts/setup.sh installs them)")

STORY = """title: 小刺猬的月亮 🌙
language: zh

character 莫莫
  description: 一只戴红围巾的小刺猬
  voice: child

scene 草地
  setting: 夜晚的草地
  "小刺猬莫莫在月光下醒来了，它看见一只猫头鹰在树上唱歌。🦔🌙"
  莫莫: "你好，猫头鹰！Hello! 😊"
"""


def cmap(font: Path) -> set[int]:
    """The font's character map, read independently of engine.backends.fonts."""
    face = (TTCollection(str(font)).fonts[0] if font.suffix == ".ttc" else TTFont(str(font)))
    return set(face.getBestCmap())


@needs_noto
def test_the_chain_draws_every_character_of_a_chinese_and_emoji_story(tmp_path: Path):
    path = tmp_path / "moon.story"
    path.write_text(STORY, encoding="utf-8")
    story, diagnostics = load_with_diagnostics(path)
    assert story is not None, diagnostics
    texts = [line.text for scene in story.scenes for line in scene.lines]
    maps = {font: cmap(font) for font in CHAIN}
    for text in texts:
        assert undrawable(text, CHAIN) == ""
        for part, font in runs(text, CHAIN):
            drawn = [c for c in part if not c.isspace() and c != "\ufe0f"]
            assert all(ord(c) in maps[font] for c in drawn), (part, font)
    used = {font.name for text in texts for _, font in runs(text, CHAIN)}
    assert used == set(NAMES)
    assert not [d for d in collect([str(path)]) if d.code == "undrawable-characters"]


def test_check_warns_at_a_line_no_font_can_draw(tmp_path: Path):
    path = tmp_path / "sinhala.story"
    path.write_text('title: Moon\n\nscene night\n  setting: a field\n  "Hello ක moon."\n',
                    encoding="utf-8")
    (warning,) = [d for d in collect([str(path)]) if d.code == "undrawable-characters"]
    assert warning.severity == "warning" and (warning.span.line, warning.span.column) == (5, 10)
    assert "'ක' (U+0D9A)" in warning.message


def test_check_prints_font_warnings_in_line_order_with_the_caret_on_the_character(
        tmp_path: Path):
    path = tmp_path / "sinhala.story"
    path.write_text('title: Moon\n\ncharacter Mo\n  description: a mouse\n\nscene night\n'
                    '  setting: a field\n  title: "Moon ක"\n  "Hello ක moon."\n'
                    '  Mo (soft ක): "Hi ක there" # a comment\n', encoding="utf-8")
    diagnostics = [d for d in collect([str(path)]) if d.code == "undrawable-characters"]
    lines = [line for line in render_diagnostics(diagnostics, cwd=tmp_path).splitlines()
             if "hint:" not in line]
    assert lines == [
        "sinhala.story:8:16: warning: no title banner font draws 'ක' (U+0D9A): the title "
        "banners show boxes",
        '     8 |   title: "Moon ක"',
        "       |                ^",
        "sinhala.story:9:10: warning: no caption font draws 'ක' (U+0D9A): the captions show "
        "boxes",
        '     9 |   "Hello ක moon."',
        "       |          ^",
        "sinhala.story:10:20: warning: no caption font draws 'ක' (U+0D9A): the captions show "
        "boxes",
        '    10 |   Mo (soft ක): "Hi ක there" # a comment',
        "       |                    ^"]


def test_cjk_wraps_between_characters_and_keeps_punctuation_on_its_character():
    text = "小刺猬莫莫在月光下醒来了，它看见一只猫头鹰在树上唱歌。"
    rows = wrap(text, max_chars=20)
    assert "".join(rows) == text and len(rows) == 3
    assert all(columns(row) <= 20 for row in rows)
    assert not any(row[0] in "，。！" for row in rows)
    assert wrap("Mo said “你好！” 🦔🌙", max_chars=8) == ["Mo said", "“你好！”", "🦔🌙"]


def alpha_of(text: str, chain: tuple[Path, ...]) -> np.ndarray:
    style = CaptionStyle(font=chain[0], fallbacks=chain[1:])
    return 255 - np.asarray(caption_overlay(text, 640, 360, style).transparency[0], dtype=int)


@needs_noto
def test_cjk_and_emoji_are_drawn_not_boxes_and_emoji_in_colour():
    latin_only = CHAIN[:1]
    assert not np.array_equal(alpha_of("你好月亮", CHAIN), alpha_of("你好月亮", latin_only))
    overlay = caption_overlay("🌙🦔", 640, 360, CaptionStyle(font=CHAIN[0], fallbacks=CHAIN[1:]))
    coverage = 255 - overlay.transparency[1].astype(int)  # the U plane's, premultiplied by it
    solid = coverage > 200
    chroma = np.abs(overlay.premultiplied[1][solid] / coverage[solid] - 128)
    assert chroma.max() > 40  # a grey box or white text would keep U near 128


@needs_noto
def test_emoji_shown_as_emoji_go_to_the_colour_font_before_a_text_font_that_has_them():
    assert 0x1F315 in cmap(CHAIN[0])  # DejaVu Sans Bold has an outline full moon
    assert runs("Moon 🌕 ☀️ ☀", CHAIN) == [
        ("Moon ", CHAIN[0]), ("🌕 ☀️ ", CHAIN[2]), ("☀", CHAIN[0])]  # ☀ alone is text
    overlay = caption_overlay("🌕", 640, 360, CaptionStyle(font=CHAIN[0], fallbacks=CHAIN[1:]))
    coverage = 255 - overlay.transparency[1].astype(int)
    solid = coverage > 200
    chroma = np.abs(overlay.premultiplied[1][solid] / coverage[solid] - 128)
    assert chroma.max() > 20  # DejaVu's outline moon would be white (U near 128)


@needs_noto
def test_the_cut_names_the_font_files_its_captions_used(tmp_path: Path):
    still = tmp_path / "still.png"
    Image.new("RGB", (64, 36), (40, 90, 160)).save(still)
    clip = tmp_path / "line.wav"
    write_wav(Audio(np.zeros(4800, np.float32), 48000), clip)
    scene = CutScene("s", still, None, None, (CutLine(clip, "你好 🦔"),))
    timing = TimelineSettings(lead_in=0.1, gap=0.1, tail=0.1, min_scene=0.3, crossfade=0.1)
    outcome = cut((scene,), FFmpegEditor(fallback_fonts=NAMES[1:]), timing, 64, 36, 10,
                  tmp_path / "out", tmp_path / "work")
    record = json.loads((tmp_path / "out" / "cut.json").read_text())
    assert [Path(f).name for f in record["fonts"]] == NAMES[1:]
    assert list(outcome.stats.fonts) == record["fonts"]
