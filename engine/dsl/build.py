"""The Lark transformer: statements and blocks become IR nodes while the parser runs."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

from lark import Token, Transformer

from engine.dsl import vocabulary
from engine.dsl.hints import straight_quoted
from engine.errors import Diagnostic
from engine.ir import NARRATOR, Character, Field, Line, Scene, Span, Value, Voice

SCENE_KEYS = frozenset(vocabulary.SCENE_KEYS)
"""Keys that are settings inside a scene; any other `NAME: "text"` there is a dialogue line."""


class Stmt(NamedTuple):
    """One statement as read, before its block says what it is (a field, a line, a problem)."""

    key: str | None  # None: narration
    argument: str | None
    direction: str | None
    value: Value
    kind: str  # "text" | "quoted" | "ellipsis"
    span: Span
    key_span: Span
    argument_span: Span | None
    direction_span: Span | None = None


BLOCKS = (Voice, Character, Scene)

_new_span = functools.partial(tuple.__new__, Span)
"""`Span(...)` without the call of a named tuple's `__new__` (one span a token)."""

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)")


def _unquote(raw: str) -> str:
    """The text between the quotes: `\\n`, `\\r`, `\\t` are control characters, `\\x` is x."""
    body = raw[1:-1]
    if "\\" not in body:
        return body
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _block(children: list) -> tuple[Token, Token, list]:
    """A block's keyword, name and statements (`KEYWORD NAME _NL [_INDENT body _DEDENT]`)."""
    return children[0], children[1], children[4] if len(children) > 3 else []


