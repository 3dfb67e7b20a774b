"""Editor support: the Pygments lexer and the TextMate grammar know every word of the language."""

from __future__ import annotations

import json
import pkgutil
import re
import tomllib
from pathlib import Path

import pytest
from lark import Lark
from lark.lexer import PatternRE, PatternStr
from pygments.token import (Comment, Error, Keyword, Name, Number, Punctuation, String, Text,
                            _TokenType)

from engine.dsl import vocabulary
from engine.dsl.parse import GRAMMAR_PATH
from engine.highlight import NAME, StoryLexer, textmate_grammar

ROOT = Path(__file__).resolve().parents[1]
TEXTMATE = ROOT / "editors" / "textmate"
EXAMPLES = sorted([*(ROOT / "stories").rglob("*.story"),
                   *(ROOT / "engine" / "templates").rglob("*.story")])


def grammar_terminals() -> dict[str, PatternStr | PatternRE]:
    return {t.name: t.pattern for t in Lark(GRAMMAR_PATH.read_text(), parser="lalr").terminals}


def block_words() -> list[str]:
    """The grammar's keyword terminals: literal words (`voice`, `character`, `scene`)."""
    words = [p.value for p in grammar_terminals().values()
             if isinstance(p, PatternStr) and p.value.isalpha()]
    assert words, "the grammar has no keyword terminals any more"
    return words


KEYS = sorted(set(vocabulary.HEADER_KEYS + vocabulary.VOICE_KEYS + vocabulary.CHARACTER_KEYS
                  + vocabulary.SCENE_KEYS))
CONSTANTS = sorted(set(vocabulary.VOICE_CATEGORIES + vocabulary.CAMERAS + vocabulary.TRANSITIONS))


def tokens(text: str) -> list[tuple[_TokenType, str]]:
    return [(kind, value) for kind, value in StoryLexer().get_tokens(text) if value.strip()]


def kind_of(text: str, span: str) -> _TokenType:
    """The token kind of the first token whose text is exactly `span`."""
    for kind, value in tokens(text):
        if value == span:
            return kind
    raise AssertionError(f"no token {span!r} in {tokens(text)}")


def textmate_rule(rule: str) -> dict:
    return json.loads((TEXTMATE / "story.tmLanguage.json").read_text())["repository"][rule]


def python_regex(oniguruma: str) -> re.Pattern[str]:
    """A TextMate pattern as a Python regex (`\\G`, the end of the rule's begin, becomes `^`)."""
    return re.compile(oniguruma.replace(r"\G", "^"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_stories_highlight_without_errors(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    produced = list(StoryLexer().get_tokens(text))
    assert [t for t in produced if t[0] in Error] == []
    assert "".join(value for _, value in produced) == text


def test_known_spans_get_their_kinds() -> None:
    moon = (ROOT / "stories" / "moon-glow.story").read_text(encoding="utf-8")
    assert kind_of(moon, "character") is Keyword.Declaration
    assert kind_of(moon, "Luna") is Name.Class
    assert kind_of(moon, "night-falls") is Name.Label
    assert kind_of(moon, "small-girl") is Name.Variable
    assert kind_of(moon, "camera") is Keyword
    assert kind_of(moon, "slow zoom in") is Name.Constant
    assert kind_of(moon, "0.95") is Number
    assert kind_of(moon, "Every night, Luna lit up the sky above the village.") is String.Double
    assert kind_of(moon, "# the writer fills this line in") is Comment.Single
    assert kind_of(moon, "...") is Keyword.Pseudo
    assert kind_of(moon, "soft watercolor picture book, warm pastel colors") is Text
    line = tokens('scene a\n  Pip (excited): "Snow! \\"Real\\" snow!"  # yes\n')[2:]
    assert line == [(Name.Class, "Pip"), (Punctuation, "("), (Name.Decorator, "excited"),
                    (Punctuation, ")"), (Punctuation, ":"), (String.Double, '"'),
                    (String.Double, "Snow! "), (String.Escape, '\\"'), (String.Double, "Real"),
                    (String.Escape, '\\"'), (String.Double, " snow!"), (String.Double, '"'),
                    (Comment.Single, "# yes")]


def test_unquoted_dialogue_is_marked_as_an_error() -> None:
    assert kind_of('scene a\n  Pip: hello there  # no quotes\n', "hello there") is Error


def test_the_lexer_knows_every_word_of_the_grammar_and_vocabulary() -> None:
    assert NAME == f"(?:{grammar_terminals()['NAME'].value})"
    for word in block_words():
        assert tokens(f"{word} Some-name\n")[0] == (Keyword.Declaration, word)
    for key in KEYS:
        assert tokens(f"{key}: x\n")[0] == (Keyword, key), key
        assert tokens(f"scene a\n  {key} Luna: 1\n")[2:4] == [(Keyword, key), (Name.Class, "Luna")]
    for constant in CONSTANTS:
        assert tokens(f"  camera: {constant}  # c\n")[2] == (Name.Constant, constant)


def test_the_textmate_grammar_knows_every_word_of_the_grammar_and_vocabulary() -> None:
    blocks = [python_regex(p["match"]) for p in textmate_rule("block")["patterns"]]
    for word in block_words():
        assert [m.group(1) for b in blocks if (m := b.match(f"{word} Some-name"))] == [word]
    field = python_regex(textmate_rule("field")["begin"])
    for key in KEYS:
        match = field.match(f"  {key} Luna:")
        assert match and match.group(1) == key and match.group(2) == "Luna", key
    constant = python_regex(textmate_rule("constant")["match"])
    for word in CONSTANTS:
        match = constant.match(f" {word}  # c")
        assert match and match.group(1) == word, word
    assert not constant.match(" a child in the snow")
    order = [p["include"] for p in json.loads(
        (TEXTMATE / "story.tmLanguage.json").read_text())["patterns"]]
    assert order.index("#field") < order.index("#line"), "a key must win over a speaker name"


def test_the_textmate_file_is_the_generated_one() -> None:
    committed = json.loads((TEXTMATE / "story.tmLanguage.json").read_text(encoding="utf-8"))
    assert committed == textmate_grammar(), \
        "run `python editors/textmate/generate.py` after changing engine/highlight.py"


def test_the_vscode_extension_names_the_grammar_and_its_settings() -> None:
    manifest = json.loads((TEXTMATE / "package.json").read_text())
    grammar = manifest["contributes"]["grammars"][0]
    language = manifest["contributes"]["languages"][0]
    assert grammar["language"] == language["id"] == "story"
    assert language["extensions"] == [".story"]
    assert json.loads((TEXTMATE / grammar["path"]).read_text())["scopeName"] == \
        grammar["scopeName"]
    settings = json.loads((TEXTMATE / language["configuration"]).read_text())
    assert settings["comments"]["lineComment"] == "#"
    opener = re.compile(settings["onEnterRules"][0]["beforeText"])
    assert all(opener.match(f"{word} x") for word in block_words())


def test_pygments_finds_the_lexer_by_its_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["entry-points"]["pygments.lexers"]["story"]
    assert pkgutil.resolve_name(target) is StoryLexer
    assert "story" in StoryLexer.aliases and "*.story" in StoryLexer.filenames
