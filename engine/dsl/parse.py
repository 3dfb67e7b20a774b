"""Parse `.story` text into the IR (Lark LALR + Indenter); syntax problems become diagnostics."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import lark
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput
from lark.indenter import Indenter

from engine.dsl import vocabulary
from engine.dsl.syntax import IndentProblem, blank_line, syntax_diagnostic
from engine.errors import Diagnostic, StoryError
from engine.ir import NARRATOR, Character, Comment, Field, Line, Scene, Span, Story, Value, Voice
from engine.resources import shipped

GRAMMAR_PATH = shipped("grammar") / "story.lark"

SCENE_KEYS = frozenset(vocabulary.SCENE_KEYS)
"""Keys that are settings inside a scene; any other `NAME: "text"` there is a dialogue line."""

MAX_SYNTAX_ERRORS = 50


class _StoryIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):  # type: ignore[override]
        self.unit: str | None = None
        self.newlines: list[Token] = []
        return super().process(stream)

    def handle_NL(self, token: Token):  # type: ignore[override]
        # Comments live inside newline tokens; keeping the tokens spares a second scan of the text.
        if "#" in token:
            self.newlines.append(token)
        if "\n" not in token:  # a comment before a stray '\r': the lexer reports the '\r' next
            yield token
            return
        indent_str = token.rsplit("\n", 1)[1]
        if indent_str:
            unit = "\t" if indent_str[0] == "\t" else " "
            if self.unit is None:
                self.unit = unit
            if set(indent_str) != {self.unit}:
                raise IndentProblem(token, "mixed-indentation",
                                     "this line mixes tabs and spaces in its indentation"
                                     if len(set(indent_str)) > 1 else
                                     "this line is indented with "
                                     f"{'tabs' if unit == chr(9) else 'spaces'}, "
                                     "earlier lines with "
                                     f"{'spaces' if unit == chr(9) else 'tabs'}",
                                     "indent with two spaces, or with a tab, the same way everywhere")
        levels = list(self.indent_level)
        try:
            yield from super().handle_NL(token)
        except Exception as error:  # DedentError
            if "dedent" not in str(error).lower():
                raise
            raise IndentProblem(token, "bad-indentation",
                                 "this line's indentation matches no block above it",
                                 f"indent it like the block's other lines ({levels[-1]} columns) "
                                 "or not at all") from None


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The transformer runs inside the LALR parser (no tree is built): a third faster.
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", postlex=_INDENTER, transformer=_BUILD,
                strict=True, maybe_placeholders=False, cache=_cache_file(grammar) or False)


def _cache_file(grammar: str) -> str | None:
    """Where Lark keeps the compiled tables (it rebuilds them when the grammar changes).

    A private cache folder rather than Lark's default in the shared /tmp: the file is a pickle.
    Building the tables takes ~150 ms, loading them ~4 ms: `storyreel check` starts fast.
    """
    if os.environ.get("STORYREEL_GRAMMAR_CACHE") == "0":
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "storyreel"
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    # one file per grammar, so checkouts with different grammars do not rebuild each other's
    digest = hashlib.sha256(f"{grammar}{lark.__version__}".encode()).hexdigest()[:16]
    return str(base / f"story-grammar-{digest}.lark") if os.access(base, os.W_OK) else None


@dataclass(frozen=True, slots=True)
class _Stmt:
    key: str | None  # None: narration
    argument: str | None
    direction: str | None
    value: Value
    kind: str  # "text" | "quoted" | "ellipsis"
    span: Span
    key_span: Span
    argument_span: Span | None


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)")


def _unquote(raw: str) -> str:
    """The text between the quotes: `\\n`, `\\r`, `\\t` are control characters, `\\x` is x."""
    body = raw[1:-1]
    if "\\" not in body:
        return body
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


class _Build(Transformer):
    """Builds IR nodes inside the parser; records statements that cannot stand where they are."""

    def __init__(self) -> None:
        super().__init__()
        self.reset("<story>")

    def reset(self, path: str) -> None:
        """Start a parse of `path` (the one instance lives inside the cached parser)."""
        self.path = path
        self.problems: list[Diagnostic] = []

    def _span(self, meta_or_token) -> Span:
        m = meta_or_token
        return Span(self.path, m.line, m.column, m.end_line, m.end_column)

    def quoted(self, children):
        tok = children[0]
        return "quoted", Value(_unquote(str(tok)), self._span(tok), quoted=True)

    def ellipsis(self, children):
        tok = children[0]
        return "ellipsis", Value("...", self._span(tok))

    def text(self, children):
        tok = children[0]
        stripped = str(tok).rstrip()
        span = self._span(tok)
        span = Span(span.file, span.line, span.column, span.line, span.column + len(stripped))
        return "text", Value(stripped, span)

    def argument(self, children):
        return "argument", children[0]

    def direction(self, children):
        return "direction", children[0]

    def entry(self, children):
        key_tok = children[0]
        (kind, value) = children[-1]
        argument = direction = None
        argument_span = None
        for what, tok in children[1:-1]:
            if what == "argument":
                argument, argument_span = str(tok), self._span(tok)
            else:
                direction = str(tok).strip()
        span = Span(self.path, key_tok.line, key_tok.column, value.span.end_line,
                    value.span.end_column)
        return _Stmt(str(key_tok), argument, direction, value, kind, span, self._span(key_tok),
                     argument_span)

    def narration(self, children):
        tok = children[0]
        value = Value(_unquote(str(tok)), self._span(tok), quoted=True)
        return _Stmt(None, None, None, value, "quoted", value.span, value.span, None)

    def _misplaced(self, stmt: _Stmt, where: str) -> None:
        if stmt.key is None:
            self._problem(stmt.span, "misplaced-line", f"a narration line cannot stand {where}",
                          "narration and dialogue go inside a `scene` block, indented")
        elif stmt.kind == "ellipsis":
            self._problem(stmt.value.span, "misplaced-fill",
                          f"'...' (let the writer fill this in) cannot stand {where}",
                          "only scene lines can be left to the writer; write a value here")
        elif stmt.direction is not None:
            self._problem(stmt.key_span, "misplaced-direction",
                          f"a delivery direction cannot stand {where}",
                          "directions go with dialogue lines in a scene: `Luna (softly): \"...\"`")

    def _problem(self, span: Span, code: str, message: str, hint: str | None) -> None:
        self.problems.append(Diagnostic(span, "error", code, message, hint))

    def _fields(self, stmts, where: str) -> tuple[Field, ...]:
        out = []
        for s in stmts:
            if s.key is None or s.kind == "ellipsis" or s.direction is not None:
                self._misplaced(s, where)
                continue
            out.append(Field(s.key, s.value, s.span, s.argument, s.argument_span))
        return tuple(out)

    def _block_span(self, keyword: Token, name_tok: Token, stmts) -> Span:
        end = stmts[-1].span if stmts else self._span(name_tok)
        return Span(self.path, keyword.line, keyword.column, end.end_line, end.end_column)

    def voice(self, children):
        meta, name, *stmts = children
        return Voice(str(name), self._fields(stmts, f"in voice '{name}'"),
                     self._block_span(meta, name, stmts), self._span(name))

    def character(self, children):
        meta, name, *stmts = children
        return Character(str(name), self._fields(stmts, f"in character '{name}'"),
                         self._block_span(meta, name, stmts), self._span(name))

    def scene(self, children):
        meta, name, *stmts = children
        fields, lines = [], []
        for s in stmts:
            is_setting = (s.key in SCENE_KEYS and s.direction is None and s.kind != "ellipsis")
            if s.key in SCENE_KEYS and s.argument is None and s.kind == "ellipsis":
                self._misplaced(s, f"as a scene's {s.key}")
                continue
            if s.key is not None and s.direction is not None and s.kind == "text":
                self._problem(s.value.span, "unquoted-dialogue", "dialogue must be quoted",
                              f'write it as `{s.key} ({s.direction}): "{s.value.text}"`')
                continue
            if s.key is not None and (is_setting or s.kind == "text"):
                if s.direction is not None:
                    self._misplaced(s, "on a scene setting")
                    continue
                fields.append(Field(s.key, s.value, s.span, s.argument, s.argument_span))
            elif s.argument is not None:
                self._problem(s.argument_span, "unexpected-word",
                              f"'{s.key} {s.argument}' is not a speaker",
                              "a dialogue line is `Name: \"text\"`; a speaker is one word")
            else:
                # `narrator: "..."` is a narration line, so consumers have one way to see it
                speaker = None if s.key == NARRATOR else s.key
                lines.append(Line(speaker, None if s.kind == "ellipsis" else s.value.text, s.span,
                                  s.direction, s.key_span if s.key is not None else None))
        return Scene(str(name), tuple(fields), tuple(lines), self._block_span(meta, name, stmts),
                     self._span(name))

    def start(self, children):
        return children


_INDENTER = _StoryIndenter()
_BUILD = _Build()
_PARSING = threading.Lock()

_COMMENT = re.compile(r"#[^\r\n]*")


def _comments(newlines: list[Token], lines: list[str], path: str) -> tuple[Comment, ...]:
    """Every comment with its span, read from the newline tokens that hold them."""
    out = []
    for tok in newlines:
        value = str(tok)
        for match in _COMMENT.finditer(value):
            start = match.start()
            breaks = value.count("\n", 0, start)
            line = tok.line + breaks
            column = (start - value.rindex("\n", 0, start) if breaks else tok.column + start)
            body = match.group().rstrip()
            source = lines[line - 1] if line <= len(lines) else ""
            out.append(Comment(body, Span(path, line, column, line, column + len(body)),
                               trailing=bool(source[: column - 1].strip())))
    return tuple(out)


def parse_text(text: str, path: str = "<story>") -> tuple[Story, tuple[Diagnostic, ...]]:
    """Parse one file's text; returns the IR (of what could be read) and every syntax problem."""
    with _PARSING:  # the indenter and the transformer inside the one parser keep state
        return _parse_text(text, path)


