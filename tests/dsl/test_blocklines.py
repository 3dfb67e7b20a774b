"""Block lines gone wrong: a misspelt keyword, a colon, a header line that ends a block early."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.dsl.blocklines import block_meant
from tests.dsl.test_check import diagnose, summary

BLOCKS_ARE = "(a block starts with `voice NAME`, `character NAME` or `scene ID`)"

# -- a misspelt block keyword --------------------------------------------------------------------


@pytest.mark.parametrize(("line", "meant"), [
    ("scen rainy-window", "scene"), ("sceen rainy", "scene"), ("Scene rainy", "scene"),
    ("charactor Mo2", "character"), ("voise tiny2", "voice"), ("scen a # the rain", "scene"),
])
def test_a_misspelt_block_keyword_says_which_block_it_meant(tmp_path: Path, line: str,
                                                           meant: str) -> None:
    word = line.split()[0]
    out = summary(tmp_path, f"title: x\n{line}\nscene b\n  \"x\"\n")
    assert out[0] == (f"2:1 error unknown-block: unknown block '{word}' "
                      f"[did you mean '{meant}'? {BLOCKS_ARE}]")
    assert [o for o in out if " error " in o] == out[:1]


def test_the_caret_covers_the_misspelt_word(tmp_path: Path) -> None:
    assert diagnose(tmp_path, 'title: x\ncharactor Mo2\nscene a\n  Mo2: "hi"\n') == f"""\
t.story:2:1: error: unknown block 'charactor'
     2 | charactor Mo2
       | ^^^^^^^^^
  hint: did you mean 'character'? {BLOCKS_ARE}"""


def test_the_body_of_a_misspelt_scene_is_checked_as_a_scene(tmp_path: Path) -> None:
    out = summary(tmp_path, 'title: x\nscen rainy\n  camera: slow zom in\n  Mo: "hi"\n')
    assert [o.split(" [")[0] for o in out] == [
        "2:1 error unknown-block: unknown block 'scen'",
        "3:11 error unknown-camera: unknown camera 'slow zom in'",
        "4:3 error unknown-speaker: unknown speaker 'Mo'"]


def test_a_misspelt_character_still_declares_its_character(tmp_path: Path) -> None:
    out = summary(tmp_path, 'title: x\ncharactor Mo\n  voice: tiny\nscene a\n  Mo: "hi"\n')
    assert [o.split(" [")[0] for o in out] == [
        "2:1 error unknown-block: unknown block 'charactor'",
        "3:10 error unknown-voice: unknown voice 'tiny'"]


def test_the_name_of_a_misspelt_block_is_where_it_is_written(tmp_path: Path) -> None:
    # `scen` is one letter short of `scene`: the name still points at its own column
    out = summary(tmp_path, "title: x\nscen   a\nscene a\nvoise v\n")
    assert [o.split(" [")[0] for o in out] == [
        "2:1 error unknown-block: unknown block 'scen'",
        "3:7 error duplicate-scene: scene 'a' is declared twice",
        "4:1 error unknown-block: unknown block 'voise'",
        "4:7 warning no-category: voice 'v' has no category"]
    assert "the first is at line 2" in out[1]


def test_a_misspelt_block_line_before_another_error_or_at_the_end(tmp_path: Path) -> None:
    out = summary(tmp_path, "title: x\nscene a\n  \"x\"\nvoise v\nScene b\n  %\n")
    assert [o.split(" [")[0] for o in out] == [
        "4:1 error unknown-block: unknown block 'voise'",
        "4:7 warning no-category: voice 'v' has no category",
        "5:1 error unknown-block: unknown block 'Scene'",
        "6:3 error not-a-statement: unexpected '%'"]


def test_crlf_line_ends(tmp_path: Path) -> None:
    out = summary(tmp_path, 'title: x\r\nscen a\r\n  Mo: "hi"\r\n')
    assert [o.split(" [")[0] for o in out] == [
        "2:1 error unknown-block: unknown block 'scen'",
        "3:3 error unknown-speaker: unknown speaker 'Mo'"]


@pytest.mark.parametrize("line", ["scenes 3", "scenes 4.5", "scenes -1", "scenes .5",
                                  "title The Moon", "trainedness Luna", "  scen a",
                                  "scen a b", "scen: a", "zebra a", "scens 3"])
def test_what_is_not_a_misspelt_block_line(line: str) -> None:
    assert block_meant(line) is None


def test_a_key_without_its_colon_is_still_a_missing_colon(tmp_path: Path) -> None:
    for count in ("4", "4.5"):
        assert summary(tmp_path, f"scenes {count}\nscene b\n")[0].startswith(
            "1:7 error missing-colon: missing ':' after 'scenes'")


def test_scenes_before_a_name_meant_a_scene_block(tmp_path: Path) -> None:
    """The key `scenes` takes a number: `scenes hill` is a scene block with an 's' too many,
    and its body is read as that scene's."""
    assert block_meant("scenes hill") == "scene"
    out = summary(tmp_path, 'title: x\nscenes hill\n  Mo: "hi"\n')
    assert [o.split(" [")[0] for o in out] == [
        "2:1 error unknown-block: unknown block 'scenes'",
        "3:3 error unknown-speaker: unknown speaker 'Mo'"]
    assert "did you mean 'scene'?" in out[0]

