"""Friendly diagnostics for syntax errors, and how parsing goes on past a broken line."""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from engine.errors import Diagnostic
from engine.ir import Span


class IndentProblem(Exception):
    """Raised by the indenter: a line whose indentation cannot be read."""

    def __init__(self, token: Token, code: str, message: str, hint: str):
        super().__init__(message)
        self.token, self.code, self.message, self.hint = token, code, message, hint



def syntax_diagnostic(error: Exception, lines: list[str], path: str) -> tuple[Diagnostic, int]:
    """A friendly diagnostic for a Lark error, and the (1-based) line it is on."""
    if isinstance(error, IndentProblem):
        tok = error.token
        line = tok.end_line if tok.end_line else tok.line
        indent = str(tok).rsplit("\n", 1)[1]
        span = Span(path, line, 1, line, len(indent) + 1)
        return Diagnostic(span, "error", error.code, error.message, error.hint), line
    if isinstance(error, UnexpectedCharacters):
        return _at_text(lines, path, error.line, error.column, None), error.line
    if isinstance(error, UnexpectedToken):
        tok = error.token
        expected = set(error.expected)
        if tok.type == "$END":
            line = max(1, len(lines))
            span = Span(path, line, 1, line, 1)
            return Diagnostic(span, "error", "unexpected-end", "the file ends in the middle of a line",
                              None), line
        line, col = tok.line, tok.column
        if tok.type == "_NL":
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            end = len(text.split("#")[0].rstrip()) + 1
            span = Span(path, line, end, line, end + 1)
            if "TEXT" in expected or "STRING" in expected:
                return Diagnostic(span, "error", "missing-value", "missing a value after ':'",
                                  "write the value on the same line: `key: value`"), line
            if "COLON" in expected:
                return _missing_colon(path, line, text, span), line
            if "RPAR" in expected:
                return Diagnostic(span, "error", "missing-parenthesis",
                                  "the direction's '(' is never closed",
                                  'write it as `Name (direction): "text"`'), line
            return Diagnostic(span, "error", "unexpected-end-of-line",
                              "this line ends too early", None), line
        if tok.type == "_INDENT":
            line = tok.end_line
            indent = str(tok)
            span = Span(path, line, 1, line, len(indent) + 1)
            return Diagnostic(span, "error", "unexpected-indent", "unexpected indentation",
                              "only the lines inside a voice, character or scene block are "
                              "indented"), line
        if tok.type == "_DEDENT":
            line = tok.end_line
            span = Span(path, line, 1, line, 2)
            return Diagnostic(span, "error", "empty-block", "this block has nothing in it",
                              None), line
        span = Span(path, line, col, tok.end_line or line,
                    tok.end_column if tok.end_line == line else col + 1)
        at_text = _at_text(lines, path, line, col, span)
        if at_text.code == "unclosed-quote":
            return at_text, line
        if "COLON" in expected:
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            return _missing_colon(path, line, text, span), line
        if at_text.code == "unexpected-text":
            return at_text, line
        words = lines[line - 1].split() if 0 < line <= len(lines) else []
        if len(words) > 2 and words[0] in _BLOCK_WORDS and col > len(lines[line - 1]) - len(
                lines[line - 1].lstrip()) + len(words[0]) + 1:
            return Diagnostic(span, "error", "bad-block-line",
                              f"unexpected '{tok}' after the {words[0]}'s name",
                              f"a block starts with `{words[0]} NAME` on its own line; a name is "
                              "one word (join words with '-')"), line
        if "NAME" in expected and tok.type in {"COLON", "_NL"}:
            return Diagnostic(span, "error", "missing-name", "missing a name here",
                              "blocks are `voice NAME`, `character NAME` or `scene ID`"), line
        return Diagnostic(span, "error", "not-a-statement", f"unexpected '{tok}'",
                          "a line is `key: value`, a block (`scene ID`), or a quoted narration "
                          "line"), line
    if isinstance(error, UnexpectedEOF):
        line = max(1, len(lines))
        return Diagnostic(Span(path, line, 1, line, 1), "error", "unexpected-end",
                          "the file ends in the middle of a line", None), line
    raise error


_BLOCK_WORDS = ("voice", "character", "scene")


def _missing_colon(path: str, line: int, text: str, fallback: Span) -> Diagnostic:
    """A missing ':' is reported after the key (`title The Moon` → after 'title')."""
    words = text.split("#")[0].split()
    if len(words) == 1 and words[0] in _BLOCK_WORDS:
        end = len(text.rstrip()) + 1
        return Diagnostic(Span(path, line, end, line, end + 1), "error", "missing-name",
                          f"missing a name after '{words[0]}'",
                          f"a block starts with `{words[0]} NAME` on its own line")
    if not words or ":" in text.split("#")[0] or '"' in words[0]:
        return Diagnostic(fallback, "error", "missing-colon", "missing ':'",
                          'fields are `key: value`; dialogue is `Name: "text"`')
    key = words[0]
    if key == "trainedness" and len(words) >= 3:
        key = " ".join(words[:2])
    end = len(text) - len(text.lstrip()) + len(key) + 1
    return Diagnostic(Span(path, line, end, line, end + 1), "error", "missing-colon",
                      f"missing ':' after '{key}'",
                      'fields are `key: value`; dialogue is `Name: "text"`')


def _at_text(lines: list[str], path: str, line: int, col: int, span: Span | None) -> Diagnostic:
    """A diagnostic for something unexpected at line:col, judged by the text around it."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    ch = text[col - 1] if 0 < col <= len(text) else ""
    span = span or Span(path, line, col, line, col + 1)
    if ch == '"' and text.count('"', col - 1) % 2 == 1:
        return Diagnostic(Span(path, line, col, line, col + 1), "error", "unclosed-quote",
                          "this quote is never closed",
                          'end the text with a matching `"` on the same line')
    if text[: col - 1].rstrip().endswith('"'):
        return Diagnostic(span, "error", "unexpected-text", "unexpected text after the closing quote",
                          "put everything that is said inside the quotes")
    if ch == '"':
        return Diagnostic(span, "error", "unexpected-text", "unexpected quoted text here",
                          'dialogue is `Name: "text"`; narration is a quoted line alone')
    shown = ch if ch.strip() else repr(ch)
    return Diagnostic(span, "error", "unexpected-character", f"unexpected character '{shown}'",
                      "a line is `key: value`, a block (`scene ID`), or a quoted narration line")


def blank_line(lines: list[str], index: int) -> None:
    """Drop a broken line, and the indented body under it, so parsing can go on past it."""
    def indent(s: str) -> int:
        return len(s) - len(s.lstrip(" \t"))

    own = indent(lines[index])
    lines[index] = ""
    j = index + 1
    while j < len(lines) and (not lines[j].strip() or indent(lines[j]) > own):
        if lines[j].strip() and not lines[j].lstrip().startswith("#"):
            lines[j] = ""
        j += 1
