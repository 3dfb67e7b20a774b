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
        """For each parser state: its regexes, and for each terminal what to do with a match
        (whether it spans lines, its callback, whether the parser gets it)."""
        tables = getattr(self, "_by_state", None)
        if tables is None:
            tables = {state: (tuple(lexer.scanner._mres), _actions(lexer))  # type: ignore
                      for state, lexer in self.lexers.items()}
            self._by_state = tables
        return tables

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        tables = self._tables()
        states = parser_state.state_stack  # changed in place by the parser: its top is the state
        text, end = lexer_state.text.text, lexer_state.text.end
        counter = lexer_state.line_ctr
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        while pos < end:
            regexes, actions = tables[states[-1]]
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
            multiline, callback, kept = actions[kind]
            if multiline:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            if not kept and callback is None:
                continue
            token = _new_token(kind, value, start, start_line, column, line, pos - line_start + 1,
                               pos)
            if callback is not None:
                token = callback(token)
            if kept:
                lexer_state.last_token = token
                yield token
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1


def _actions(lexer: Any) -> dict[str, tuple[bool, Any, bool]]:
    """For each terminal of a state's lexer: (may span lines, its callback, the parser gets it)."""
    kinds = set(lexer.callback) | set(lexer.ignore_types) | set(lexer.newline_types) | {
        name for regex in lexer.scanner._mres for name in regex.groupindex}
    return {kind: (kind in lexer.newline_types, lexer.callback.get(kind),
                   kind not in lexer.ignore_types) for kind in kinds}
