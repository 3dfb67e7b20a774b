"""`storyreel voices`: the cast with each speaker's category and every tts backend's voice."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main as cli
from engine.commands.voices import main

STORY = """title: Moon
language: en-GB

voice Owlish
  category: elder
  openai: verse
  edge: en-GB-ThomasNeural

character Luna
  description: a little girl with a lantern

character Owl
  description: a wise old owl
  voice: Owlish

scene night
  setting: a dark forest
  "The moon was low."
  Luna: "Hello!"
  Owl: "Hoo."
"""


def cast(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> dict[str, dict[str, str]]:
    story = tmp_path / "moon.story"
    story.write_text(text, encoding="utf-8")
    # piper is left out: loading its model takes seconds (tests/backends/tts/test_piper.py)
    assert main([str(story), "--backends", "espeak,edge,openai"]) == 0
    table_text = capsys.readouterr().out.split("\n\n")[0]  # the notes follow a blank line
    header, *rows = [line.split("  ") for line in table_text.splitlines()]
    names = [cell.strip() for cell in header if cell.strip()]
    table = {}
    for row in rows:
        cells = [cell.strip() for cell in row if cell.strip()]
        table[cells[0]] = dict(zip(names[1:], cells[1:]))
    return table


def test_every_speaker_with_its_category_and_each_backends_voice(tmp_path, capsys):
    table = cast(tmp_path, capsys, STORY)
    assert list(table) == ["narrator", "Luna", "Owl"]
    assert [table[s]["category"] for s in table] == ["narrator", "child", "elder"]
    assert (table["narrator"]["openai"], table["Luna"]["openai"], table["Owl"]["openai"]) == (
        "fable", "coral", "verse")  # the voice block's id wins
    assert table["Luna"]["espeak"].endswith("+f5") and "en" in table["Luna"]["espeak"]
    assert table["Owl"]["edge"] in ("en-GB-ThomasNeural", "(edge-tts is not installed)")


def test_a_language_a_backend_cannot_speak_is_said_in_its_column(tmp_path, capsys):
    table = cast(tmp_path, capsys, STORY.replace("language: en-GB", "language: sv"))
    assert table["narrator"]["espeak"].startswith("gmq/sv")
    assert table["narrator"]["edge"] in ("(no voice for the story language 'sv')",
                                         "(edge-tts is not installed)")


def test_an_unknown_backend_is_one_line(tmp_path, capsys):
    assert main(["x.story", "--backends=espeak,kokoro"]) == 2
    assert capsys.readouterr().err.strip().startswith("storyreel voices: no tts backend 'kokoro'")


def test_no_story_is_one_line(tmp_path, capsys):
    assert cli(["voices", str(tmp_path / "missing.story")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"storyreel voices: no such story file: {tmp_path / 'missing.story'}")


def test_a_folder_or_a_pipe_named_as_the_story_says_what_it_is(tmp_path, capsys):
    import os

    from engine import cli

    pipe = tmp_path / "pipe.story"
    os.mkfifo(pipe)
    assert cli.main(["voices", str(tmp_path)]) == 2
    assert f"storyreel voices: {tmp_path} is a folder, not a story file: name one of its " \
        ".story files" in capsys.readouterr().err
    assert cli.main(["voices", str(pipe)]) == 2
    assert f"storyreel voices: {pipe} is not a regular file: name a .story file" in \
        capsys.readouterr().err


def test_a_long_reason_is_a_note_in_full_and_wide_names_keep_the_columns():
    from engine.commands.voices import format_table

    reason = ("(the voice en_US-joe-medium.onnx speaks en-us, not the story's language de "
              "(set piper.voices.de))")
    out = format_table([["speaker", "category", "piper"], ["小龙", "child", reason],
                        ["Mo", "child", "de_DE-thorsten"], ["Owl", "elder", reason]]).splitlines()
    assert out[:4] == ["speaker  category  piper",
                       "小龙     child     (note 1)",
                       "Mo       child     de_DE-thorsten",
                       "Owl      elder     (note 1)"]  # the same words: one note
    assert out[4:] == ["", "note 1 (piper): " + reason[1:-1]]
