"""Syntax errors as friendly diagnostics: a table of broken snippets, each with what it gets.

The idea of lark's `match_examples`: every rule lists a few broken lines; parsing them once
tells which parser state (and which kind of token there) each rule stands for. A real error is
then matched by its state and token kind, and the rule turns it into a diagnostic. The examples
are also the table's test (tests/dsl/test_syntax.py parses each one and expects its rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.dsl import blocklines
from engine.dsl.blocklines import BLOCK_WORDS
from engine.dsl.hints import BLOCK_COLON, CURLY_QUOTES, hint
from engine.errors import Diagnostic, escaped
from engine.ir import Span


class IndentProblem(Exception):
    """Raised by the indenter: a line whose indentation cannot be read (`kind` names the rule)."""

    def __init__(self, token: Token, kind: str, **details: object):
        super().__init__(kind)
        self.token, self.kind, self.details = token, kind, details


UNEXPECTED_INDENT = "unexpected-indent"
"""The code of an indented line under a line that opened no block."""
NAME_RULE = ("a name is one word of letters, digits, '_', '-' and \"'\", starting with a letter, "
             "a digit or '_' (e.g. `scene the-search`)")


def _misspelt_block(text: str, column: int) -> bool:
    """Whether the line is a block line with its keyword misspelt (`scen a`)."""
    return blocklines.block_meant(text) is not None


def _colon_later(text: str, column: int) -> bool:
    """Whether the line has a ':' at or after `column` (before any comment)."""
    return ":" in text[column - 1:].split("#")[0]


def _curly_quote_at(text: str, column: int) -> bool:
    """Whether the unexpected text begins with a typographic quotation mark."""
    return text[column - 1:column] in CURLY_QUOTES


def _named_before_colon(text: str, column: int) -> bool:
    """Whether something stands before the line's ':' (a would-be key or speaker)."""
    return _colon_later(text, column) and bool(text.split(":")[0].strip())


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of syntax error: its diagnostic, and broken lines that show it.

    `message` and `hint` are templates over the error's context: {word} (the unexpected text),
    {char}, {first} (its first character), {key} (what stands before a missing ':'), {keyword} and {name} (of a block line),
    {spoken} (a speaker before ':'), and the indenter's details. `caret` says what to point at.
    `when` narrows a rule to lines of one shape (same parser state, different mistake).
    `above` is for a mistake that only shows on a later line (an indented line under a line
    that opened no block): it finds the line above that made it, and more context ({above}, that
    line's number), or None when the rule does not fit; `report_above` puts the diagnostic on
    that line. `meant` gives the block line that a broken line stands for: the indented lines
    under it are then read as that block's (the broken line's body is not lost).
    """

    code: str
    message: str
    hint: str | None
    caret: str  # "token" | "quote" | "end" | "after-key" | "indent" | "name" | "spoken" |
    # "keyword" | "colon"
    examples: tuple[str, ...]
    any_state: bool = False
    when: Callable[[str, int], bool] | None = None
    above: Callable[[Sequence[str], int], tuple[int, dict[str, str]] | None] | None = None
    report_above: bool = False
    meant: Callable[[str], str | None] | None = None


RULES: tuple[Rule, ...] = (
    Rule("curly-quotes", "texts are in straight quotes (\"), not '{first}'",
         'retype the quotes as `"` (a word processor curls them; curly quotes inside a '
         'straight-quoted text stay as written)', "quote",
         ("\u201cOnce upon a time.\u201d\n", "scene a\n  \u201cOnce upon a time.\u201d\n",
          "title: x\n\u201cHello.\u201d\n"), any_state=True, when=_curly_quote_at),
    Rule("lone-ellipsis", "'...' alone is not a line",
         "`...` stands for words the writer fills in: say who speaks them, "
         "`narrator: ...` or `Name: ...`, inside a scene", "token",
         ("scene a\n  ...\n", "...\n"), any_state=True),
    Rule("unclosed-quote", "this quote is never closed",
         'end the text with a matching `"` on the same line', "quote",
         ('scene a\n  Luna: "hello\n', 'title: "The Moon\n', 'scene a\n  "Once upon\n',
          '"x\n'), any_state=True),
    Rule("unexpected-character", "unexpected character '{char}'",
         "a line is `key: value`, a block (`scene ID`), or a quoted narration line", "token",
         ("title:\u00a0The Moon\n",), any_state=True),
    Rule("bad-indentation", "this line's indentation matches no block above it",
         "indent it like the block's other lines ({columns} columns) or not at all", "indent",
         ("scene a\n    title: x\n  setting: y\n",)),
    Rule("mixed-indentation", "this line mixes tabs and spaces in its indentation",
         "indent with two spaces, or with a tab, the same way everywhere", "indent",
         ("scene a\n \ttitle: x\n",)),
    Rule("mixed-indentation", "this line is indented with {this}, earlier lines with {other}",
         "indent with two spaces, or with a tab, the same way everywhere", "indent",
         ("scene a\n  title: x\n\tsetting: y\n",)),
    Rule("block-colon", "a block line has no ':'", BLOCK_COLON, "colon",
         ("scene: a\n  title: x\n", "voice: v # x\n\n  category: child\n"), any_state=True,
         above=blocklines.colon_block_above, report_above=True,
         meant=lambda text: text.replace(":", " ", 1)),
    Rule(UNEXPECTED_INDENT, "unexpected indentation",
         "line {above} `{ender}` ended {block}: indent it{or_header}", "indent",
         ('scene a\n  title: x\nseed: 5\n  "y"\n', 'voice v\n\n"x"\n  rate: 1\n',
          "character C\n  voice: v\ntrainedness C: 1\n  tags: t\n"), any_state=True,
         above=blocklines.block_ended_above),
    Rule(UNEXPECTED_INDENT, "unexpected indentation",
         "indent a line only to put it in the voice, character or scene block above it, as "
         "deep as that block's other lines", "indent",
         ("title: x\n  audience: 3\n", "scene a\n  title: x\n    setting: y\n"), any_state=True),
    Rule("missing-name", "missing a name after '{keyword}'",
         "a block starts with `{keyword} NAME` on its own line", "end",
         ("scene\n", "voice\n", "character\n", "scene # the first\n")),
    Rule("bad-name", "'{name}' is not a name", NAME_RULE, "name",
         ("scene ---\n", "scene -x\n", 'scene "x"\n', "scene (x)\n", "voice ---\n",
          "character -x\n", "scene ...\n")),
    Rule("bad-block-line", "unexpected '{word}' after the {keyword}'s name",
         "a block starts with `{keyword} NAME` on its own line; a name is one word "
         "(join words with '-')", "token",
         ("scene a b\n", "character Luna (x)\n", "scene a: b\n", 'voice v "x"\n',
          "character Luna ...\n")),
    Rule("missing-value", "missing a value after ':'",
         "write the value on the same line: `key: value`", "end",
         ("title:\n", "scene a\n  Luna:\n", "scene a\n  Luna (sad):\n",
          "scene a\n  trainedness Luna:\n", "title: # soon\n")),
    Rule("missing-parenthesis", "the direction's '(' is never closed",
         'write it as `Name (direction): "text"`', "end",
         ('scene a\n  Luna (sad: "x"\n', "scene a\n  Luna (sad\n")),
    Rule("empty-direction", "the direction between '(' and ')' is empty",
         'write one, as in `Luna (softly): "..."`, or leave the parentheses out', "token",
         ('scene a\n  Luna (): "x"\n', 'scene a\n  Luna ( ): "x"\n')),
    Rule("unexpected-text", "unexpected text after the closing quote",
         "put everything that is said inside the quotes", "token",
         ('scene a\n  Luna: "x" y\n', 'title: "x" y\n', 'scene a\n  Luna: "x" "y"\n',
          'scene a\n  "x" y\n', 'scene a\n  "x" : y\n', 'title: "x" ...\n')),
    Rule("unexpected-word", "unexpected '{word}' before ':'",
         "a key or a speaker is one word (join words with '-'); only `trainedness NAME:` "
         "names a character", "token",
         ('scene a\n  Luna Moon Sun: "x"\n', "title x y: z\n", 'scene a\n  Luna "x": "y"\n'),
         when=_colon_later),
    Rule("bad-name", "'{spoken}' is not a name", NAME_RULE, "spoken",
         ('scene a\n  -x: "hi"\n', "'tis: x\n", 'scene a\n  Luna -x: "y"\n',
          "scene a\n  (sad): hi\n"),
         when=_named_before_colon),
    Rule("unknown-block", "unknown block '{keyword}'",
         "{suggestion} (a block starts with `voice NAME`, `character NAME` or `scene ID`)",
         "keyword", ("scen a\n", "Scene a\n", "charactor Mo2 # x\n", "scene a\nvoise v\n",
                     "scenes hill\n"),
         when=_misspelt_block, meant=blocklines.as_block),
    Rule("missing-colon", "missing ':' after '{key}'",
         'fields are `key: value`; dialogue is `Name: "text"`', "after-key",
         ("title The Moon\n", 'title "x"\n', 'scene a\n  Luna "hi"\n',
          'scene a\n  Luna (sad) "x"\n', "scene a\n  trainedness Luna 0.3\n", "title ...\n",
          "title\n", "scene a\n  Luna\n", "scene a\n  Luna (sad)\n", "scene a\n  trainedness Luna\n",
          'scene a\n  Luna (sad) (x): "y"\n')),
    Rule("not-a-statement", "unexpected '{word}'",
         "a line is `key: value`, a block (`scene ID`), or a quoted narration line", "token",
         ("%\n", "title: x\n%\n", ":\n", "(x)\n", "scene a\n  : x\n")),
)
"""Ordered: when only the parser state matches, the first rule seen in that state wins."""

FALLBACK = next(rule for rule in RULES if rule.code == "not-a-statement")


def _kind(error: Exception) -> str:
    """What came where the parser could not go on: a token type, or a class of text."""
    if isinstance(error, IndentProblem):
        return error.kind
    if isinstance(error, UnexpectedCharacters):
        return "UNCLOSED_QUOTE" if error.char == '"' else "CHAR"
    if isinstance(error, UnexpectedToken):
        tok = error.token
        if tok.type != "STRING" and str(tok).startswith('"'):
            return "UNCLOSED_QUOTE"
        return "WORDS" if tok.type in {"TEXT", "DIRECTION"} else tok.type
    return "$END"


def _state(error: Exception) -> int | None:
    state = getattr(error, "state", None)
    return getattr(state, "position", None)


def _where(error: Exception, lines: list[str]) -> tuple[int, int, str]:
    """The (1-based) line and column of the error, and the unexpected text there."""
    if isinstance(error, IndentProblem):
        tok = error.token
        return tok.end_line or tok.line, 1, ""
    if isinstance(error, UnexpectedCharacters):
        return error.line, error.column, error.char
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        tok = error.token
        if tok.type in {"_INDENT", "_DEDENT"}:
            return tok.end_line or tok.line, 1, ""
        return tok.line, tok.column, str(tok)
    return max(1, len(lines)), 1, ""


class SyntaxTable:
    """The rules, indexed by the parser states their examples reach (built once, lazily)."""

    def __init__(self, rules: tuple[Rule, ...], parse: Callable[[str], object]):
        self.rules, self.parse = rules, parse
        self._exact: dict[tuple[int | None, str], list[Rule]] | None = None
        self._by_state: dict[int | None, list[Rule]] = {}

    def signatures(self, rule: Rule) -> list[tuple[int | None, str]]:
        """Where each example of `rule` fails: (parser state, kind of text)."""
        out = []
        for example in rule.examples:
            try:
                self.parse(example)
            except (UnexpectedInput, IndentProblem) as error:
                out.append((_state(error), _kind(error)))
            else:
                raise AssertionError(f"example {example!r} of {rule.code} parses")
        return out

    def _index(self) -> dict[tuple[int | None, str], list[Rule]]:
        if self._exact is None:
            exact: dict[tuple[int | None, str], list[Rule]] = {}
            for rule in self.rules:
                for state, kind in self.signatures(rule):
                    for key, table in (((state, kind), exact), (state, self._by_state)):
                        bucket = table.setdefault(key, [])  # type: ignore[arg-type]
                        if rule not in bucket:
                            bucket.append(rule)
            self._exact = exact
        return self._exact

    def rule_for(self, error: Exception, lines: Sequence[str], line: int,
                 column: int) -> tuple[Rule, tuple[int, dict[str, str]] | None]:
        """The rule for an error: same state and kind, else same kind anywhere, else same state;
        and what its `above` found (the index of a line above, and context), if it has one."""
        state, kind = _state(error), _kind(error)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        exact = self._index().get((state, kind), [])
        anywhere = [r for r in self.rules if r.any_state and kind in self._kinds(r)]
        # A rule for any state is about one kind of text: it is not a guess for the state's.
        by_state = [r for r in self._by_state.get(state, []) if not r.any_state] \
            if state is not None else []
        for rule in (*exact, *anywhere, *by_state):
            if rule.above is not None:
                found = rule.above(lines, line - 1) if 0 < line <= len(lines) else None
                if found is not None:
                    return rule, found
            elif rule.when is None or rule.when(text, column):
                return rule, None
        return FALLBACK, None

    def _kinds(self, rule: Rule) -> set[str]:
        return {kind for (_, kind), rules in self._index().items() if rule in rules}

    def diagnose(self, error: Exception, lines: Sequence[str], path: str,
                 line_of: Callable[[int], int] = int) -> tuple[Diagnostic, int, str | None]:
        """A friendly diagnostic for a Lark or indenter error, the (1-based) line it is on, and
        the block line that line stands for (when its rule has `meant`). `line_of` gives the
        file's number of a line of `lines` (a hint may name another line)."""
        line, column, found = _where(error, lines)
        rule, above = self.rule_for(error, lines, line, column)
        extra: dict[str, str] = {}
        if above is not None:
            index, extra = above
            extra = {**extra, "above": str(line_of(index + 1))}
            if rule.report_above:
                line, column, found = index + 1, 1, ""
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        context = {**_context(text, column, found, error), **extra}
        span = _caret(rule.caret, path, line, column, text, context)
        hint = rule.hint.format(**context) if rule.hint else None
        meant = rule.meant(text) if rule.meant else None
        return (Diagnostic(span, "error", rule.code, rule.message.format(**context), hint), line,
                meant)