def _parse_text(text: str, path: str) -> tuple[Story, tuple[Diagnostic, ...]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    problems: list[Diagnostic] = []
    seen: set[int] = set()
    parser = _parser()
    while True:
        source = "\n".join(lines)
        if not source.endswith("\n"):
            source += "\n"
        _BUILD.reset(path)
        try:
            items = parser.parse(source)
            break
        except (UnexpectedInput, IndentProblem) as error:
            diagnostic, line = syntax_diagnostic(error, text.split("\n"), path)
            if line in seen or len(problems) >= MAX_SYNTAX_ERRORS or not 0 < line <= len(lines):
                if line not in seen:
                    problems.append(diagnostic)
                items = None
                break
            seen.add(line)
            problems.append(diagnostic)
            blank_line(lines, line - 1)
    if items is None:
        _BUILD.reset(path)
    newlines = _INDENTER.newlines if items is not None else []
    items = items or []
    fields = _BUILD._fields([i for i in items if isinstance(i, _Stmt)], "outside a scene")
    story = Story(
        path=path,
        fields=tuple(fields),
        voices=tuple(i for i in items if isinstance(i, Voice)),
        characters=tuple(i for i in items if isinstance(i, Character)),
        scenes=tuple(i for i in items if isinstance(i, Scene)),
        comments=_comments(newlines, lines, path),
    )
    return story, tuple(problems + _BUILD.problems)


def decode(data: bytes, path: str) -> tuple[str, tuple[Diagnostic, ...]]:
    """UTF-8 text of a file, or a diagnostic saying where the first undecodable byte is."""
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        span = Span(path, line, column, line, column + 1)
        return data.decode("utf-8", "replace"), (Diagnostic(
            span, "error", "not-utf8",
            f"this file is not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
            "save the file with UTF-8 encoding"),)


def parse_file(path: str | Path) -> Story:
    """Parse a file; raises StoryError with every syntax problem (no `use:` or name checks)."""
    text, problems = decode(Path(path).read_bytes(), str(path))
    if problems:
        raise StoryError(problems)
    story, problems = parse_text(text, str(path))
    if problems:
        raise StoryError(problems)
    return story
