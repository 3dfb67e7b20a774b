"""What a regex's match can begin with, read from its parse (the lexer skips blanks by it)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark

from engine.dsl.lexer import _blanks
from engine.dsl.parse import _parser
from engine.dsl.starts import may_start_with, run_of


@pytest.mark.parametrize(("pattern", "char", "may"), [
    (r"[\t ]+", " ", True), (r"\s", "\t", True), (r"[^\s#]", " ", False), (r"a|\s", " ", True),
    (r"x?\t", "\t", True), (r"x+\t", "\t", False), (r"(?= )a", " ", False), (r"(a)\1", " ", False),
    (r"(?:a|)\1", " ", True), (r".", " ", True), (r"[^a]", " ", True), (r"[^\S]", " ", True),
    (r"(?i)a", " ", False), (r"(?i)a", "A", True), (r"[a-z]", " ", False), (r"[ -~]", " ", True),
    (r"\d[\w'\-]*", " ", False), (r"\W", " ", True), (r"(?>a|\t)", "\t", True), (r"a*", " ", True),
    (r"\bx", " ", False), (r"$", " ", True),
])
def test_may_start_with(pattern: str, char: str, may: bool) -> None:
    assert may_start_with(pattern, char) is may


atoms = st.sampled_from(["a", " ", "\t", r"\s", r"\S", r"\w", r"\W", r"\d", "[ab]", "[^a]",
                         "[ -b]", ".", r"\b", "(?=a)", "(?! )"])
patterns = st.recursive(atoms, lambda inner: st.one_of(
    st.tuples(inner, inner).map("".join),
    st.tuples(inner, inner).map(lambda p: f"(?:{p[0]}|{p[1]})"),
    st.tuples(inner, st.sampled_from(["*", "+", "?", "{0,2}", "*+", "++"])).map(
        lambda p: f"(?:{p[0]}){p[1]}")), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(patterns, st.text(alphabet="ab \t1_-", max_size=6))
def test_a_false_is_a_proof(pattern: str, text: str) -> None:
    match = re.match(pattern, text)
    if match and match.end() > 0:
        assert may_start_with(pattern, text[0])


def test_run_of() -> None:
    assert run_of("[\t ]+") == "\t "
    assert run_of(" +") == " "
    assert run_of("[\t ]*") == run_of("[a-z]+") == run_of("[\t ]+x") == run_of("(") == ""


def test_the_story_lexer_skips_blanks() -> None:
    assert _parser().parser.lexer.blanks == "\t "


def test_blanks_are_not_skipped_where_a_terminal_may_begin_with_one() -> None:
    grammar = 'start: (WORD | SPACED)*\nWORD: /[a-z]+/\nSPACED: /\\tx/\n%ignore /[\\t ]+/\n'
    assert _blanks(Lark(grammar, parser="lalr").lexer_conf) == ""
    plain = 'start: WORD*\nWORD: /[a-z]+/\n%ignore /[\\t ]+/\n'
    assert _blanks(Lark(plain, parser="lalr").lexer_conf) == "\t "
    words = 'start: WORD*\nWORD: /[a-z]+/\n%ignore /[\\t ]+|#[^\\n]*/\n'
    assert _blanks(Lark(words, parser="lalr").lexer_conf) == ""
