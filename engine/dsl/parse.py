"""Parse `.story` text into the IR (Lark LALR + Indenter); syntax problems become diagnostics."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from engine.dsl.blocklines import statement_above
from engine.dsl.build import BLOCKS, Build, Stmt
from engine.dsl.collector import collector_paused
from engine.dsl.indenter import StoryIndenter
from engine.dsl.lalr import StoryParser
from engine.dsl.lexer import StoryLexer
from engine.dsl.source import forbidden_characters
from engine.dsl.syntax import RULES, UNEXPECTED_INDENT, IndentProblem, SyntaxTable
from engine.dsl.syntax import body_of as syntax_body
from engine.dsl.vocabulary import FORBIDDEN
from engine.errors import Diagnostic
from engine.ir import Character, Comment, Field, Scene, Span, Story, Voice
from engine.resources import shipped

GRAMMAR_PATH = shipped("grammar") / "story.lark"


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return new_parser()


def new_parser(cache: bool = True) -> Lark:
    """The story parser: lark's LALR parser and contextual lexer over `grammar/story.lark`.

    The transformer runs inside the parser (no tree is built), the indenter inside the lexer's
    loop (not as lark's post-lexer: one generator fewer), and the parser keeps every token
    (lark filters no rule's children). `cache=False` builds the tables from the grammar.
    """
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    lexer = functools.partial(StoryLexer, indenter=_INDENTER)
    return Lark(grammar, parser="lalr", lexer="contextual", transformer=BUILD, strict=True,
                maybe_placeholders=False, keep_all_tokens=True,
                cache=cache and _cache_file(grammar) or False,
                _plugins={"ContextualLexer": lexer, "LALR_Parser": StoryParser})


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


_INDENTER = StoryIndenter()
BUILD = Build()
_PARSING = threading.RLock()  # the syntax table parses its examples while a parse is on

MAX_SYNTAX_ERRORS = 50
STOPPED = "too-many-errors"
"""The code of the note that parsing gave up after `MAX_SYNTAX_ERRORS` (at the first line it did
not read)."""

_COMMENT = re.compile(r"#[^\r\n]*")


@dataclass(frozen=True, slots=True)
class Parsed:
    """One file's parse: the IR of what could be read, every problem, and what was not read."""

    story: Story
    diagnostics: tuple[Diagnostic, ...]
    unread: tuple[str, ...] = ()
    """The lines syntax errors kept out of the IR (each broken line and the body under it)."""
    complete: bool = True
    """False when parsing stopped early (too many errors): the rest of the file is not read."""


def parse_text(text: str, path: str = "<story>") -> tuple[Story, tuple[Diagnostic, ...]]:
    """Parse one file's text; returns the IR (of what could be read) and every syntax problem."""
    parsed = parse_story(text, path)
    return parsed.story, parsed.diagnostics


def parse_story(text: str, path: str = "<story>") -> Parsed:
    """Parse one file's text, going on past broken lines; see `Parsed`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    controls, cleaned = forbidden_characters(text, path)
    with _PARSING, collector_paused():  # the indenter and the transformer keep state
        reader = _Reader(path, cleaned)
        items = reader.read(_Piece(range(1, reader.line_count + 1)))
        kinds: dict[type, list] = {Stmt: [], Voice: [], Character: [], Scene: []}
        for item in items:  # one pass (a story may hold 400 000 scenes)
            kinds[type(item)].append(item)
        del items
        fields = reader.build_fields(kinds[Stmt])
    control_lines = {d.span.line for d in controls}
    syntax = [d for d in reader.problems if d.span.line not in control_lines]
    story = Story(
        path=path,
        fields=tuple(fields),
        voices=tuple(kinds[Voice]),
        characters=tuple(kinds[Character]),
        scenes=tuple(kinds.pop(Scene)),
        comments=_comments(reader.newlines, reader.lines if reader.newlines else [], path),
    )
    unread: tuple[str, ...] = ()
    if reader.unread:
        # a name cut by a control character is still that name
        unread_lines = text.split("\n") if controls else reader.lines
        unread = tuple(FORBIDDEN.sub("", unread_lines[n - 1]) for run in reader.unread
                       for n in run)
    if not reader.complete:
        syntax.append(_stopped(reader.unread, reader.lines, path))
    first = () if 1 in control_lines else _indented_first_line(cleaned, path)  # (said already)
    return Parsed(story, tuple(controls) + first + tuple(syntax) + tuple(reader.built), unread,
                  reader.complete)


def _indented_first_line(text: str, path: str) -> tuple[Diagnostic, ...]:
    """The file's first line, indented: an error the lexer never sees (it reads indentation at
    newlines, and the first line has none before it); the rest is read as if it were not."""
    end = text.find("\n")
    line = text[:end] if end >= 0 else text  # (not a split: that would copy the whole file)
    indent = len(line) - len(line.lstrip(" \t"))
    if not indent or not line.split("#", 1)[0].strip():
        return ()
    return (Diagnostic(Span(path, 1, 1, 1, indent + 1), "error", UNEXPECTED_INDENT,
                       "unexpected indentation", "the first line of a file is outside every "
                       "block: start it at the beginning of the line"),)


def _stopped(unread: list[range], lines: list[str], path: str) -> Diagnostic:
    """The note that parsing gave up, at the first line after the last one it reported."""
    line = max(run.stop for run in unread)
    column = 1
    if line > len(lines):
        line, column = len(lines), len(lines[-1]) + 1
    return Diagnostic(Span(path, line, column, line, column), "error", STOPPED,
                      f"stopped after {MAX_SYNTAX_ERRORS} syntax errors: the rest of the file "
                      "is not checked", "fix these and run check again")


@dataclass(frozen=True, slots=True)
class _Piece:
    """Lines of the file to parse: a run of line numbers, maybe under a borrowed block line."""

    run: range
    header: int | None = None
    opens: bool = False
    """Whether the header line opens a new block here (a misspelt block line, read as meant)
    rather than continuing one read before."""

    def line(self, local: int) -> int:
        """The file's line number of the piece's line `local` (1-based)."""
        if self.header is None:
            return self.run.start + local - 1
        return self.header if local == 1 else self.run.start + local - 2

    def __len__(self) -> int:
        return len(self.run) + (self.header is not None)


class _Texts(Sequence[str]):
    """The lines of a piece, read from the file's lines when asked (a piece may be long)."""

    def __init__(self, piece: _Piece, lines: list[str]):
        self.piece, self.lines = piece, lines

    def __len__(self) -> int:
        return len(self.piece)

    def __getitem__(self, index):  # type: ignore[override]
        if not 0 <= index < len(self.piece):
            raise IndexError(index)
        return self.lines[self.piece.line(index + 1) - 1]


class _Reader:
    """Parses a file, and on a syntax error parses what stands before and after the broken line.

    The part before a broken line parses (the parser got that far), so no line is read more than
    twice and a file with many errors costs about two parses, not one per error. The part after
    an indented broken line goes on in its block: it is parsed under a copy of the block's line,
    and the two halves are joined.
    """

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text
        self.line_count = text.count("\n") + 1
        self.problems: list[Diagnostic] = []
        self.built: list[Diagnostic] = []
        self.newlines: list[tuple[Token, _Piece]] = []
        self.unread: list[range] = []
        self.complete = True
        self.unit: str | None = None
        self.table = syntax_table()
        self.meant: dict[int, str] = {}
        """Broken block lines read as what they meant (`scen a` as `scene a`), by line number."""

    @functools.cached_property
    def lines(self) -> list[str]:
        """The file's lines (made only when an error, a comment or a piece needs them: a list
        of 400 000 short lines is 5 bytes a character of the file)."""
        return self.text.split("\n")

    @functools.cached_property
    def before(self) -> list[int]:
        """The length of the lines before each line: a piece's run of lines is one slice of the
        text (needed only to parse a piece, after a syntax error)."""
        return list(itertools.accumulate(map(len, self.lines), initial=0))

    def read(self, piece: _Piece) -> list:
        """The items of `piece`, in order, with its broken lines left out and reported."""
        out: list = []
        while True:
            continues = piece.header is not None and not piece.opens
            try:
                return _joined(out, self._parse(piece), continues)
            except (UnexpectedInput, IndentProblem) as error:
                texts = _Texts(piece, self.lines)
                diagnostic, local, meant = self.table.diagnose(error, texts, self.path,
                                                               piece.line)
                local = min(max(local, 1), len(piece))
                self.problems.append(_relocated(diagnostic, piece))
                head, rest = self._split(piece, texts, local, keep_body=meant is not None,
                                         stray=diagnostic.code == UNEXPECTED_INDENT)
                if head is not None:
                    out = _joined(out, self.read(head), continues)
                if len(self.problems) >= MAX_SYNTAX_ERRORS:
                    self.complete = False
                    return out
                if meant is not None:  # the body under the line is read as the block it meant
                    self.meant[piece.line(local)] = meant
                    piece = _Piece(rest, piece.line(local), opens=True)
                    continue
                if not rest:
                    return out
                enclosing = (out[-1].span.line if out and isinstance(out[-1], BLOCKS)
                             else piece.header if not out else None)
                indented = texts[local - 1][:1] in {" ", "\t"}
                piece = _Piece(rest, enclosing if indented else None)

    def _split(self, piece: _Piece, texts: _Texts, local: int, keep_body: bool = False,
               stray: bool = False) -> tuple[_Piece | None, range]:
        """The lines before the broken one, and those after it and the body under it (after it
        alone, with `keep_body`: a misspelt block line is read as meant, not left unread).

        A `stray` indented line under an unindented one that opened no block takes the rest of
        that indented run along as its body: one error for the run, not one a line."""
        body = range(0) if keep_body else syntax_body(texts, local - 1)
        above = statement_above(texts, local - 1) if stray else None
        if above is not None and texts[above][:1] not in {" ", "\t"}:
            body = range(local, max(local, syntax_body(texts, above).stop))
        broken = piece.line(local)
        after = body.stop if body else local  # the piece's index of the first line after both
        if not keep_body:
            self.unread.append(range(broken, broken + 1))
        if body:
            self.unread.append(range(piece.line(body.start + 1), piece.line(body.stop) + 1))
        rest = range(piece.line(after + 1) if after < len(piece) else piece.run.stop,
                     piece.run.stop)
        is_header = piece.header is not None and local == 1
        before = range(piece.run.start, piece.run.start if is_header else broken)
        # a block line read as meant opens its block even when an error follows it at once
        keep = before or (piece.opens and not is_header)
        return (_Piece(before, piece.header, piece.opens) if keep else None), rest

    def _parse(self, piece: _Piece) -> list:
        meant = self.meant.get(piece.header) if piece.header is not None else None
        head = (meant or self.lines[piece.header - 1]) + "\n" if piece.header is not None else ""
        first, stop = piece.run.start - 1, piece.run.stop - 1  # indexes into `lines`
        body = (self.text if first == 0 and stop == self.line_count
                else self.text[self.before[first] + first: self.before[stop] + stop])
        source = head + body + ("" if body.endswith("\n") else "\n")
        whole = piece.header is None and piece.run.start == 1
        BUILD.reset(self.path, None if whole else piece.line)
        _INDENTER.start_unit = self.unit
        items = _parser().parse(source)
        self.unit = _INDENTER.unit
        self.built += BUILD.problems
        self.newlines += [(tok, piece) for tok in _INDENTER.newlines]
        if meant is not None and items and isinstance(items[0], BLOCKS):
            items[0] = _named_as_written(items[0], self.lines[piece.header - 1])
        return items

    def build_fields(self, stmts: list[Stmt]) -> list[Field]:
        BUILD.reset(self.path)
        fields = BUILD.fields(stmts, "outside a scene")
        self.built += BUILD.problems
        return fields


def _joined(out: list, items: list, continues: bool) -> list:
    """`out` followed by `items`; a block that `items` continues is joined to `out`'s last."""
    if continues and out and items and type(out[-1]) is type(items[0]) \
            and isinstance(out[-1], BLOCKS):
        return out[:-1] + [_merged(out[-1], items[0])] + items[1:]
    return out + items


def _merged(first, second):
    """One block from its two halves (a broken line between them)."""
    more: dict[str, tuple] = {"fields": first.fields + second.fields}
    if isinstance(first, Scene):
        more["lines"] = first.lines + second.lines
    end = second.span if second.fields or getattr(second, "lines", ()) else first.span
    s = first.span
    return dataclasses.replace(first, span=Span(s.file, s.line, s.column, end.end_line,
                                                end.end_column), **more)


def _named_as_written(block, text: str):
    """A block read from the line it meant (`scene a` for `scen a`), with its name's span where
    the line has it (the words before it may be longer or shorter)."""
    name = block.id if isinstance(block, Scene) else block.name
    column = len(text.split("#")[0].rstrip()) - len(name) + 1
    s = block.id_span if isinstance(block, Scene) else block.name_span
    named = Span(s.file, s.line, column, s.line, column + len(name))
    span = block.span
    if span.end_line == s.line and span.end_column == s.end_column:  # a block without a body
        span = Span(span.file, span.line, span.column, span.end_line, named.end_column)
    return dataclasses.replace(block, span=span, **{"id_span" if isinstance(block, Scene)
                                                    else "name_span": named})


def _relocated(d: Diagnostic, piece: _Piece) -> Diagnostic:
    """A diagnostic made on a piece of the file, with the file's line numbers."""
    s = d.span
    return dataclasses.replace(d, span=Span(s.file, piece.line(s.line), s.column,
                                            piece.line(s.end_line), s.end_column))


@lru_cache(maxsize=1)
def syntax_table() -> SyntaxTable:
    """The table of syntax rules, matched against this parser's states."""
    return SyntaxTable(RULES, _parse_example)


def _parse_example(text: str) -> None:
    with _PARSING:
        BUILD.reset("<example>")
        _INDENTER.start_unit = None
        _parser().parse(text if text.endswith("\n") else text + "\n")


def _comments(newlines: list[tuple[Token, _Piece]], lines: list[str],
              path: str) -> tuple[Comment, ...]:
    """Every comment with its span, read from the newline tokens that hold them."""
    out = []
    for tok, piece in newlines:
        value = str(tok)
        line, last_break, pos = tok.line, -1, 0
        for match in _COMMENT.finditer(value):
            start = match.start()
            line += value.count("\n", pos, start)
            newline = value.rfind("\n", pos, start)
            last_break = newline if newline >= 0 else last_break
            pos = start
            if piece.header is not None and line == 1:
                continue  # the comment of a block line borrowed for recovery: read already
            column = start - last_break if last_break >= 0 else tok.column + start
            number = piece.line(line)
            body = match.group().rstrip()
            source = lines[number - 1] if number <= len(lines) else ""
            out.append(Comment(body, Span(path, number, column, number, column + len(body)),
                               trailing=bool(source[: column - 1].strip())))
    return tuple(out)
