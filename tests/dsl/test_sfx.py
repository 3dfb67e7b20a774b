"""`sfx:` in a scene: read, formatted back, checked (file, offset, line, level), rebased, lexed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygments.token import Comment, Number, Operator, Text

from engine.dsl.format import format_story
from engine.dsl.load import load_story, load_with_diagnostics, rebase_paths
from engine.dsl.vocabulary import sound_placement
from engine.highlight import StoryLexer
from engine.ir import resolve_path, without_spans
from tests.dsl.test_check import diagnose, summary, write_wav
from tests.dsl.test_format import parse

SCENE = ('scene storm\n  sfx: sounds/big door.wav at 2.5s level -6dB  # slam\n'
         '  sfx: thunder.wav at line 2\n  sfx: rain.wav\n  "It was dark."\n  "Then: boom."\n')


def test_several_sounds_in_a_scene_read_and_format_back_the_same() -> None:
    story = parse(SCENE)
    sounds = [sound_placement(f.value.text) for f in story.scenes[0].all("sfx")]
    assert [(s.path, s.seconds, s.line, s.level) for s in sounds] == [
        ("sounds/big door.wav", 2.5, None, -6.0), ("thunder.wav", None, 2, 0.0),
        ("rain.wav", None, None, 0.0)]
    assert [line.text for line in story.scenes[0].lines] == ["It was dark.", "Then: boom."]
    once = format_story(story)
    assert once == SCENE
    assert without_spans(parse(once)) == without_spans(story)


@pytest.mark.parametrize(("written", "formatted"), [
    ("bell.wav   at 2.5 s   level -6", "bell.wav at 2.5s level -6dB"),
    ("bell.wav AT line 2 LEVEL +3 DB", "bell.wav at line 2 level +3dB"),
    ("sounds/big door.wav level 0db", "sounds/big door.wav level 0dB"),
    ("bell.wav at soon", "bell.wav at soon"),  # does not read: left as written
])
def test_fmt_writes_a_sound_in_its_one_spelling(written: str, formatted: str) -> None:
    story = parse(f"scene a\n  sfx: {written}\n")
    assert format_story(story) == f"scene a\n  sfx: {formatted}\n"
    again = sound_placement(parse(format_story(story)).scenes[0].all("sfx")[0].value.text)
    first = sound_placement(written)
    assert (again.path, again.seconds, again.line, again.level) == (
        first.path, first.seconds, first.line, first.level)


@pytest.mark.parametrize(("value", "parts"), [
    ("a.wav at 2 s level -3 dB", ("a.wav", 2.0, None, -3.0)),
    ("a.wav level +2db at line 1", ("a.wav", None, 1, 2.0)),
    ("at.wav", ("at.wav", None, None, 0.0)),
])
def test_the_clauses_read_in_any_order_with_or_without_a_space_before_the_unit(
        value: str, parts: tuple[object, ...]) -> None:
    placed = sound_placement(value)
    assert (placed.path, placed.seconds, placed.line, placed.level) == parts
    assert placed.problems == ()


def test_a_good_sound_passes_and_resolves_to_its_file(tmp_path: Path) -> None:
    write_wav(tmp_path / "sounds" / "big door.wav")
    write_wav(tmp_path / "thunder.wav")
    write_wav(tmp_path / "rain.wav")
    assert summary(tmp_path, SCENE) == []
    story = load_story(tmp_path / "t.story")
    assert [resolve_path(f) for f in story.scenes[0].all("sfx")] == [
        tmp_path / "sounds" / "big door.wav", tmp_path / "thunder.wav", tmp_path / "rain.wav"]


def test_offsets_lines_and_levels_are_checked_with_their_places(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav")
    text = ('scene a\n  sfx: a.wav at 4000s\n  sfx: a.wav at line 3\n  sfx: a.wav level 20dB\n'
            '  sfx: a.wav at soon\n  sfx: a.wav at 1s bang\n  sfx: a.wav at line 1 at 2s\n'
            '  "one"\n  "two"\nscene b\n  sfx: a.wav at line 1\n')
    form = "[write it as `sfx: FILE at 2.5s level -6dB`, or `at line 2`]"
    assert summary(tmp_path, text) == [
        "2:17 error bad-sfx: an sfx plays from 0 to 3600 seconds into its scene, not at 4000 "
        "[e.g. `at 2.5s`; or at a line: `at line 2`]",
        "3:22 error bad-sfx: scene 'a' has no line 3 (it has 2) [lines count from 1, narration "
        "and dialogue alike; or place it at a time: `at 2.5s`]",
        "4:20 error bad-sfx: an sfx level is from -60 to 12 dB, not 20 "
        "[0dB plays the file as it is; -6dB at half its amplitude]",
        f"5:17 error bad-sfx: `at` takes a number of seconds (`2.5s`), not 'soon' {form}",
        f"6:20 error bad-sfx: unexpected 'bang' in `sfx:` {form}",
        f"7:24 error bad-sfx: `at` is given twice in `sfx:` {form}",
        "11:22 error bad-sfx: scene 'b' has no line 1 (it has no lines yet: the writer's lines "
        "cannot be named) [lines count from 1, narration and dialogue alike; or place it at a "
        "time: `at 2.5s`]"]


def test_a_file_named_with_at_is_told_to_be_renamed(tmp_path: Path) -> None:
    problems = summary(tmp_path, 'scene a\n  sfx: owl at night.wav at 1s\n  "x"\n')
    assert [p for p in problems if "bad-sfx" in p] == [
        "2:15 error bad-sfx: `at` takes a number of seconds (`2.5s`), not 'night.wav' "
        "[write it as `sfx: FILE at 2.5s level -6dB`, or `at line 2`; a file whose name holds "
        "the word `at` or `level` cannot be named here: rename it (e.g. owl-at-night.wav)]"]


def test_the_file_is_probed_like_music(tmp_path: Path) -> None:
    (tmp_path / "text.wav").write_text("not audio at all\n")
    (tmp_path / "folder.wav").mkdir()
    text = ('scene a\n  sfx: missing.wav at 1s\n  sfx: text.wav at line 1\n'
            '  sfx: folder.wav level -3dB\n  "x"\n')
    hint = "[`sfx:` names an audio file (WAV, MP3, OGG, FLAC, …)]"
    assert summary(tmp_path, text) == [
        f"2:8 error missing-sfx: no such sound file: 'missing.wav' [paths are relative to this "
        f"file's folder ({tmp_path})]",
        "3:8 error bad-sfx: 'text.wav' cannot be used as audio: it is not audio FFmpeg can read "
        f"(Invalid data found when processing input) {hint}",
        f"4:8 error bad-sfx: 'folder.wav' cannot be used as audio: it is a folder, not a file "
        f"{hint}"]


def test_the_caret_marks_the_path_alone(tmp_path: Path) -> None:
    out = diagnose(tmp_path, 'scene a\n  sfx: gone.wav at 1s\n  "x"\n')
    assert out.splitlines()[1:3] == ["     2 |   sfx: gone.wav at 1s", "       |        ^^^^^^^^"]


def test_sounds_are_not_set_twice_and_belong_in_scenes(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav")
    text = 'sfx: a.wav\nscene a\n  sfx: a.wav\n  sfx: a.wav at 1s\n  "x"\n'
    assert [s.split(" [")[0] for s in summary(tmp_path, text)] == [
        "1:1 error unknown-key: unknown key 'sfx'"]


def test_a_copy_written_elsewhere_names_the_same_file_with_the_same_clauses(
        tmp_path: Path) -> None:
    write_wav(tmp_path / "stories" / "door.wav")
    (tmp_path / ".git").mkdir()
    (tmp_path / "stories" / "t.story").write_text(
        'scene a\n  sfx: door.wav at 1.5s level -3dB\n  "x"\n')
    story = load_story(tmp_path / "stories" / "t.story")
    run = tmp_path / "renders" / "run-1"
    run.mkdir(parents=True)
    (run / "resolved.story").write_text(format_story(rebase_paths(story, run)))
    assert "  sfx: ../../stories/door.wav at 1.5s level -3dB\n" in \
        (run / "resolved.story").read_text()
    copy, diagnostics = load_with_diagnostics(run / "resolved.story")
    assert diagnostics == ()
    assert resolve_path(copy.scenes[0].get("sfx")) == tmp_path / "stories" / "door.wav"


def test_the_lexer_marks_the_clauses() -> None:
    tokens = [(kind, text) for kind, text in StoryLexer().get_tokens(SCENE)
              if text.strip()]
    start = tokens.index((Text, "sounds/big"))
    assert tokens[start:start + 7] == [(Text, "sounds/big"), (Text, "door.wav"), (Operator.Word, "at"),
                            (Number, "2.5s"), (Operator.Word, "level"), (Number, "-6dB"),
                            (Comment.Single, "# slam")]
    assert (Operator.Word, "line") in tokens and (Number, "2") in tokens
