"""Broken stories and their exact diagnostics: syntax, names, keys, values, paths, `use:`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.dsl.check import check_story, did_you_mean
from engine.dsl.format import format_story
from engine.dsl.load import (
    load_story,
    load_with_diagnostics,
    rebase_paths,
    render_diagnostics,
)
from engine.dsl.parse import parse_text
from engine.errors import StoryError
from engine.ir import Character, Field, Scene, Story, Value, resolve_path
from tests.sounds import write_silence

CAST = "character Luna\n  description: a moon\ncharacter Zoë\n  description: a girl\n"


def write_png(path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), "silver").save(path)
    return path


def write_wav(path: Path, seconds: float = 0.1) -> Path:
    return write_silence(path, seconds, rate=8000)


def diagnose(tmp_path: Path, text: str | bytes, name: str = "t.story",
             extra: dict[str, str] | None = None) -> str:
    """Every diagnostic of the story, rendered, with paths relative to its folder."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    for other, body in (extra or {}).items():
        (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / other).write_text(body, encoding="utf-8")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    _, diagnostics = load_with_diagnostics(path)
    return render_diagnostics(diagnostics, cwd=tmp_path)


def summary(tmp_path: Path, text: str, **kw: object) -> list[str]:
    """`line:col severity code: message [hint]` for each diagnostic."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / "t.story"
    path.write_text(text, encoding="utf-8")
    _, diagnostics = load_with_diagnostics(path)
    return [f"{d.span.line}:{d.span.column} {d.severity} {d.code}: {d.message}"
            + (f" [{d.hint}]" if d.hint else "") for d in diagnostics]


# -- syntax ------------------------------------------------------------------------------------

SYNTAX = {
    "unclosed quote": ('scene a\n  Luna: "hello\n', """\
t.story:2:9: error: this quote is never closed
     2 |   Luna: "hello
       |         ^
  hint: end the text with a matching `"` on the same line"""),
    "bad indentation": ("scene a\n    title: x\n  setting: y\n", """\
t.story:3:1: error: this line's indentation matches no block above it
     3 |   setting: y
       | ^^
  hint: indent it like the block's other lines (4 columns) or not at all"""),
    "missing colon": ("title The Moon\nscene a\n", """\
t.story:1:6: error: missing ':' after 'title'
     1 | title The Moon
       |      ^
  hint: fields are `key: value`; dialogue is `Name: "text"`"""),
    "mixed indentation": ("scene a\n  title: x\n\tsetting: y\n", """\
t.story:3:1: error: this line is indented with tabs, earlier lines with spaces
     3 |  setting: y
       | ^
  hint: indent with two spaces, or with a tab, the same way everywhere"""),
    "unexpected indent": ("title: x\n  audience: 3\nscene a\n", """\
t.story:2:1: error: unexpected indentation
     2 |   audience: 3
       | ^^
  hint: indent a line only to put it in the voice, character or scene block above it, as deep as that block's other lines"""),
    "an indented first line": ('  character Al\n  description: a bear\nscene a\n', """\
t.story:1:1: error: unexpected indentation
     1 |   character Al
       | ^^
  hint: the first line of a file is outside every block: start it at the beginning of the line"""),
    "an indented scene line (not also 'no scenes')": ("title: T\n  scene a\n", """\
t.story:2:1: error: unexpected indentation
     2 |   scene a
       | ^^
  hint: indent a line only to put it in the voice, character or scene block above it, as deep as that block's other lines"""),
    "narration outside a scene": ('"hello"\nscene a\n', """\
t.story:1:1: error: a narration line cannot stand outside a scene
     1 | "hello"
       | ^^^^^^^
  hint: narration and dialogue go inside a `scene` block, indented"""),
    "missing value": ("title:\nscene a\n", """\
t.story:1:7: error: missing a value after ':'
     1 | title:
       |       ^
  hint: write the value on the same line: `key: value`"""),
    "unclosed direction": ('scene a\n  Luna (sad: "x"\n', """\
t.story:2:17: error: the direction's '(' is never closed
     2 |   Luna (sad: "x"
       |                 ^
  hint: write it as `Name (direction): "text"`"""),
    "text after the quote": ('scene a\n  Luna: "x" y\n', """\
t.story:2:13: error: unexpected text after the closing quote
     2 |   Luna: "x" y
       |             ^
  hint: put everything that is said inside the quotes"""),
    "missing block name": ("scene\n  title: x\n", """\
t.story:1:6: error: missing a name after 'scene'
     1 | scene
       |      ^
  hint: a block starts with `scene NAME` on its own line"""),
    "fill in a character": ("character L\n  description: ...\nscene a\n", """\
t.story:2:16: error: '...' (let the writer fill this in) cannot stand in character 'L'
     2 |   description: ...
       |                ^^^
  hint: only scene lines can be left to the writer; write a value here"""),
    "unquoted dialogue with a direction": ("character Luna\nscene a\n  Luna (sad): oh no\n", """\
t.story:3:15: error: dialogue must be quoted
     3 |   Luna (sad): oh no
       |               ^^^^^
  hint: write it as `Luna (sad): "oh no"`"""),
}


