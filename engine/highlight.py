"""Pygments lexer for `.story` files (`pygmentize -l story`), built from the language's words."""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, default
from pygments.token import (Comment, Error, Keyword, Name, Number, Operator, Punctuation, String,
                            Text, Whitespace)

from engine.dsl.vocabulary import (CAMERAS, CHARACTER_KEYS, HEADER_KEYS, RESERVED_NAMES,
                                   SCENE_KEYS, TRANSITIONS, VOICE_CATEGORIES, VOICE_KEYS)

BLOCK_WORDS = tuple(sorted(RESERVED_NAMES))
"""`voice`, `character`, `scene`: the words that open blocks (the grammar's keyword terminals)."""

KEYS = tuple(sorted(set(HEADER_KEYS + VOICE_KEYS + CHARACTER_KEYS + SCENE_KEYS),
                    key=lambda key: (-len(key), key)))
"""Every field key, longest first (so that no key stops at a shorter one's end)."""

CONSTANTS = tuple(sorted(set(VOICE_CATEGORIES + CAMERAS + TRANSITIONS),
                         key=lambda word: (-len(word), word)))
"""Values with a fixed meaning: voice categories, cameras and transitions."""

NAME = r"(?:[^\W\d][\w'\-]*|\d[\w'\-]*)"
"""The grammar's NAME: one word of any script, with digits, '_', '-' and "'"."""

_VALUE_ENDS = r"(?=[\t ]*(?:#|\r?\n|$))"
_WORD_ENDS = r"(?=[\t ]|#|\r?\n|$)"
SOUND_WORDS = ("at", "level", "line")
"""The words of an `sfx:` value's clauses (`at 2.5s`, `at line 2`, `level -6dB`)."""
_SOUND_NUMBER = r"[+-]?\d+(?:\.\d+)?(?:s|dB|db)?"
_UNTIL_COMMENT = rf"[^#\s][^#\r\n]*?{_VALUE_ENDS}"
"""Unquoted text: up to a comment or the line's end, without the spaces before them."""


def _either(choices: tuple[str, ...]) -> str:
    """A non-capturing alternation of literal words (longest first, as given)."""
    return "(?:" + "|".join(re.escape(choice) for choice in choices) + ")"


