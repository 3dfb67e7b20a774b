"""Lark's contextual lexer with its per-token loop inlined; the same loop runs lark's parser.

The grammar's terminals, the parser states, lark's compiled regexes and its LALR tables are all
lark's: only the loop around them is ours. A story is made of many short tokens (3 a `scene
NAME` line), and lark's loops spend more time in calls (`next_token`, `match`, `feed`,
`Token.__new__`, a generator's resume, `feed_token`) than in the regexes or the tables. Here each
token is shifted, or the rules before it reduced, where it is lexed (`engine.dsl.lalr` plugs the
loop into lark's parser). A keyword (`scene`) matches NAME's regex and lark's callback renames it
by matching it again against the keywords: here, one dict look-up. Blanks are skipped without a
match when no other terminal can begin with one (`_blanks`). Newlines go to the indenter from
this loop, and only when their indentation changes. On a character no terminal matches, lark's
own lexer takes over from the same position, and a token the tables have no step for goes to
lark's `feed_token`, so errors are exactly lark's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any, NoReturn

from lark import Token
from lark.lexer import ContextualLexer, LexerState, PatternStr, UnlessCallback

from engine.dsl.indenter import StoryIndenter
from engine.dsl.starts import may_start_with, run_of

Steps = dict[Any, dict[str, tuple]]
"""lark's parse table with each reduction's rule looked up once (`engine.dsl.lalr.steps`): for
each parser state and symbol, `(None, next state)` (a shift, or the state after a rule), or
`(rule's length, (its callback, the symbol it makes))`."""


class StoryLexer(ContextualLexer):
    """A drop-in `ContextualLexer` (lark's `_plugins`) whose loop (`parse`) also makes the
    indentation tokens (`indenter`) and feeds every token to the parser."""

    def __init__(self, conf: Any, states: dict[int, Collection[str]],
                 always_accept: Collection[str] = (), *, indenter: StoryIndenter) -> None:
        # what lark does for a post-lexer: a newline can come in any parser state
        super().__init__(conf, states, always_accept=(*always_accept, indenter.NL_type))
        self.indenter = indenter
        self.blanks = _blanks(conf)

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
        raise NotImplementedError("the story lexer feeds lark's parser itself: parse with "
                                  "engine.dsl.lalr.StoryParser")

    def parse(self, lexer_state: LexerState, parser_state: Any, steps: Steps) -> Token | None:
        """Lex the text and feed each token to the parser's tables as lark's `feed_token` does
        (shift, or reduce through the rule's callback first); returns the last token fed.

        One loop for both: no generator to resume and no `feed_token` call a token. A token the
        parser cannot take goes to lark's `feed_token`, which raises lark's error for it."""
        tables = self._tables()
        states, values = parser_state.state_stack, parser_state.value_stack  # the parser's own
        indenter, newline, new_str = self.indenter, self.indenter.NL_type, str.__new__
        blanks = self.blanks
        indenter.start()
        text, end = lexer_state.text.text, lexer_state.text.end
        counter = lexer_state.line_ctr
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        same: str | None = None  # the indentation of the last newline, when it held no comment
        token = last = None  # the last token fed, the last token lexed
        while pos is not None:
            if pos < end:
                if text[pos] in blanks:  # ignored, and only that can begin there (`_blanks`)
                    pos += 1
                    continue
                regexes, actions = tables[states[-1]]
                for regex in regexes:
                    match = regex.match(text, pos, end)
                    if match:
                        break
                else:  # lark raises the error it would have raised, from here
                    self._lark_lex(lexer_state, parser_state, last, pos, line, line_start)
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
                last = new_str(Token, value)  # what lark's Token(...) does, without a call
                last.type, last.value, last.start_pos, last.end_pos = kind, value, start, pos
                last.line, last.column, last.end_line = start_line, column, line
                last.end_column = pos - line_start + 1
                if callback is not None:
                    last = callback(last)
                fed: Iterable[Token] = (last,)
                if last.type == newline:
                    # a newline indented like the one before changes nothing (most lines)
                    indent = value[value.rfind("\n") + 1:]
                    if indent != same or "#" in value:
                        fed, same = indenter.newline(last), indent
            else:
                counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
                counter.column = pos - line_start + 1
                lexer_state.last_token = last
                fed, pos = indenter.end(last), None
            for token in fed:
                kind = token.type
                step = steps[states[-1]].get(kind)
                while step is not None and step[0] is not None:  # reduce
                    size, (rule, origin) = step
                    children = values[-size:] if size else []
                    if size:
                        del states[-size:], values[-size:]
                    made = rule(children)
                    states.append(steps[states[-1]][origin][1])
                    values.append(made)
                    step = steps[states[-1]].get(kind)
                if step is None:
                    parser_state.feed_token(token)  # raises lark's UnexpectedToken
                    raise AssertionError(f"lark's parser took {token!r}; the story's did not")
                states.append(step[1])
                values.append(token)
        return token

    def _lark_lex(self, lexer_state: LexerState, parser_state: Any, last: Token | None,
                  pos: int, line: int, line_start: int) -> NoReturn:
        """Raise the error lark's own lexer raises at `pos` (no terminal matches there)."""
        counter = lexer_state.line_ctr
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        lexer_state.last_token = last
        next(super().lex(lexer_state, parser_state))
        raise AssertionError(f"lark's lexer matched what the story lexer did not at {pos}")


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


def _blanks(conf: Any) -> str:
    """The characters the loop skips without a match: those of the one ignored terminal when it
    is a run of some characters (`[\\t ]+`) that no other terminal's match can begin with.
    Then skipping them one by one is what matching that terminal does."""
    ignored = [t for t in conf.terminals if t.name in conf.ignore]
    if (len(ignored) != 1 or conf.g_regex_flags or conf.re_module is not re
            or conf.callbacks.get(ignored[0].name)):
        return ""
    blanks = run_of(ignored[0].pattern.to_regexp())
    others = [t.pattern.to_regexp() for t in conf.terminals if t.name not in conf.ignore]
    if any(may_start_with(other, char) for other in others for char in blanks):
        return ""
    return blanks


def _plain_keywords(callback: Any, lexer: Any) -> bool:
    """Whether `callback` is lark's renaming of a match that is exactly one of some literal
    strings, without regex flags (then a dict look-up does the same)."""
    return (type(callback) is UnlessCallback and not lexer.g_regex_flags
            and all(type(t.pattern) is PatternStr and not t.pattern.flags
                    for t in callback.scanner.terminals))