@pytest.mark.parametrize("name", list(SYNTAX))
def test_syntax_errors(tmp_path: Path, name: str) -> None:
    text, expected = SYNTAX[name]
    assert diagnose(tmp_path, text) == expected


def test_every_syntax_error_is_reported_and_names_do_not_cascade(tmp_path: Path) -> None:
    text = 'title The Moon\ncharacter Luna (x)\n  voice: child\nscene a\n  "x\n  Luna: "ok"\n'
    assert summary(tmp_path, text) == [
        "1:6 error missing-colon: missing ':' after 'title' "
        '[fields are `key: value`; dialogue is `Name: "text"`]',
        "2:16 error bad-block-line: unexpected '(x)' after the character's name "
        "[a block starts with `character NAME` on its own line; a name is one word "
        "(join words with '-')]",
        '5:3 error unclosed-quote: this quote is never closed '
        '[end the text with a matching `"` on the same line]',
    ]  # no "unknown speaker 'Luna'": her block failed to parse


def test_not_utf8_says_where(tmp_path: Path) -> None:
    assert diagnose(tmp_path, b"title: caf\xe9\nscene a\n") == """\
t.story:1:11: error: this file is not UTF-8 (byte 0xe9 at offset 10)
     1 | title: caf\ufffd
       |           ^
  hint: save the file with UTF-8 encoding"""


# -- names ----------------------------------------------------------------------------------------

def test_unknown_speaker_with_did_you_mean(tmp_path: Path) -> None:
    assert diagnose(tmp_path, CAST + 'scene a\n  zoe: "hi"\n  with: Luna, Zoë\n') == """\
t.story:6:3: error: unknown speaker 'zoe'
     6 |   zoe: "hi"
       |   ^^^
  hint: did you mean 'Zoë'?"""


def test_unknown_speaker_without_a_near_name(tmp_path: Path) -> None:
    assert summary(tmp_path, CAST + 'scene a\n  Bartholomew: "hi"\n  Luna: "x"\n  Zoë: "y"\n') == [
        "6:3 error unknown-speaker: unknown speaker 'Bartholomew' [declare them with "
        "`character Bartholomew`; narration lines need no speaker]"]


def test_unquoted_dialogue(tmp_path: Path) -> None:
    assert diagnose(tmp_path, CAST + "scene a\n  Luna: hello there\n  Zoë: ...\n") == """\
t.story:6:9: error: dialogue must be quoted
     6 |   Luna: hello there
       |         ^^^^^^^^^^^
  hint: write it as `Luna: "hello there"`"""


def test_unknown_scene_setting_and_near_speaker(tmp_path: Path) -> None:
    text = CAST + 'scene a\n  settng: a wood\n  Lunna: hello\n  Luna: "x"\n  Zoë: "y"\n'
    assert summary(tmp_path, text) == [
        "6:3 error unknown-key: unknown setting 'settng' in scene 'a' [did you mean 'setting'?]",
        "7:3 error unknown-key: unknown setting 'Lunna' in scene 'a' "
        "[did you mean 'Luna'? dialogue is quoted: `Luna: \"...\"`]"]


