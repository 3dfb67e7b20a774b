"""The syntax table is its own test: each broken snippet gets the diagnostic of its rule."""

from __future__ import annotations

import re

import pytest

from engine.dsl.parse import parse_text, syntax_table
from engine.dsl.syntax import RULES, Rule

EXAMPLES = [(rule, example) for rule in RULES for example in rule.examples]


@pytest.mark.parametrize(("rule", "example"), EXAMPLES,
                         ids=[f"{r.code}:{e!r}" for r, e in EXAMPLES])
def test_each_example_gets_its_rule(rule: Rule, example: str) -> None:
    _, problems = parse_text(example, "t.story")
    first = problems[0]
    assert (first.code, _filled(first.message)) == (rule.code, True), problems
    assert first.message == _expected(rule, first.message)
    lines = example.split("\n")
    assert 1 <= first.span.line <= len(lines)
    assert 1 <= first.span.column <= len(lines[first.span.line - 1]) + 1


def _filled(message: str) -> bool:
    return not re.search(r"\{\w+\}", message)


def _expected(rule: Rule, message: str) -> str:
    """The rule's template with its fields as they came: the message is the rule's own."""
    pattern = re.escape(rule.message)
    pattern = re.sub(r"\\\{\w+\\\}", ".*", pattern)
    assert re.fullmatch(pattern, message), (rule.message, message)
    return message


def test_no_two_rules_claim_one_example() -> None:
    table = syntax_table()
    for rule in RULES:
        assert len(table.signatures(rule)) == len(rule.examples)


@pytest.mark.parametrize(("text", "expected"), [
    ("scene ---\n", "1:7 bad-name: '---' is not a name"),
    ("scene -x\n", "1:7 bad-name: '-x' is not a name"),
    ('scene a\n  -x: "hi"\n', "2:3 bad-name: '-x' is not a name"),
    ('scene a\n  Luna (): "x"\n', "2:9 empty-direction: the direction between '(' and ')' is empty"),
    ('scene a\n  Luna Moon Sun: "x"\n', "2:13 unexpected-word: unexpected 'Sun' before ':'"),
    ('scene a\n  Luna (sad) "x"\n', "2:13 missing-colon: missing ':' after 'Luna (sad)'"),
    ("scene a\n  trainedness Luna 0.3\n",
     "2:19 missing-colon: missing ':' after 'trainedness Luna'"),
    ("title:\u00a0The Moon\n", "1:7 unexpected-character: unexpected character '\\xa0'"),
    ("scene a\n \ttitle: x\n", "2:1 mixed-indentation: this line mixes tabs and spaces in its "
     "indentation"),
    ("scene a\n  \u201cOnce.\u201d\n", "2:3 curly-quotes: texts are in straight quotes (\"), not "
     "'\u201c'"),
    ("scene a\n  ...\n", "2:3 lone-ellipsis: '...' alone is not a line"),
    ("scene a\n  \u00abBonjour.\u00bb\n", "2:3 curly-quotes: texts are in straight quotes (\"), "
     "not '\u00ab'"),
])
def test_messages(text: str, expected: str) -> None:
    _, problems = parse_text(text, "t.story")
    d = problems[0]
    assert f"{d.span.line}:{d.span.column} {d.code}: {d.message}" == expected


def test_the_name_rule_matches_the_grammar() -> None:
    hint = next(r.hint for r in RULES if r.code == "bad-name")
    assert "starting with a letter, a digit or '_'" in hint
    for good in ("the-search", "_x", "1st", "Zoë", "O'Malley"):
        assert parse_text(f"scene {good}\n", "t.story")[1] == ()
    for bad in ("-x", "'x", "---"):
        assert [d.code for d in parse_text(f"scene {bad}\n", "t.story")[1]] == ["bad-name"]
