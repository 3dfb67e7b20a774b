"""The story parser (lark's LALR tables run from the story lexer's loop) against lark's own loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

import engine.dsl.parse as parse_module
from engine.dsl.build import Build
from engine.dsl.indenter import StoryIndenter
from engine.dsl.lalr import StoryParser, steps
from engine.dsl.syntax import IndentProblem

STORIES = Path(__file__).resolve().parents[2] / "stories"
SAMPLES = [p.read_text(encoding="utf-8") for p in sorted(STORIES.rglob("*.story"))]


class _PostLex:
    """The story indenter as lark's post-lexer (what the story lexer calls from its loop)."""

    always_accept = ("_NL",)

    def __init__(self, indenter: StoryIndenter):
        self.indenter = indenter

    def process(self, stream: Iterator) -> Iterator:
        self.indenter.start()
        last = None
        for token in stream:
            last = token
            if token.type == "_NL":
                yield from self.indenter.newline(token)
            else:
                yield token
        yield from self.indenter.end(last)


_REFERENCE_INDENTER = StoryIndenter()
_REFERENCE_BUILD = Build()
_REFERENCE = Lark(parse_module.GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr",
                  lexer="contextual", transformer=_REFERENCE_BUILD, strict=True,
                  maybe_placeholders=False, keep_all_tokens=True,
                  postlex=_PostLex(_REFERENCE_INDENTER))


def _outcome(parse, text: str) -> tuple:
    """What a parse gives: the items it built, or where and how it failed (parser states by what
    they expect: the two parsers' tables may number them differently)."""
    try:
        return ("items", parse(text))
    except UnexpectedToken as error:
        token = error.token
        return ("token", token.type, str(token), token.line, token.column, token.end_line,
                token.end_column, sorted(error.expected))
    except UnexpectedCharacters as error:
        return ("characters", error.line, error.column, error.char, sorted(error.allowed))
    except IndentProblem as error:
        return ("indent", error.kind, error.token.line, error.token.column, error.details)


def _ours(text: str) -> object:
    with parse_module._PARSING:
        parse_module.BUILD.reset("t.story")
        parse_module._INDENTER.start_unit = None
        return parse_module._parser().parse(text)


def _lark(text: str) -> object:
    _REFERENCE_BUILD.reset("t.story")
    _REFERENCE_INDENTER.start_unit = None
    return _REFERENCE.parse(text)


def _same(text: str) -> None:
    assert _outcome(_ours, text) == _outcome(_lark, text), text


pieces = st.sampled_from(["scene", "voice", "character", " ", "  ", "\t", "\n", "\n  ", "\r\n",
                          "Luna", "s1", ":", "(", ")", "sad", '"hi"', '"', "...", "# c", "x y",
                          "title", "trainedness", "0.4", "\\", "%", "Zoë", "-"])


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=30).map("".join))
def test_the_same_as_lark_on_any_text(text: str) -> None:
    _same(text if text.endswith("\n") else text + "\n")


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_the_same_as_lark_on_the_example_stories(index: int) -> None:
    _same(SAMPLES[index])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SAMPLES), st.integers(0, 10_000), pieces)
def test_the_same_as_lark_on_broken_stories(sample: str, at: int, piece: str) -> None:
    at %= len(sample) + 1
    _same(sample[:at] + piece + sample[at:])


def test_a_failed_parse_carries_lark_s_interactive_parser() -> None:
    with pytest.raises(UnexpectedInput) as caught:
        _ours("scene a\n  Luna Moon Sun: x\n")
    assert caught.value.interactive_parser is not None
    assert caught.value.interactive_parser.parser_state.position == caught.value.state.position


def test_only_rules_have_callbacks() -> None:
    with pytest.raises(ValueError, match="terminal"):
        steps({}, {"NAME": str})


def test_the_story_parser_is_lark_s_with_the_story_loop() -> None:
    parser = parse_module._parser().parser.parser
    assert isinstance(parser, StoryParser)
    assert parser.parser.steps  # tables loaded from lark's cache or built, then resolved