def test_unknown_voice_or_category(tmp_path: Path) -> None:
    text = ("voice small-girl\n  category: child\ncharacter Luna\n  voice: smal-girl\n"
            "character Owl\n  voice: wizard\nscene a\n  with: Luna, Owl\n")
    assert summary(tmp_path, text) == [
        "4:10 error unknown-voice: unknown voice 'smal-girl' [did you mean 'small-girl'?]",
        "6:10 error unknown-voice: unknown voice 'wizard' [a voice is declared with "
        "`voice NAME`, or is a category: narrator, child, adult, elder, creature]"]


def test_duplicates_in_one_file(tmp_path: Path) -> None:
    text = ("voice v\n  category: child\nvoice v\n  category: adult\n" + CAST
            + "character Luna\nscene a\n  title: x\n  title: y\n  with: Luna, Zoë\nscene a\n")
    assert summary(tmp_path, text) == [
        "3:7 error duplicate-voice: voice 'v' is declared twice "
        "[the first is at line 1; rename or remove one]",
        "9:11 error duplicate-character: character 'Luna' is declared twice "
        "[the first is at line 5; rename or remove one]",
        "12:3 error duplicate-key: 'title' is set twice in scene 'a' "
        "[line 11 sets it too; keep one]",
        "14:7 error duplicate-scene: scene 'a' is declared twice "
        "[the first is at line 10; rename or remove one]"]


def test_duplicates_across_use_files(tmp_path: Path) -> None:
    out = diagnose(tmp_path, "use: cast/owl.story\ncharacter Owl\nscene a\n  with: Owl\n",
                   extra={"cast/owl.story": "character Owl\n  description: an owl\n"})
    assert out == """\
cast/owl.story:1:11: error: character 'Owl' is declared twice
     1 | character Owl
       |           ^^^
  hint: the first is at t.story line 2; rename or remove one"""


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("1", True), ("0.25", True), (".5", True),
                                           ("1.5", False), ("-0.1", False), ("half", False),
                                           ("nan", False), ("auto", True), ("Auto", False)])
def test_trainedness_range(tmp_path: Path, value: str, ok: bool) -> None:
    text = f"character Luna\n  model: m\n  trainedness: {value}\nscene a\n  with: Luna\n"
    errors = [s for s in summary(tmp_path, text) if " error " in s]
    assert errors == ([] if ok else [
        f"3:16 error bad-trainedness: trainedness must be a number from 0 to 1 or `auto`, not "
        f"'{value}' "
        "[0 draws with the base model, 1 fully like the trained one; `auto` tries several and "
        "keeps the best]"])


def test_scene_trainedness_overrides(tmp_path: Path) -> None:
    text = (CAST + "  model: zoe-model\nscene a\n  with: Luna, Zoë\n  trainedness: 2\n"
            "  trainedness Zoee: 0.3\n  trainedness Luna: 0.3\n  trainedness Zoë: 0.5\n")
    assert summary(tmp_path, text) == [
        "5:10 warning missing-model: 'zoe-model' does not exist yet "
        "[the offline illustrator does without it; personalised backends need it]",
        "8:16 error bad-trainedness: trainedness must be a number from 0 to 1 or `auto`, not '2' "
        "[0 draws with the base model, 1 fully like the trained one; `auto` tries several and "
        "keeps the best]",
        "9:15 error unknown-character: unknown character 'Zoee' in `trainedness Zoee:` "
        "[did you mean 'Zoë'?]",
        "10:15 warning trainedness-without-model: 'Luna' has no `model:`, so trainedness "
        "changes nothing [add `model: PATH` to character 'Luna', or remove this line]"]


