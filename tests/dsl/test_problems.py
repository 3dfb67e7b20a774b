"""Issue 9: control characters, every problem in one run, media probed, durations, directions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.dsl.load import load_with_diagnostics, render_diagnostics
from engine.errors import Diagnostic
from engine.ir import Span
from tests.dsl.test_check import CAST, diagnose, summary, write_png, write_wav

# -- control characters --------------------------------------------------------------------------

def test_control_characters_are_errors_shown_escaped_with_the_caret_in_place(
        tmp_path: Path) -> None:
    text = 'title: a\x1bb\nscene a\n  "x\x00y\x07"\n  "\u202eabc"\n'
    assert diagnose(tmp_path, text) == """\
t.story:1:9: error: invisible control character \\x1b
     1 | title: a\\x1bb
       |         ^^^^
  hint: delete it: it would reach the terminal, the captions and the speech
t.story:3:5: error: invisible control character \\x00
     3 |   "x\\x00y\\x07"
       |     ^^^^
  hint: delete it: it would reach the terminal, the captions and the speech
t.story:3:7: error: invisible control character \\x07
     3 |   "x\\x00y\\x07"
       |          ^^^^
  hint: delete it: it would reach the terminal, the captions and the speech
t.story:4:4: error: invisible bidirectional control \\u202e
     4 |   "\\u202eabc"
       |    ^^^^^^
  hint: delete it: it shows the text in another order than it is read"""


@pytest.mark.parametrize(("raw", "shown"), [("\x0c", "\\x0c"), ("\x85", "\\x85"),
                                            ("\u2066", "\\u2066"), ("\x7f", "\\x7f"),
                                            ("\u2028", "\\u2028")])
def test_each_kind_of_control_character(tmp_path: Path, raw: str, shown: str) -> None:
    out = summary(tmp_path, f'scene a\n  "one{raw}two"\n')
    assert len(out) == 1 and out[0].startswith("2:7 error ") and shown in out[0]


@pytest.mark.parametrize("raw", ["\x01", "\x0c"])
def test_a_control_character_that_starts_the_file_is_not_also_an_indentation(
        tmp_path: Path, raw: str) -> None:
    out = summary(tmp_path, f'{raw}title: A\nscene a\n  "hi"\n')
    assert len(out) == 1 and out[0].startswith("1:1 error control-character")


def test_a_lone_carriage_return(tmp_path: Path) -> None:
    assert summary(tmp_path, 'scene a\r  "x"\r\n') == [
        "1:8 error control-character: a carriage return (\\r) that does not end a line "
        "[end lines with \\n or \\r\\n]"]


def test_a_control_character_in_a_name_gives_one_error(tmp_path: Path) -> None:
    out = summary(tmp_path, 'character Lu\x00na\nscene a\n  Luna: "hi"\n')
    assert [line.split(":")[0] + " " + line.split()[2] for line in out] == [
        "1 control-character:"]


def test_many_control_characters_get_a_bounded_report(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.story").write_bytes(b"\x01\x02" * 5000)
    _, diagnostics = load_with_diagnostics(tmp_path / "t.story")
    controls = [d for d in diagnostics if d.code == "control-character"]
    assert len(controls) == 51
    assert controls[-1].message == "9950 more control characters from here on"


def test_nothing_raw_reaches_the_terminal_from_a_rendered_diagnostic() -> None:
    d = Diagnostic(Span("a\x1b.story", 1, 3, 1, 5), "error", "x", "bad \x07 thing", "hint \x9b")
    out = d.render("a\tb\x1bc\u202ed")
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    assert out.splitlines()[1:3] == ["     1 | a b\\x1bc\\u202ed", "       |   ^^^^^"]


# -- every problem in one run ----------------------------------------------------------------------

def test_a_syntax_error_does_not_hide_the_other_problems(tmp_path: Path) -> None:
    text = ("voice v\n  category: child\ncharacter Luna\n  voice: smal-girl\n"
            "  trainedness: 1.5\n  model: m\nscene one\n  Luna: \"hello\n  Luna: \"fine\"\n"
            "scene two\n  Bob: \"who?\"\n  with: Luna, Owl\n  Luna (zébrée): \"oh\"\n")
    assert summary(tmp_path, text) == [
        "4:10 error unknown-voice: unknown voice 'smal-girl' [a voice is declared with "
        "`voice NAME`, or is a category: narrator, child, adult, elder, creature]",
        "5:16 error bad-trainedness: trainedness must be a number from 0 to 1 or `auto`, not '1.5' "
        "[0 draws with the base model, 1 fully like the trained one; `auto` tries several and "
        "keeps the best]",
        "6:10 warning missing-model: 'm' does not exist yet "
        "[the offline illustrator does without it; personalised backends need it]",
        '8:9 error unclosed-quote: this quote is never closed '
        '[end the text with a matching `"` on the same line]',
        "11:3 error unknown-speaker: unknown speaker 'Bob' [declare them with `character Bob`; "
        "narration lines need no speaker]",
        "12:15 error unknown-character: unknown character 'Owl' in `with:` "
        "[declare them with `character Owl`]",
        "13:9 warning unknown-direction: unknown delivery direction 'zébrée' [the line is said "
        "plainly; directions the voices know (en): afraid, amazed, angry, brave, call, calm, "
        "cheer, cheerful, chuckle, cry, curious, excited, … (docs/language.md lists them; a TTS "
        "backend's `directions:` setting adds more)]"]


def test_names_on_a_broken_block_line_stay_quiet(tmp_path: Path) -> None:
    text = 'character Luna (x)\nscene a\n  Luna: "hi"\n  with: Luna\n  Bob: "who?"\n'
    assert [s.split(" [")[0] for s in summary(tmp_path, text)] == [
        "1:16 error bad-block-line: unexpected '(x)' after the character's name",
        "5:3 error unknown-speaker: unknown speaker 'Bob'"]


def test_a_broken_line_inside_a_block_keeps_the_rest_of_the_block(tmp_path: Path) -> None:
    text = (CAST + "scene a\n  title The start\n  Luna: \"hi\"\n  Zoë (sad) \"no\"\n"
            "  Zoë: \"yes\"\n  Owl: \"hoo\"\n")
    out = summary(tmp_path, text)
    assert [s.split(" [")[0] for s in out] == [
        "6:8 error missing-colon: missing ':' after 'title'",
        "8:12 error missing-colon: missing ':' after 'Zoë (sad)'",
        "10:3 error unknown-speaker: unknown speaker 'Owl'"]
    story = load_with_diagnostics(tmp_path / "t.story")
    assert story[0] is None


def test_a_used_file_with_a_syntax_error_still_lends_its_names(tmp_path: Path) -> None:
    out = summary_with(tmp_path, 'use: cast.story\nscene a\n  Owl: "hoo"\n  Bob: "who?"\n'
                       '  Fox: "yip"\n',
                       {"cast.story": "character Owl\ncharacter Fox (x)\n"})
    assert [s.split(" [")[0] for s in out] == [
        "cast.story 2:15 error bad-block-line: unexpected '(x)' after the character's name",
        "t.story 4:3 error unknown-speaker: unknown speaker 'Bob'"]


def summary_with(tmp_path: Path, text: str, extra: dict[str, str]) -> list[str]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, body in {"t.story": text, **extra}.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    _, diagnostics = load_with_diagnostics(tmp_path / "t.story")
    return [f"{Path(d.span.file).name} {d.span.line}:{d.span.column} {d.severity} {d.code}: "
            f"{d.message}" + (f" [{d.hint}]" if d.hint else "") for d in diagnostics]


def test_a_missing_used_file_still_quiets_the_names(tmp_path: Path) -> None:
    out = summary(tmp_path, 'use: gone.story\nscene a\n  Owl: "hoo"\n')
    assert [s.split(" [")[0] for s in out] == [
        "1:6 error missing-use: no such story file: 'gone.story'"]


# -- values ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("6", None), ("2", None), ("300", None),
    ("0.5", "warning odd-duration: a scene of 0.5 seconds is unusually short"),
    ("3600", "warning odd-duration: a scene of 3600 seconds is unusually long"),
    ("0.01", "error bad-duration: duration must be a number of seconds from 0.5 to 3600, "
             "not '0.01'"),
    ("100000", "error bad-duration: duration must be a number of seconds from 0.5 to 3600, "
               "not '100000'"),
    ("1", "warning odd-duration: a scene of 1 second is unusually short"),
    ("900", "warning odd-duration: a scene of 900 seconds is unusually long"),
])
def test_duration_range(tmp_path: Path, value: str, expected: str | None) -> None:
    out = [s.split(" [")[0] for s in summary(tmp_path, f'scene a\n  duration: {value}\n  "x"\n')]
    assert out == ([] if expected is None else [f"2:13 {expected}"])


def test_known_directions_and_mixed_words_are_fine(tmp_path: Path) -> None:
    text = (CAST + 'scene a\n  Luna (whispering): "a"\n  Zoë (softly, a little scared): "b"\n'
            '  Luna (zébrée): "c"\n  Zoë (waving): "d"\n')  # a pose: the picture shows it
    assert [s.split(" [")[0] for s in summary(tmp_path, text)] == [
        "8:9 warning unknown-direction: unknown delivery direction 'zébrée'"]


# -- media -----------------------------------------------------------------------------------------

def test_media_files_are_probed_before_a_render(tmp_path: Path) -> None:
    write_wav(tmp_path / "good.wav")
    write_png(tmp_path / "good.png")
    (tmp_path / "text.wav").write_text("not audio at all\n")
    (tmp_path / "text.png").write_text("not an image\n")
    (tmp_path / "folder.wav").mkdir()
    os.mkfifo(tmp_path / "pipe.wav")
    text = ("music: good.wav\ncharacter Luna\n  reference: good.png\ncharacter Zoë\n"
            "  reference: text.png\nscene a\n  with: Luna, Zoë\n  music: text.wav\n"
            "scene b\n  music: pipe.wav\n  \"x\"\nscene c\n  music: folder.wav\n  \"y\"\n")
    assert summary(tmp_path, text) == [
        "5:14 error bad-reference: 'text.png' cannot be used as image: it is not an image "
        "Pillow can read (PNG, JPEG, WebP, …) [`reference:` names an image file (PNG, JPEG, "
        "WebP, …) or a folder of them]",
        "8:10 error bad-music: 'text.wav' cannot be used as audio: it is not audio FFmpeg can "
        "read (Invalid data found when processing input) [`music:` names an audio file (WAV, "
        "MP3, OGG, FLAC, …)]",
        "10:10 error bad-music: 'pipe.wav' cannot be used as audio: it is a named pipe (FIFO), "
        "not a regular file [`music:` names an audio file (WAV, MP3, OGG, FLAC, …)]",
        "13:10 error bad-music: 'folder.wav' cannot be used as audio: it is a folder, not a "
        "file [`music:` names an audio file (WAV, MP3, OGG, FLAC, …)]"]


def test_a_reference_folder_holds_images_and_nothing_else(tmp_path: Path) -> None:
    for name, files in {"good": ["a.png", "b.png"], "mixed": ["a.png"],
                        "broken": ["a.png"], "empty": []}.items():
        (tmp_path / name / "sub").mkdir(parents=True)
        for file in files:
            write_png(tmp_path / name / file)
        (tmp_path / name / ".DS_Store").write_bytes(b"\0")  # hidden files are left alone
    (tmp_path / "broken" / "b.jpg").write_text("not a picture")
    (tmp_path / "mixed" / "c.psd").write_text("layers")
    (tmp_path / "mixed" / "notes.txt").write_text("the fox's colours")
    text = "".join(f"character C{i}\n  reference: {name}/\n" for i, name in
                   enumerate(["good", "mixed", "broken", "empty", "gone"]))
    text += "scene a\n  with: C0, C1, C2, C3, C4\n"
    hint = " [`reference:` names an image file (PNG, JPEG, WebP, …) or a folder of them]"
    suffixes = "(.png, .jpg, .jpeg, .webp, .bmp)"
    assert summary(tmp_path, text) == [
        f"4:14 error bad-reference: 'mixed/' cannot be used as image: 'c.psd', 'notes.txt' in "
        f"it are not images {suffixes}{hint}",
        "6:14 error bad-reference: 'broken/' cannot be used as image: 'b.jpg' in it: it is not "
        f"an image Pillow can read (PNG, JPEG, WebP, …){hint}",
        f"8:14 error bad-reference: 'empty/' cannot be used as image: the folder holds no "
        f"images {suffixes}{hint}",
        "10:14 warning missing-reference: 'gone/' does not exist yet [the offline illustrator "
        "does without it; personalised backends need it]"]


def test_every_media_key_of_the_vocabulary_is_probed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.dsl import vocabulary

    monkeypatch.setitem(vocabulary.MEDIA_KEYS, "model", "image")
    (tmp_path / "m.bin").write_text("weights")
    out = summary(tmp_path, 'character Luna\n  model: m.bin\nscene a\n  Luna: "hi"\n')
    assert [s.split(":")[0] + " " + s.split()[2] for s in out] == ["2 bad-model:"]


def test_a_fifo_as_a_used_file_is_refused_without_opening_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "cast.story")
    assert summary(tmp_path, "use: cast.story\nscene a\n") == [
        "1:6 error not-a-file: 'cast.story' cannot be used as a story file: it is a named pipe "
        "(FIFO), not a regular file"]


def test_rendered_media_errors_read_well(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_text("hello")
    out = diagnose(tmp_path, "music: x.wav\nscene a\n")
    assert out.splitlines()[1:3] == ["     1 | music: x.wav", "       |        ^^^^^"]
    assert render_diagnostics(()) == ""
