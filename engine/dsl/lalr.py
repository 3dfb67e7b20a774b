"""lark's LALR parser, with its loop run by the story lexer (one loop for tokens and table)."""

from __future__ import annotations

from typing import Any

from lark import Token
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser import LALR_Parser, _Parser

from engine.dsl.lexer import Steps, StoryLexer


class StoryParser(LALR_Parser):
    """A drop-in `LALR_Parser` (lark's `_plugins`): the same tables, built or loaded by lark,
    driven from `StoryLexer.parse`."""

    def __init__(self, parser_conf: Any, debug: bool = False, strict: bool = False) -> None:
        super().__init__(parser_conf, debug=debug, strict=strict)
        self.parser = _Loop(self._parse_table, parser_conf.callbacks, debug)

    @classmethod
    def deserialize(cls, data: Any, memo: Any, callbacks: Any, debug: bool = False) -> Any:
        inst = super().deserialize(data, memo, callbacks, debug)
        inst.parser = _Loop(inst._parse_table, callbacks, debug)
        return inst


class _Loop(_Parser):
    """lark's `_Parser` whose main loop (`parse_from_state`) the story lexer runs."""

    def __init__(self, parse_table: Any, callbacks: Any, debug: bool = False) -> None:
        super().__init__(parse_table, callbacks, debug)
        self.steps = steps(parse_table.states, callbacks)

    def parse_from_state(self, state: Any, last_token: Token | None = None) -> Any:
        """What lark's does: every token fed, then the end; an error carries its parser."""
        thread = state.lexer
        lexer = thread.lexer
        if not isinstance(lexer, StoryLexer):
            return super().parse_from_state(state, last_token)
        try:
            token = lexer.parse(thread.state, state, self.steps) or last_token
            end = Token.new_borrow_pos("$END", "", token) if token else Token("$END", "", 0, 1, 1)
            return state.feed_token(end, True)
        except UnexpectedInput as error:
            error.interactive_parser = InteractiveParser(self, state, thread)
            raise


def steps(states: dict[Any, dict[str, tuple]], callbacks: dict) -> Steps:
    """lark's table with each reduction's rule resolved once (see `Steps`): lark looks its
    rule's callback up by the rule (a Python-level hash and compare) at every reduction."""
    if any(isinstance(key, str) for key in callbacks):
        raise ValueError("a transformer method for a terminal is not supported here")
    return {state: {symbol: (None, arg) if action is Shift
                    else (len(arg.expansion), (callbacks[arg], arg.origin.name))
                    for symbol, (action, arg) in row.items()}
            for state, row in states.items()}