def test_values_keys_and_sets(tmp_path: Path) -> None:
    text = ("titel: x\nseed: -3\nscenes: 0\nlanguage: English\nvoice v\n  category: kid\n"
            "  rate: fast\n  colour: red\ncharacter Luna\n  voice: v\nscene a\n  with: Luna, Owll\n"
            "  camera: zoom in\n  transition: fade\n  duration: 0\n  seed: x\n  setting Luna: y\n"
            '  Luna: ""\n')
    assert summary(tmp_path, text) == [
        "1:1 error unknown-key: unknown key 'titel' [did you mean 'title'?]",
        "2:7 error bad-seed: seed must be a whole number, not '-3' "
        "[e.g. `seed: 42`; the same seed draws the same picture]",
        "3:1 warning scenes-ignored: `scenes:` has no effect when the story has scene blocks "
        "[it tells the writer how many scenes to make from the premise]",
        "3:9 error bad-scenes: scenes must be a whole number from 1 to 100, not '0' "
        "[how many scenes the writer makes from the premise]",
        "4:11 warning odd-language: 'English' does not look like a language code "
        "[use a code such as en, fr, de or en-GB]",
        "6:13 error unknown-category: unknown voice category 'kid' [did you mean 'child'?]",
        "7:9 error bad-rate: rate must be a number from 0.25 to 4, not 'fast' "
        "[1 is the voice's normal speed; 0.9 is a little slower]",
        "8:3 error unknown-key: unknown key 'colour' in voice 'v' [known keys: category, rate, "
        "pitch, espeak, edge, piper, openai]",
        "12:15 error unknown-character: unknown character 'Owll' in `with:` "
        "[declare them with `character Owll`]",
        "13:11 error unknown-camera: unknown camera 'zoom in' [did you mean 'slow zoom in'?]",
        "14:15 error unknown-transition: unknown transition 'fade' [did you mean 'crossfade'?]",
        "15:13 error bad-duration: duration must be a number of seconds from 0.5 to 3600, not '0' "
        "[e.g. `duration: 6`; leave it out to fit the scene to its lines]",
        "16:9 error bad-seed: seed must be a whole number, not 'x' "
        "[e.g. `seed: 42`; the same seed draws the same picture]",
        "17:11 error unexpected-name: 'setting' takes no name "
        "[only a scene's `trainedness NAME: value` names a character]",
        "18:3 error empty-line: this line says nothing "
        "[write what is said, or `...` to let the writer fill it in]"]


def test_dialogue_in_curly_quotes_is_shown_in_straight_ones(tmp_path: Path) -> None:
    text = 'character Dot\nscene a\n  Dot: \u201cHello.\u201d\n  Dot (softly): \u201cHi.\u201d\n'
    assert summary(tmp_path, text) == [
        '3:8 error unquoted-dialogue: dialogue must be quoted [write it as `Dot: "Hello."`]',
        '4:17 error unquoted-dialogue: dialogue must be quoted '
        '[write it as `Dot (softly): "Hi."`]']


def test_a_transition_on_the_first_scene_is_a_warning(tmp_path: Path) -> None:
    text = ('scene a\n  transition: fade through black\n  "Hi."\n'
            'scene b\n  transition: crossfade\n  "Bye."\n')
    assert summary(tmp_path, text) == [
        "2:15 warning first-transition: the first scene has no scene before it: its "
        "`transition: fade through black` is not shown [a scene's `transition:` says how it "
        "begins; give it to the second scene, or leave it out here]"]
    assert summary(tmp_path, 'scene a\n  transition: cut\n  "Hi."\n') == []


def test_reserved_character_names(tmp_path: Path) -> None:
    assert summary(tmp_path, "character narrator\ncharacter title\nscene a\n") == [
        "1:11 error reserved-name: 'narrator' reads the narration; it cannot be a character "
        "[pick another name; narration lines need no speaker]",
        "2:11 error reserved-name: a character cannot be called 'title' "
        "[in a scene, a line starting with 'title:' is a setting; pick another name]"]


def test_story_needs_scenes_or_a_premise(tmp_path: Path) -> None:
    assert diagnose(tmp_path, "title: Nothing yet\n") == """\
t.story:1:1: error: this story has neither scenes nor a premise
     1 | title: Nothing yet
       | ^
  hint: add a `scene ID` block, or `premise: ...` for the writer to make scenes from"""


def test_a_cast_file_alone_is_fine(tmp_path: Path) -> None:
    assert diagnose(tmp_path, "voice v\n  category: elder\ncharacter Owl\n  voice: v\n") == ""


