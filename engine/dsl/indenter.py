"""The indenter: newlines and leading whitespace become _NL, _INDENT and _DEDENT for the parser."""

from __future__ import annotations

from lark import Token
from lark.indenter import DedentError, Indenter

from engine.dsl.syntax import IndentProblem


class StoryIndenter(Indenter):
    """lark's Indenter for story files: one indentation unit a file, comments kept."""

    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def __init__(self) -> None:
        super().__init__()
        self.start_unit: str | None = None

    def process(self, stream):  # type: ignore[override]
        # the unit carries over between the pieces of one file that error recovery parses
        self.unit: str | None = self.start_unit
        self.newlines: list[Token] = []
        return super().process(stream)

    def _process(self, stream):  # type: ignore[override]
        # lark's loop, with a shortcut: a newline indented like the one before changes nothing
        # (most lines of a story), so only its token goes on. Comments always go the long way.
        same: str | None = None
        token = None
        for token in stream:
            if token.type != "_NL":
                yield token
                continue
            indent_str = token[token.rfind("\n") + 1:]
            if indent_str == same and "#" not in token:
                yield token
            else:
                yield from self.handle_NL(token)
                same = indent_str
        while len(self.indent_level) > 1:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, "", token) if token \
                else Token(self.DEDENT_type, "", 0, 0, 0, 0, 0, 0)

    def handle_NL(self, token: Token):  # type: ignore[override]
        # Comments live inside newline tokens; keeping the tokens spares a second scan of the text.
        if "#" in token:
            self.newlines.append(token)
        if "\n" not in token:  # a comment at the very end of the text
            yield token
            return
        indent_str = token.rsplit("\n", 1)[1]
        if indent_str:
            unit = "\t" if indent_str[0] == "\t" else " "
            if self.unit is None:
                self.unit = unit
            if len(set(indent_str)) > 1:
                raise IndentProblem(token, "mixed-in-line")
            if unit != self.unit:
                raise IndentProblem(token, "mixed-unit", this=_UNIT_NAMES[unit],
                                    other=_UNIT_NAMES[self.unit])
        levels = list(self.indent_level)
        try:
            yield from super().handle_NL(token)
        except DedentError:
            raise IndentProblem(token, "bad-indentation", columns=levels[-1]) from None


_UNIT_NAMES = {"\t": "tabs", " ": "spaces"}
