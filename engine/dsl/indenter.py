"""The indenter: newlines and leading whitespace become _NL, _INDENT and _DEDENT for the parser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.dsl.syntax import IndentProblem


class StoryIndenter:
    """What lark's `Indenter` post-lexer does, for story files: one indentation unit a file,
    comments kept.

    Not a post-lexer: the story lexer calls it from its own loop (one generator fewer a token),
    only for a newline whose indentation differs from the one before or that holds a comment.
    Tokens are made of the class of the newline's token (lark's, or lark-cython's).
    """

    NL_type = "_NL"
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def __init__(self) -> None:
        self.start_unit: str | None = None
        self.start()

    def start(self) -> None:
        """Begin a text: no block open; the unit carries over between the pieces of one file
        that error recovery parses (`start_unit`)."""
        self.indent_level = [0]
        self.unit: str | None = self.start_unit
        self.newlines: list[Any] = []

    def newline(self, token: Any) -> Iterator[Any]:
        """The tokens a newline becomes: itself, then the _INDENT or _DEDENTs it opens or closes
        (yielded one by one: the parser takes each before a bad dedent is raised, as in lark)."""
        # Comments live inside newline tokens; keeping the tokens spares a second scan of the text.
        value = token.value
        if "#" in value:
            self.newlines.append(token)
        if "\n" not in value:  # a comment at the very end of the text
            yield token
            return
        indent_str = value.rsplit("\n", 1)[1]
        if indent_str:
            unit = "\t" if indent_str[0] == "\t" else " "
            if self.unit is None:
                self.unit = unit
            if len(set(indent_str)) > 1:
                raise IndentProblem(token, "mixed-in-line")
            if unit != self.unit:
                raise IndentProblem(token, "mixed-unit", this=_UNIT_NAMES[unit],
                                    other=_UNIT_NAMES[self.unit])
        yield token
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        levels, borrow = self.indent_level, type(token).new_borrow_pos
        innermost = levels[-1]
        if indent > innermost:
            levels.append(indent)
            yield borrow(self.INDENT_type, indent_str, token)
            return
        while indent < levels[-1]:
            levels.pop()
            yield borrow(self.DEDENT_type, indent_str, token)
        if indent != levels[-1]:
            raise IndentProblem(token, "bad-indentation", columns=innermost)

    def end(self, last: Any) -> list[Any]:
        """The _DEDENTs that close the blocks still open at the end of the text (after `last`)."""
        out = []
        while len(self.indent_level) > 1:
            self.indent_level.pop()
            out.append(type(last).new_borrow_pos(self.DEDENT_type, "", last))
        return out


_UNIT_NAMES = {"\t": "tabs", " ": "spaces"}