def test_unused_character_warning(tmp_path: Path) -> None:
    text = CAST + 'scene a\n  "Luna smiled."\n'
    assert summary(tmp_path, text) == [
        "3:11 warning unused-character: character 'Zoë' never appears in a scene "
        "[give them a line, or name them in a scene's `with:`]"]


# -- paths and use: --------------------------------------------------------------------------------

def test_path_errors(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    os.symlink(outside, tmp_path / "sub" / "link.png")
    text = ("use: /etc/passwd\nuse: ../../x.story\nuse: missing.story\nmusic: tune.mp3\n"
            "character Luna\n  reference: sub/link.png\n  model: models/luna\nscene a\n"
            "  with: Luna\n")
    root = tmp_path
    assert summary(tmp_path, text) == [
        "1:6 error absolute-path: '/etc/passwd' is an absolute path "
        "[paths are relative to this file's folder, e.g. `art/luna.png`]",
        "2:6 error path-outside: '../../x.story' leads outside the story repository "
        f"[keep it inside {root} (the nearest folder holding .git)]",
        "3:6 error missing-use: no such story file: 'missing.story' "
        f"[paths are relative to this file's folder ({root})]",
        "4:8 error missing-music: no such music file: 'tune.mp3' "
        f"[paths are relative to this file's folder ({root})]",
        "6:14 error path-outside: 'sub/link.png' is a link that leads outside the story "
        f"repository [keep the file itself inside {root}]",
        "7:10 warning missing-model: 'models/luna' does not exist yet "
        "[the offline illustrator does without it; personalised backends need it]"]


def test_use_cycle(tmp_path: Path) -> None:
    out = diagnose(tmp_path, "use: b.story\nscene a\n",
                   extra={"b.story": "use: c.story\n", "c.story": "use: t.story\n"})
    assert out == """\
c.story:1:6: error: `use:` goes round in a circle: t.story → b.story → c.story → t.story
     1 | use: t.story
       |      ^^^^^^^
  hint: a file cannot use itself, directly or through other files"""


def test_use_relative_to_the_naming_file_and_shared_once(tmp_path: Path) -> None:
    extra = {"cast/a.story": "use: common.story\ncharacter A\n",
             "cast/b.story": "use: common.story\ncharacter B\n",
             "cast/common.story": "voice shared\n  category: elder\ncharacter C\n  voice: shared\n"}
    text = "use: cast/a.story\nuse: cast/b.story\nscene s\n  with: A, B, C\n"
    assert diagnose(tmp_path, text, name="stories/t.story",
                    extra={f"stories/{k}": v for k, v in extra.items()}) == ""
    story = load_story(tmp_path / "stories" / "t.story")
    assert [c.name for c in story.all_characters()] == ["A", "C", "B"]
    assert story.voice("shared") is not None


def test_used_file_header_is_ignored_with_a_warning(tmp_path: Path) -> None:
    out = diagnose(tmp_path, "use: cast.story\nscene a\n  with: Owl\n",
                   extra={"cast.story": "title: Cast\ncharacter Owl\n"})
    assert out == """\
cast.story:1:1: warning: 'title' in a file used by another has no effect
     1 | title: Cast
       | ^^^^^
  hint: a used file shares only its voices and characters"""


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoryError) as caught:
        load_story(tmp_path / "nope.story")
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [
        ("missing-file", "no such file")]
    assert render_diagnostics(caught.value.diagnostics, cwd=tmp_path) == \
        "nope.story: error: no such file"


def test_load_story_raises_with_warnings_riding_along(tmp_path: Path) -> None:
    (tmp_path / "t.story").write_text("character Luna\n  model: m\nscene a\n  Lnua: \"x\"\n")
    with pytest.raises(StoryError) as caught:
        load_story(tmp_path / "t.story")
    assert [(d.severity, d.code) for d in caught.value.diagnostics] == [
        ("warning", "unused-character"), ("warning", "missing-model"),
        ("error", "unknown-speaker")]
    assert [d.code for d in caught.value.errors] == ["unknown-speaker"]