def _context(text: str, column: int, found: str, error: Exception) -> dict[str, str]:
    code = text.split("#")[0]
    words = code.split()
    keyword = words[0] if words else ""
    name = code.strip()[len(keyword):].strip()
    before = code[: column - 1].strip()
    if len(words) >= 2 and words[0] == "trainedness" and not before.endswith(")"):
        key = " ".join(words[:2])
    elif before.endswith(")"):
        key = before
    else:
        key = words[0] if words else ""
    spoken = code[: code.find(":")].strip() if ":" in code else found
    details: Mapping[str, object] = getattr(error, "details", {})
    return {"word": found.split()[0] if found.split() else found, "char": _visible(found),
            "first": _visible(found[:1]),
            "key": key, "keyword": keyword, "name": name, "spoken": spoken,
            "suggestion": hint(keyword, BLOCK_WORDS, None) or "",
            **{k: str(v) for k, v in details.items()}}


def _visible(char: str) -> str:
    """A character as a message shows it: escaped when it would not be seen (`\\xa0`)."""
    return char if len(char) != 1 or (char.isprintable() and not char.isspace()) \
        else escaped(char)


def _caret(caret: str, path: str, line: int, column: int, text: str,
           context: dict[str, str]) -> Span:
    """The span a rule points at, on `line`."""
    indent = len(text) - len(text.lstrip(" \t"))
    code = text.split("#")[0]
    if caret == "indent":
        return Span(path, line, 1, line, indent + 1)
    if caret == "end":
        end = len(code.rstrip()) + 1
        return Span(path, line, end, line, end + 1)
    if caret == "keyword":
        return Span(path, line, indent + 1, line, indent + 1 + max(1, len(context["keyword"])))
    if caret == "colon":
        colon = int(context["colon"])
        return Span(path, line, colon, line, colon + 1)
    if caret == "after-key":
        end = code.find(context["key"]) + len(context["key"]) + 1
        return Span(path, line, end, line, end + 1)
    if caret in {"name", "spoken"}:
        piece = context[caret]
        start = code.find(piece, indent + len(context["keyword"]) if caret == "name" else indent)
        start = start + 1 if start >= 0 else column
        return Span(path, line, start, line, start + max(1, len(piece)))
    width = 1 if caret == "quote" else max(1, len(context["word"]))
    return Span(path, line, column, line, column + width)


def body_of(lines: list[str], index: int) -> range:
    """The lines after `lines[index]` that belong under it: deeper indented, or blank between."""
    def indent(s: str) -> int:
        return len(s) - len(s.lstrip(" \t"))

    own = indent(lines[index])
    end = index + 1
    while end < len(lines) and (not lines[end].strip() or indent(lines[end]) > own):
        end += 1
    while end > index + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines after the body are not part of it
    return range(index + 1, end)