# -- a block line with a colon -------------------------------------------------------------------


def test_a_block_line_with_a_colon_is_one_error_and_its_body_is_read(tmp_path: Path) -> None:
    text = 'title: x\n\nscene: rainy\n  setting: a window\n  "It rained."\n  Mo: "hi"\n'
    assert diagnose(tmp_path, text).split("\n")[:5] == [
        "t.story:3:6: error: a block line has no ':'",
        "     3 | scene: rainy",
        "       |      ^",
        "  hint: write `scene rainy`: a block line (`voice NAME`, `character NAME`, `scene ID`) "
        "has no ':'",
        "t.story:6:3: error: unknown speaker 'Mo'"]
    assert len(summary(tmp_path, text)) == 2


def test_a_block_line_with_a_colon_and_no_body(tmp_path: Path) -> None:
    out = summary(tmp_path, 'scene a\n  "x"\nscene: the-end\n')
    assert out == [("3:1 error unknown-key: unknown key 'scene' "
                    "[write `scene the-end`: a block line (`voice NAME`, `character NAME`, "
                    "`scene ID`) has no ':']")]

# -- a header line in the middle of a block ------------------------------------------------------


def test_the_hint_names_the_line_that_ended_the_scene(tmp_path: Path) -> None:
    text = ('title: x\nscene x\n  setting: a window\n  "It rained."\nseed: 5\n  "More rain."\n'
            '  "And more."\n\n  "Still."\nscene y\n  "dry"\n')
    assert diagnose(tmp_path, text) == """\
t.story:6:1: error: unexpected indentation
     6 |   "More rain."
       | ^^
  hint: line 5 `seed: 5` ended scene 'x': indent it, or move it to the header (above the blocks)"""


def test_a_line_that_is_no_header_key_is_only_told_to_indent(tmp_path: Path) -> None:
    out = summary(tmp_path, 'character C\n  voice: v\n# why\ndescription: x\n  tags: t\n'
                            'voice v\n  category: child\nscene a\n  C: "hi"\n')
    assert ("5:1 error unexpected-indent: unexpected indentation "
            "[line 4 `description: x` ended character 'C': indent it]") in out


def test_an_indented_header_line_keeps_its_own_hint(tmp_path: Path) -> None:
    out = summary(tmp_path, 'title: x\n  audience: 3\n  style: y\nscene a\n  "x"\n')
    assert out == [("2:1 error unexpected-indent: unexpected indentation [indent a line only "
                    "to put it in the voice, character or scene block above it, as deep as that "
                    "block's other lines]")]

# -- curly quotes --------------------------------------------------------------------------------


def test_the_caret_of_curly_quotes_is_on_the_quote_mark(tmp_path: Path) -> None:
    out = diagnose(tmp_path, 'title: x\n\nscene a\n  \u201cCurly quotes.\u201d\n')
    assert out.split("\n")[1:3] == ["     4 |   \u201cCurly quotes.\u201d", "       |   ^"]


def test_a_long_line_that_ended_a_block_is_cut_in_the_hint(tmp_path: Path) -> None:
    out = summary(tmp_path, f'scene a\n  "x"\ntitle: {"long " * 30}\n  "y"\n')
    assert out == [("4:1 error unexpected-indent: unexpected indentation [line 3 `title: long "
                    "long long long long long lo…` ended scene 'a': indent it, or move it to the "
                    "header (above the blocks)]")]