def test_root_is_the_nearest_git_folder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "art").mkdir()
    write_png(tmp_path / "art" / "luna.png")
    story_file = tmp_path / "stories" / "t.story"
    story_file.parent.mkdir()
    story_file.write_text("character Luna\n  reference: ../art/luna.png\nscene a\n  with: Luna\n")
    story, diagnostics = load_with_diagnostics(story_file)
    assert diagnostics == ()
    assert resolve_path(story.character("Luna").get("reference")) == tmp_path / "art" / "luna.png"


def test_resolve_path_of_a_field_made_in_memory(tmp_path: Path) -> None:
    story = Story(str(tmp_path / "s.story"))
    assert resolve_path(Field("model", Value("m/x")), story) == tmp_path / "m" / "x"


# -- helpers the engine uses -------------------------------------------------------------

def test_trainedness_precedence() -> None:
    story = Story("s", characters=(Character("Luna", (Field("trainedness", Value("0.8")),)),
                                   Character("Owl")))
    both = Scene("a", (Field("trainedness", Value("0.5")),
                       Field("trainedness", Value("0.4"), argument="Luna")))
    scene_only = Scene("b", (Field("trainedness", Value("0.5")),))
    plain = Scene("c")
    assert story.trainedness_for(both, "Luna", 1.0) == 0.4
    assert story.trainedness_for(both, "Owl", 1.0) == 0.5
    assert story.trainedness_for(scene_only, "Luna", 1.0) == 0.5
    assert story.trainedness_for(plain, "Luna", 1.0) == 0.8
    assert story.trainedness_for(plain, "Owl", 0.9) == 0.9
    assert story.trainedness_for(None, "Nobody", 0.7) == 0.7


def test_did_you_mean_folds_case_and_accents() -> None:
    assert did_you_mean("zoe", ["Zoë", "Luna"]) == "Zoë"
    assert did_you_mean("Lnua", ["Zoë", "Luna"]) == "Luna"
    assert did_you_mean("Bartholomew", ["Zoë", "Luna"]) is None


def test_check_story_on_a_parsed_text_needs_no_files() -> None:
    story, problems = parse_text('character Luna\nscene a\n  Luna: "hi"\n', "x.story")
    assert problems == () and check_story(story) == []


def test_a_key_of_another_block_says_where_it_belongs(tmp_path: Path) -> None:
    text = "scene a\nsetting: a wood\ncharacter Luna\n  title: Moon\n  \"hi\"\n"
    assert summary(tmp_path, text) == [
        "2:1 error unknown-key: unknown key 'setting' "
        "['setting' belongs in a `scene` block (indented under it)]",
        "4:3 error unknown-key: unknown key 'title' in character 'Luna' "
        "['title' belongs in the header (not indented) or in a `scene` block (indented under it)]",
        "5:3 error misplaced-line: a narration line cannot stand in character 'Luna' "
        "[narration and dialogue go inside a `scene` block, indented]"]


SKETCH = '''\
# The Moon Who Lost Her Glow
title: The Moon Who Lost Her Glow
audience: 3-6
style: soft watercolor picture book, warm pastel colors
language: en
use: ../cast/owl.story          # share characters and voices across a story repository

voice narrator
  category: narrator
  edge: en-GB-SoniaNeural        # optional per-backend voice ids
  espeak: en-gb+f3
  rate: 0.95

voice small-girl
  category: child

character Luna
  description: a small silver moon with rosy cheeks and a blue nightcap
  voice: small-girl
  tags: moon, silver, rosy cheeks, blue nightcap
  reference: art/luna.png        # design image; a tagger can turn it into tags
  model: models/luna-dreambooth  # personalised weights (full fine-tune or LoRA)
  token: sks moon
  trainedness: 0.8               # default degree of trainedness, 0..1

scene night-falls
  title: Night falls
  setting: a quiet village at night, rooftops under bright stars
  trainedness: 0.5               # override for every personalised character in this scene
  trainedness Luna: 0.4          # override for one character
  camera: slow zoom in
  seed: 42
  "Every night, Luna lit up the sky above the village."
  Luna (worried): "Oh no! Where did my glow go?"
  Owl: ...                        # the LLM writes this line

scene the-search
  setting: a dark forest full of fireflies
  image: Luna peeking between tall pine trees, fireflies glowing around her
  # no lines at all: the LLM writes narration and dialogue for this scene
'''