class Build(Transformer):
    """Builds IR nodes inside the parser; records statements that cannot stand where they are.

    The parser keeps every token (`keep_all_tokens`): lark need not filter the children of a
    rule for each statement, and each method here knows where its parts stand.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reset("<story>")

    def reset(self, path: str, line_of: Callable[[int], int] | None = None) -> None:
        """Start a parse of `path` (the one instance lives inside the cached parser).

        `line_of` gives the file's line number of a line of the parsed text: the parser may read
        a piece of the file (error recovery), and spans must name the file's lines.
        """
        self.path = path
        self.line_of = line_of
        self.problems: list[Diagnostic] = []

    def _span(self, token: Token) -> Span:
        line = self.line_of
        if line is None:  # the whole file: its lines are the text's (one span a token: keep it lean)
            return _new_span((self.path, token.line, token.column, token.end_line,
                              token.end_column))
        return _new_span((self.path, line(token.line), token.column, line(token.end_line),
                          token.end_column))

    def _on_its_line(self, token: Token, lead: int, length: int) -> Span:
        """The span of `length` characters of a one-line token, `lead` characters in."""
        line = token.line if self.line_of is None else self.line_of(token.line)
        column = token.column + lead
        return _new_span((self.path, line, column, line, column + length))

    def quoted(self, children):
        tok = children[0]
        return "quoted", Value(_unquote(tok.value), self._span(tok), True)

    def ellipsis(self, children):
        tok = children[0]
        return "ellipsis", Value("...", self._span(tok))

    def text(self, children):
        tok = children[0]
        stripped = tok.value.rstrip()
        return "text", Value(stripped, self._on_its_line(tok, 0, len(stripped)))

    def argument(self, children):
        return "argument", children[0]

    def direction(self, children):
        tok = children[1]  # between "(" and ")"
        text = tok.value
        lead = len(text) - len(text.lstrip())
        stripped = text.strip()
        return "direction", (stripped, self._on_its_line(tok, lead, len(stripped)))

    def entry(self, children):
        key_tok = children[0]
        (kind, value) = children[-2]  # before the newline; after the ':'
        argument = direction = None
        argument_span = direction_span = None
        for what, item in children[1:-3]:
            if what == "argument":
                argument, argument_span = item.value, self._span(item)
            else:
                direction, direction_span = item
        key_span = self._span(key_tok)
        end = value.span
        span = _new_span((self.path, key_span.line, key_span.column, end.end_line, end.end_column))
        return Stmt(key_tok.value, argument, direction, value, kind, span, key_span,
                    argument_span, direction_span)

    def narration(self, children):
        tok = children[0]
        value = Value(_unquote(tok.value), self._span(tok), True)
        return Stmt(None, None, None, value, "quoted", value.span, value.span, None)

    def _misplaced(self, stmt: Stmt, where: str) -> None:
        if stmt.key is None:
            self._problem(stmt.span, "misplaced-line", f"a narration line cannot stand {where}",
                          "narration and dialogue go inside a `scene` block, indented")
        elif stmt.kind == "ellipsis":
            self._problem(stmt.value.span, "misplaced-fill",
                          f"'...' (let the writer fill this in) cannot stand {where}",
                          "only scene lines can be left to the writer; write a value here")
        elif stmt.direction is not None:
            self._problem(stmt.key_span, "misplaced-direction",
                          f"a delivery direction cannot stand {where}",
                          "directions go with dialogue lines in a scene: `Luna (softly): \"...\"`")

    def _problem(self, span: Span, code: str, message: str, hint: str | None) -> None:
        self.problems.append(Diagnostic(span, "error", code, message, hint))

    def fields(self, stmts, where: str) -> tuple[Field, ...]:
        out = []
        for s in stmts:
            if s.key is None or s.kind == "ellipsis" or s.direction is not None:
                self._misplaced(s, where)
                continue
            out.append(Field(s.key, s.value, s.span, s.argument, s.argument_span))
        return tuple(out)

    def _block_spans(self, keyword: Token, name: Token, stmts) -> tuple[Span, Span]:
        """The block's span (its keyword to its last statement) and its name's."""
        name_span = self._span(name)
        end = stmts[-1].span if stmts else name_span
        line = keyword.line if self.line_of is None else self.line_of(keyword.line)
        return _new_span((self.path, line, keyword.column, end.end_line, end.end_column)), name_span

    def voice(self, children):
        keyword, name, stmts = _block(children)
        return Voice(name.value, self.fields(stmts, f"in voice '{name.value}'"),
                     *self._block_spans(keyword, name, stmts))

    def character(self, children):
        keyword, name, stmts = _block(children)
        return Character(name.value, self.fields(stmts, f"in character '{name.value}'"),
                         *self._block_spans(keyword, name, stmts))

    def scene(self, children):
        if len(children) == 3 and self.line_of is None:  # an empty scene of a whole file
            keyword, name = children[0], children[1]
            path, line, end_column = self.path, name.line, name.end_column
            return Scene(name.value, (), (),
                         _new_span((path, keyword.line, keyword.column, line, end_column)),
                         _new_span((path, line, name.column, name.end_line, end_column)))
        keyword, name, stmts = _block(children)
        if not stmts:
            return Scene(name.value, (), (), *self._block_spans(keyword, name, ()))
        fields, lines = self._scene_body(stmts)
        return Scene(name.value, fields, lines, *self._block_spans(keyword, name, stmts))

    def _scene_body(self, stmts: list[Stmt]) -> tuple[tuple[Field, ...], tuple[Line, ...]]:
        """A scene's settings and lines, and a problem for each statement that is neither."""
        fields, lines = [], []
        for s in stmts:
            is_setting = (s.key in SCENE_KEYS and s.direction is None and s.kind != "ellipsis")
            if s.key in SCENE_KEYS and s.argument is None and s.kind == "ellipsis":
                self._misplaced(s, f"as a scene's {s.key}")
                continue
            if s.key is not None and s.direction is not None and s.kind == "text":
                self._problem(s.value.span, "unquoted-dialogue", "dialogue must be quoted",
                              f"write it as `{s.key} ({s.direction}): "
                              f"{straight_quoted(s.value.text)}`")
                continue
            if s.key is not None and (is_setting or s.kind == "text"):
                if s.direction is not None:
                    self._misplaced(s, "on a scene setting")
                    continue
                fields.append(Field(s.key, s.value, s.span, s.argument, s.argument_span))
            elif s.argument is not None:
                self._problem(s.argument_span, "unexpected-word",
                              f"'{s.key} {s.argument}' is not a speaker",
                              "a dialogue line is `Name: \"text\"`; a speaker is one word")
            else:
                # `narrator: "..."` is a narration line, so consumers have one way to see it
                speaker = None if s.key == NARRATOR else s.key
                lines.append(Line(speaker, None if s.kind == "ellipsis" else s.value.text, s.span,
                                  s.direction, s.key_span if s.key is not None else None,
                                  direction_span=s.direction_span))
        return tuple(fields), tuple(lines)

    def start(self, children):
        return children[-1] if children and type(children[-1]) is list else []

    def top(self, children):
        """The list of what stands at the top level, grown by one (`top? item` in the grammar)."""
        if len(children) == 1:
            return children
        items, item = children
        items.append(item)
        return items

    body = top
