"""A story file's bytes as text: UTF-8 or not, binary or not, and the characters no story has."""

from __future__ import annotations

import re

from engine.dsl.vocabulary import FORBIDDEN
from engine.errors import Diagnostic, escaped
from engine.ir import Span

MAX_CONTROL_ERRORS = 50
_FORBIDDEN = re.compile(FORBIDDEN.pattern + "|\r(?!\n)")


def decode(data: bytes, path: str) -> tuple[str, tuple[Diagnostic, ...]]:
    """UTF-8 text of a file, or the one diagnostic saying it is not text and where that shows.

    A file is not text when it does not decode as UTF-8 (located at the first bad byte) or when
    NUL bytes make up a share of its start no text has (a binary file, UTF-16; located at the
    first NUL). A stray NUL in a story is a control character, reported as such by the parser.
    The text returned for such a file (bad bytes replaced) is for echoing its lines only.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.decode("utf-8", "replace"), (_not_text(
            data, error.start, f"this file is not UTF-8 (byte 0x{data[error.start]:02x} "
            f"at offset {error.start})", "save the file with UTF-8 encoding", path),)
    if _looks_binary(data):
        at = data.index(0)
        return text, (_not_text(data, at, f"this file looks binary, not like a story "
                                f"(a NUL byte at offset {at})",
                                "a story is plain text: save it with UTF-8 encoding", path),)
    return text, ()


_SNIFFED = 8192
"""How many bytes from a file's start `_looks_binary` reads."""


def _looks_binary(data: bytes) -> bool:
    head = data[:_SNIFFED]
    nuls = head.count(0)
    return nuls >= 4 and nuls * 100 >= len(head)  # at least 1 byte in 100: no story has that


def _not_text(data: bytes, at: int, message: str, hint: str, path: str) -> Diagnostic:
    before = data[:at]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
    return Diagnostic(Span(path, line, column, line, column + 1), "error", "not-utf8",
                      message, hint)


def forbidden_characters(text: str, path: str) -> tuple[list[Diagnostic], str]:
    """A diagnostic for each forbidden character, and the text with each made a space.

    (A space keeps every column where it was, so the rest of the file is still checked.)
    """
    out: list[Diagnostic] = []
    line, line_start, pos = 1, 0, 0
    for count, match in enumerate(_FORBIDDEN.finditer(text)):
        at = match.start()
        line += text.count("\n", pos, at)
        newline = text.rfind("\n", pos, at)
        line_start = newline + 1 if newline >= 0 else line_start
        pos = at
        column = at - line_start + 1
        span = Span(path, line, column, line, column + 1)
        if count == MAX_CONTROL_ERRORS:
            rest = sum(1 for _ in _FORBIDDEN.finditer(text, at))
            out.append(Diagnostic(span, "error", "control-character",
                                  f"{rest} more control characters from here on",
                                  "is this a story file? save it as plain UTF-8 text"))
            break
        out.append(_control(match.group(), span))
    return out, (_FORBIDDEN.sub(" ", text) if out else text)


def _control(ch: str, span: Span) -> Diagnostic:
    if ch == "\r":
        return Diagnostic(span, "error", "control-character",
                          "a carriage return (\\r) that does not end a line",
                          "end lines with \\n or \\r\\n")
    if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
        return Diagnostic(span, "error", "bidi-control",
                          f"invisible bidirectional control {escaped(ch)}",
                          "delete it: it shows the text in another order than it is read")
    return Diagnostic(span, "error", "control-character", f"invisible control character "
                      f"{escaped(ch)}", "delete it: it would reach the terminal, the captions "
                      "and the speech")