class StoryLexer(RegexLexer):
    """Tokens of a `.story` file: blocks, keys, speakers, directions, quoted text and comments.

    Block openers are Keyword.Declaration; keys Keyword; character names (declared or speaking)
    Name.Class, scene ids Name.Label, voice names Name.Variable; directions Name.Decorator;
    quoted text String.Double; `...` Keyword.Pseudo; fixed values Name.Constant; numbers Number;
    other values Text; unquoted dialogue Error (the checker rejects it too).
    """

    name = "Story"
    aliases = ["story"]
    filenames = ["*.story"]
    mimetypes = ["text/x-story"]

    tokens = {
        "root": [
            (rf"^(character)([\t ]+)({NAME})", bygroups(Keyword.Declaration, Whitespace,
                                                       Name.Class)),
            (rf"^(scene)([\t ]+)({NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Label)),
            (rf"^(voice)([\t ]+)({NAME})", bygroups(Keyword.Declaration, Whitespace,
                                                   Name.Variable)),
            (r"^([\t ]*)(sfx)([\t ]*)(:)",
             bygroups(Whitespace, Keyword, Whitespace, Punctuation), "sound"),
            (rf"^([\t ]*)({_either(KEYS)})(?:([\t ]+)({NAME}))?([\t ]*)(:)",
             bygroups(Whitespace, Keyword, Whitespace, Name.Class, Whitespace, Punctuation),
             "value"),
            (rf"^([\t ]*)({NAME})(?:([\t ]*)(\()([^()\r\n#]*)(\)))?([\t ]*)(:)",
             bygroups(Whitespace, Name.Class, Whitespace, Punctuation, Name.Decorator,
                      Punctuation, Whitespace, Punctuation),
             "line"),
            (r'"', String.Double, "string"),
            (r"#.*?$", Comment.Single),
            (r"\r?\n", Whitespace),
            (r"[\t ]+", Whitespace),
        ],
        "value": [
            (rf"([\t ]*)({_either(CONSTANTS)}){_VALUE_ENDS}",
             bygroups(Whitespace, Name.Constant)),
            (rf"([\t ]*)(\d+(?:\.\d+)?){_VALUE_ENDS}", bygroups(Whitespace, Number)),
            (r"[\t ]+", Whitespace),
            (rf"\.\.\.{_VALUE_ENDS}", Keyword.Pseudo),
            (r'"', String.Double, "string"),
            (_UNTIL_COMMENT, Text),
            (r"#.*?$", Comment.Single),
            (r"\r?\n", Whitespace, "#pop"),
        ],
        "sound": [  # `sfx: FILE at 2.5s level -6dB`, `at line 2`
            (r"[\t ]+", Whitespace),
            (rf"{_either(SOUND_WORDS)}(?=[\t ])", Operator.Word),
            (rf"{_SOUND_NUMBER}{_WORD_ENDS}", Number),
            (r'"', String.Double, "string"),
            (r"#.*?$", Comment.Single),
            (r"\r?\n", Whitespace, "#pop"),
            (r"[^\s#]+", Text),
        ],
        "line": [
            (r"[\t ]+", Whitespace),
            (rf"\.\.\.{_VALUE_ENDS}", Keyword.Pseudo),
            (r'"', String.Double, "string"),
            (r"#.*?$", Comment.Single),
            (r"\r?\n", Whitespace, "#pop"),
            (_UNTIL_COMMENT, Error),
        ],
        "string": [
            (r"\\.", String.Escape),
            (r'[^"\\\r\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            default("#pop"),
        ],
    }


def _scopes(*names: str) -> dict[str, dict[str, str]]:
    """TextMate captures: group number → scope, for the groups given a name."""
    return {str(i): {"name": name} for i, name in enumerate(names, 1)}


def _sound_rule() -> dict[str, object]:
    """The TextMate rule of an `sfx:` value: its clause words and numbers marked."""
    return {
        "name": "meta.field.sound.story",
        "begin": r"^[\t ]*(sfx)[\t ]*(:)",
        "beginCaptures": _scopes("keyword.other.key.story", "punctuation.separator.key-value.story"),
        "end": "$",
        "patterns": [
            {"match": rf"(?<=[\t ]){_either(SOUND_WORDS)}(?=[\t ])",
             "name": "keyword.operator.word.story"},
            {"match": rf"(?<=[\t ]){_SOUND_NUMBER}(?=[\t ]|#|$)", "name": "constant.numeric.story"},
            {"include": "#string"}, {"include": "#comment"}]}


def textmate_grammar() -> dict[str, object]:
    """The TextMate grammar (VS Code and others) from the same words and patterns as the lexer.

    `python editors/textmate/generate.py` writes it to editors/textmate/story.tmLanguage.json.
    """
    ends = r"(?=[\t ]*(?:#|$))"
    blocks = {"character": "entity.name.type.character.story",
              "scene": "entity.name.section.scene.story", "voice": "entity.name.tag.voice.story"}
    until_comment = {"match": rf"[^#\s][^#]*?{ends}"}
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/"
                   "tmlanguage.json",
        "name": "Story",
        "scopeName": "source.story",
        "fileTypes": ["story"],
        "patterns": [{"include": f"#{rule}"}
                     for rule in ("comment", "block", "sound", "field", "line", "string")],
        "repository": {
            "comment": {"name": "comment.line.number-sign.story", "match": "(#).*$",
                        "captures": _scopes("punctuation.definition.comment.story")},
            "block": {"patterns": [
                {"match": rf"^({word})[\t ]+({NAME})",
                 "captures": _scopes("keyword.control.block.story", blocks[word])}
                for word in BLOCK_WORDS]},
            "field": {
                "name": "meta.field.story",
                "begin": rf"^[\t ]*({_either(KEYS)})(?:[\t ]+({NAME}))?[\t ]*(:)",
                "beginCaptures": _scopes("keyword.other.key.story",
                                         "entity.name.type.character.story",
                                         "punctuation.separator.key-value.story"),
                "end": "$",
                "patterns": [{"include": f"#{rule}"} for rule in
                             ("constant", "number", "ellipsis", "string", "comment", "text")]},
            "sound": _sound_rule(),
            "line": {
                "name": "meta.line.dialogue.story",
                "begin": rf"^[\t ]*({NAME})(?:[\t ]*(\()([^()\r\n#]*)(\)))?[\t ]*(:)",
                "beginCaptures": _scopes("entity.name.type.character.story",
                                         "punctuation.definition.direction.begin.story",
                                         "entity.other.attribute-name.direction.story",
                                         "punctuation.definition.direction.end.story",
                                         "punctuation.separator.key-value.story"),
                "end": "$",
                "patterns": [{"include": "#ellipsis"}, {"include": "#string"},
                             {"include": "#comment"},
                             {"name": "invalid.illegal.unquoted-dialogue.story",
                              **until_comment}]},
            "constant": {"match": rf"\G[\t ]*({_either(CONSTANTS)}){ends}",
                         "captures": _scopes("constant.language.story")},
            "number": {"match": rf"\G[\t ]*(\d+(?:\.\d+)?){ends}",
                       "captures": _scopes("constant.numeric.story")},
            "ellipsis": {"name": "constant.language.ellipsis.story", "match": rf"\.\.\.{ends}"},
            "text": {"name": "string.unquoted.value.story", **until_comment},
            "string": {
                "name": "string.quoted.double.story", "begin": '"', "end": '"|$',
                "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.story"}},
                "endCaptures": {"0": {"name": "punctuation.definition.string.end.story"}},
                "patterns": [{"name": "constant.character.escape.story", "match": r"\\."}]},
        },
    }
