"""Lark's contextual lexer with its per-token loop inlined: the same terminals, states and tokens.

The grammar's terminals, the parser states and lark's compiled regexes are all lark's: only the
loop around them is ours. A story is made of many short tokens (3 a `scene NAME` line), and
lark's loop spends more time in calls (`next_token`, `match`, `feed`, `Token.__new__`) than in
the regexes; inlined, lexing costs about half. On a character no terminal matches, lark's own
loop takes over from the same position, so errors are exactly lark's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.lexer import ContextualLexer, LexerState

_new_token = Token._future_new  # Token(...) without its check for a deprecated keyword


class StoryLexer(ContextualLexer):
    """A drop-in `ContextualLexer` (lark's `_plugins`), with a tighter loop in `lex`."""

    def _tables(self) -> dict[int, tuple]:
        """For each parser state: its regexes, ignored and multi-line terminals, callbacks."""
        tables = getattr(self, "_by_state", None)
        if tables is None:
            tables = {state: (tuple(lexer.scanner._mres), lexer.ignore_types,  # type: ignore
                              lexer.newline_types, lexer.callback)
                      for state, lexer in self.lexers.items()}
            self._by_state = tables
        return tables

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        tables = self._tables()
        text, end = lexer_state.text.text, lexer_state.text.end
        counter = lexer_state.line_ctr
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        while pos < end:
            regexes, ignored, multiline, callbacks = tables[parser_state.position]
            for regex in regexes:
                match = regex.match(text, pos, end)
                if match:
                    break
            else:  # lark raises the error it would have raised, from here
                counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
                counter.column = pos - line_start + 1
                yield from super().lex(lexer_state, parser_state)
                return
            value, kind = match.group(), match.lastgroup
            start, start_line, column, pos = pos, line, pos - line_start + 1, match.end()
            if kind in multiline:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            if kind in ignored and kind not in callbacks:
                continue
            token = _new_token(kind, value, start, start_line, column, line, pos - line_start + 1,
                               pos)
            if kind in callbacks:
                token = callbacks[kind](token)
            if kind not in ignored:
                lexer_state.last_token = token
                yield token
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1