def test_the_language_sketch_example_checks(tmp_path: Path) -> None:
    out = summary_of(tmp_path, "stories/moon.story", SKETCH,
                     {"cast/owl.story": "character Owl\n  description: a wise owl\n"})
    assert out == [
        "21:14 warning missing-reference: 'art/luna.png' does not exist yet",
        "22:10 warning missing-model: 'models/luna-dreambooth' does not exist yet"]
    story = load_story(tmp_path / "stories" / "moon.story")
    scene = story.scene("night-falls")
    assert story.trainedness_for(scene, "Luna", 1.0) == 0.4
    assert [line.speaker for line in scene.lines] == [None, "Luna", "Owl"]
    assert scene.lines[2].text is None and story.scene("the-search").lines == ()


def summary_of(tmp_path: Path, name: str, text: str, extra: dict[str, str]) -> list[str]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for other, body in {name: text, **extra}.items():
        (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / other).write_text(body, encoding="utf-8")
    _, diagnostics = load_with_diagnostics(tmp_path / name)
    return [f"{d.span.line}:{d.span.column} {d.severity} {d.code}: {d.message}"
            for d in diagnostics]


def test_rebase_paths_for_a_copy_written_elsewhere(tmp_path: Path) -> None:
    text = ("use: cast.story\nmusic: tune.wav\ncharacter Luna\n  reference: art/luna.png\n"
            "  model: models/luna\nscene a\n  with: Luna, Owl\n  music: tune.wav  # soft\n")
    summary_of(tmp_path, "stories/t.story", text, {"stories/cast.story": "character Owl\n"})
    write_wav(tmp_path / "stories" / "tune.wav")
    write_png(tmp_path / "stories" / "art" / "luna.png")
    story = load_story(tmp_path / "stories" / "t.story")
    run = tmp_path / "renders" / "t" / "run-1"
    run.mkdir(parents=True)
    (run / "resolved.story").write_text(format_story(rebase_paths(story, run)))
    assert "  music: ../../../stories/tune.wav  # soft\n" in (run / "resolved.story").read_text()
    copy, diagnostics = load_with_diagnostics(run / "resolved.story")
    assert [d.code for d in diagnostics] == ["missing-model"]
    assert resolve_path(copy.character("Luna").get("reference")) == \
        tmp_path / "stories" / "art" / "luna.png"


def test_a_wordless_scene_checks_clean_and_its_mistakes_are_named(tmp_path: Path) -> None:
    quiet = ('title: Sea\ncharacter Mo\n  description: a mouse\nscene a\n  Mo: "Hi."\n'
             "scene sea\n  setting: the sea at night\n  duration: 6\n  lines: none\n")
    assert summary(tmp_path, quiet) == []
    assert summary(tmp_path, 'title: Sea\nscene a\n  lines: nothing\n  "x"\nscene b\n'
                             '  lines: none\n  "Hi."\n') == [
        "3:10 error bad-lines: `lines:` takes only `none`, not 'nothing' [`lines: none` makes "
        "a scene without words (its picture and sound); a scene's lines are written under it, "
        "or by the writer]",
        "6:3 error wordless-with-lines: scene 'b' says `lines: none` but has lines [remove "
        "`lines: none`, or the lines]"]
    said = summary(tmp_path, "title: Sea\nscene a\n  lines: none\n  sfx: t.story at line 1\n")
    assert any(d.startswith("4:24 error bad-sfx: scene 'a' has no line 1 (it says `lines: none`)")
               for d in said)
    # a wordless scene is no place for the writer to bring a character in: Zed is unused
    assert summary(tmp_path, quiet + "character Zed\n  description: a bee\n") == [
        "10:11 warning unused-character: character 'Zed' never appears in a scene [give them a "
        "line, or name them in a scene's `with:`]"]
