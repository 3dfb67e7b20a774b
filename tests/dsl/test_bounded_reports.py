"""Issue 9: a report is bounded and says so: the 50-error stop, files that are not text, long lines."""

from __future__ import annotations

from pathlib import Path

from engine.dsl.load import load_with_diagnostics
from engine.dsl.parse import MAX_SYNTAX_ERRORS, STOPPED
from engine.errors import SOURCE_WINDOW, Diagnostic
from engine.ir import Span
from tests.dsl.test_check import diagnose


def broken_scenes(count: int) -> str:
    return "".join(f'scene s{i}\n  "unclosed {i}\n' for i in range(count))


def load(tmp_path: Path, data: bytes, name: str = "t.story") -> tuple[Diagnostic, ...]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / name).write_bytes(data)
    return load_with_diagnostics(tmp_path / name)[1]


# -- the stop after 50 syntax errors ---------------------------------------------------------------

def test_the_stop_after_50_syntax_errors_is_the_last_diagnostic(tmp_path: Path) -> None:
    diagnostics = load(tmp_path, broken_scenes(80).encode())
    assert [d.code for d in diagnostics] == ["unclosed-quote"] * MAX_SYNTAX_ERRORS + [STOPPED]
    note = diagnostics[-1]
    assert (note.span.line, note.span.column, note.severity) == (101, 1, "error")
    assert note.message == "stopped after 50 syntax errors: the rest of the file is not checked"
    assert note.hint == "fix these and run check again"


def test_no_stop_note_below_the_limit(tmp_path: Path) -> None:
    diagnostics = load(tmp_path, broken_scenes(MAX_SYNTAX_ERRORS - 1).encode())
    assert len(diagnostics) == MAX_SYNTAX_ERRORS - 1
    assert STOPPED not in {d.code for d in diagnostics}


def test_the_stop_note_at_the_end_of_the_file_stays_inside_it(tmp_path: Path) -> None:
    text = broken_scenes(MAX_SYNTAX_ERRORS)
    diagnostics = load(tmp_path, text.encode())
    note = diagnostics[-1]
    assert note.code == STOPPED
    assert (note.span.line, note.span.column) == (text.count("\n") + 1, 1)


# -- a file that is not text gets one error ----------------------------------------------------------

def test_a_binary_file_gets_one_error_at_its_first_bad_byte(tmp_path: Path) -> None:
    data = b'scene a\n  "fine"\n' + bytes(range(256)) * 4000 + b"\xff\xfe" * 1000
    [only] = load(tmp_path, data)
    assert only.code == "not-utf8" and only.severity == "error"
    assert only.message == "this file is not UTF-8 (byte 0x80 at offset 145)"
    assert (only.span.line, only.span.column) == (4, 118)  # byte 0x0a ends line 3


def test_nul_bytes_make_a_file_binary_even_when_it_decodes(tmp_path: Path) -> None:
    [only] = load(tmp_path, b"scene a\n" + b"\x00\x01" * 5000)
    assert only.code == "not-utf8"
    assert only.message == "this file looks binary, not like a story (a NUL byte at offset 8)"
    assert (only.span.line, only.span.column) == (2, 1)


def test_a_utf16_story_is_told_it_is_not_utf8(tmp_path: Path) -> None:
    [only] = load(tmp_path, 'scene a\n  "hi"\n'.encode("utf-16-le"))
    assert only.message.startswith("this file looks binary") and only.span.column == 2


def test_a_stray_nul_in_a_story_is_a_control_character_not_a_binary_file(tmp_path: Path) -> None:
    assert [d.code for d in load(tmp_path, b'scene a\n  "x\x00y"\n')] == ["control-character"]


def test_a_used_file_that_is_binary_gives_its_one_error_and_quiets_names(tmp_path: Path) -> None:
    load(tmp_path, b"\x00\xff" * 3000, "cast.story")
    diagnostics = load(tmp_path, b'use: cast.story\nscene a\n  Luna: "hi"\n')
    assert [(Path(d.span.file).name, d.code) for d in diagnostics] == [("cast.story", "not-utf8")]


# -- long lines are echoed in a window around the caret ----------------------------------------------

def rendered(line: str, column: int, width: int = 1) -> list[str]:
    span = Span("t.story", 1, column, 1, column + width)
    return Diagnostic(span, "error", "x", "m").render(line).splitlines()


def test_a_long_line_is_echoed_around_the_caret_with_the_caret_in_place() -> None:
    line = "".join(chr(ord("a") + i % 26) for i in range(100_000))
    for column in (1, 60, 50_000, 99_999, 100_001):
        echo, caret = rendered(line, column)[1:3]
        assert len(echo) <= SOURCE_WINDOW + 12 and len(caret) <= SOURCE_WINDOW + 12
        at = caret.index("^")
        expected = line[column - 1] if column <= len(line) else None
        assert (echo[at] if at < len(echo) else None) == expected
        assert echo.startswith("     1 | …") == (column > SOURCE_WINDOW // 2 + 1)
        assert echo.endswith("…") == (column < len(line) - SOURCE_WINDOW // 2)


def test_a_window_counts_escaped_characters_by_what_they_show() -> None:
    echo, caret = rendered("\x00" * 1000 + "X" + "\x00" * 1000, 1001)[1:3]
    assert len(echo) <= SOURCE_WINDOW + 12 and "\x00" not in echo
    assert echo[caret.index("^")] == "X"


def test_a_short_line_is_echoed_whole() -> None:
    assert rendered("title: x", 8)[1:3] == ["     1 | title: x", "       |        ^"]


def test_a_100kb_line_gives_a_short_report(tmp_path: Path) -> None:
    out = diagnose(tmp_path, 'scene a\n  "' + "x " * 50_000 + '" after\n')
    assert "error: " in out and len(out) < 1_000
