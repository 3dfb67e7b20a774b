"""Lark's contextual lexer with its per-token loop inlined, and the indenter called from it.

The grammar's terminals, the parser states and lark's compiled regexes are all lark's: only the
loop around them is ours. A story is made of many short tokens (3 a `scene NAME` line), and
lark's loop spends more time in calls (`next_token`, `match`, `feed`, `Token.__new__`) than in
the regexes; inlined, lexing costs about half. A keyword (`scene`) matches NAME's regex and
lark's callback renames it by matching it again against the keywords: here, one dict look-up.
Newlines go to the indenter from this loop (lark's post-lexer would be one generator more a
token), and only when their indentation changes. On a character no terminal matches, lark's own
loop takes over from the same position, so errors are exactly lark's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from lark import Token
from lark.lexer import ContextualLexer, LexerState, PatternStr, UnlessCallback

from engine.dsl.indenter import StoryIndenter

_new_token = Token._future_new  # Token(...) without its check for a deprecated keyword


class StoryLexer(ContextualLexer):
    """A drop-in `ContextualLexer` (lark's `_plugins`), with a tighter loop in `lex` that also
    makes the indentation tokens (`indenter`)."""

    def __init__(self, conf: Any, states: dict[int, Collection[str]],
                 always_accept: Collection[str] = (), *, indenter: StoryIndenter) -> None:
        # what lark does for a post-lexer: a newline can come in any parser state
        super().__init__(conf, states, always_accept=(*always_accept, indenter.NL_type))
        self.indenter = indenter

    def _tables(self) -> dict[int, tuple]:
        """For each parser state: its regexes, and for each terminal what to do with a match
        (whether it spans lines, its callback, whether the parser gets it, keywords it may be)."""
        tables = getattr(self, "_by_state", None)
        if tables is None:
            tables = {state: (tuple(lexer.scanner._mres), _actions(lexer))  # type: ignore
                      for state, lexer in self.lexers.items()}
            self._by_state = tables
        return tables

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        tables = self._tables()
        states = parser_state.state_stack  # changed in place by the parser: its top is the state
        indenter, newline, new_token = self.indenter, self.indenter.NL_type, _new_token
        indenter.start()
        text, end = lexer_state.text.text, lexer_state.text.end
        counter = lexer_state.line_ctr
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        same: str | None = None  # the indentation of the last newline, when it held no comment
        token = None
        while pos < end:
            regexes, actions = tables[states[-1]]
            for regex in regexes:
                match = regex.match(text, pos, end)
                if match:
                    break
            else:  # lark raises the error it would have raised, from here
                counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
                counter.column = pos - line_start + 1
                next(super().lex(lexer_state, parser_state))
                raise AssertionError(f"lark's lexer matched what the story lexer did not at {pos}")
            value, kind = match.group(), match.lastgroup
            start, start_line, column, pos = pos, line, pos - line_start + 1, match.end()
            multiline, callback, kept, keywords = actions[kind]
            if multiline:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            if not kept:
                continue
            if keywords is not None:
                kind = keywords.get(value, kind)
            token = new_token(kind, value, start, start_line, column, line, pos - line_start + 1,
                               pos)
            if callback is not None:
                token = callback(token)
            lexer_state.last_token = token
            if token.type != newline:
                yield token
                continue
            # a newline indented like the one before changes nothing (most lines of a story)
            indent = value[value.rfind("\n") + 1:]
            if indent == same and "#" not in value:
                yield token
            else:
                yield from indenter.newline(token)
                same = indent
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        yield from indenter.end(token)


def _actions(lexer: Any) -> dict[str, tuple[bool, Any, bool, dict[str, str] | None]]:
    """For each terminal of a state's lexer: (may span lines, its callback, the parser gets it,
    the keywords it becomes when its text is one)."""
    kinds = set(lexer.callback) | set(lexer.ignore_types) | set(lexer.newline_types) | {
        name for regex in lexer.scanner._mres for name in regex.groupindex}
    out = {}
    for kind in kinds:
        callback, keywords = lexer.callback.get(kind), None
        if _plain_keywords(callback, lexer):
            keywords = {t.pattern.value: t.name for t in callback.scanner.terminals}
            callback = None
        out[kind] = (kind in lexer.newline_types, callback, kind not in lexer.ignore_types,
                     keywords)
    return out


def _plain_keywords(callback: Any, lexer: Any) -> bool:
    """Whether `callback` is lark's renaming of a match that is exactly one of some literal
    strings, without regex flags (then a dict look-up does the same)."""
    return (type(callback) is UnlessCallback and not lexer.g_regex_flags
            and all(type(t.pattern) is PatternStr and not t.pattern.flags
                    for t in callback.scanner.terminals))

