"""`storyreel check FILE...`: every problem of each story, gcc-style or JSON; exit 2 on errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from engine.dsl.load import for_display, load_with_diagnostics, render_diagnostics
from engine.dsl.parse import STOPPED
from engine.commands.glyphs import glyph_warnings
from engine.errors import Diagnostic, StoryError
from engine.ir import Story

SCHEMA_VERSION = 1
"""The version of `--format json`'s schema (docs/editors.md), carried by every diagnostic: raised
when a key goes away or changes meaning; a new key may appear without it."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyreel check",
                                description="Check story files and report every problem.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help=".story files to check (a folder: every .story file in it)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (gcc-style, with the source line) or json (for editors and CI)")
    return p


def story_files(arguments: list[str]) -> list[str]:
    """The files named, with each folder replaced by the .story files under it."""
    out: list[str] = []
    for argument in arguments:
        folder = Path(argument)
        if folder.is_dir():
            out += [str(p) for p in sorted(folder.rglob("*.story")) if p.is_file()] or [argument]
        else:
            out.append(argument)
    return out


def collect(files: list[str]) -> list[Diagnostic]:
    """Every diagnostic of every file, each once (a cast file used twice reports once)."""
    seen: dict[Diagnostic, None] = {}
    for file in files:
        story, diagnostics = load_with_diagnostics(file)
        seen.update(dict.fromkeys(diagnostics))
        if story is not None:
            seen.update(dict.fromkeys(glyph_warnings(story)))
            seen.update(dict.fromkeys(_review_warnings(story)))
    return in_reading_order(list(seen))


def in_reading_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics file by file (in the order the files first come up), each file's by line
    and column (the syntax, the meaning, the fonts and the reviews found them in that order)."""
    files: dict[str, int] = {}
    for d in diagnostics:
        files.setdefault(d.span.file, len(files))
    return sorted(diagnostics, key=lambda d: (files[d.span.file], d.span.line, d.span.column))


def _review_warnings(story: Story) -> list[Diagnostic]:
    """The author's lines a reviewer rejected (`<story>.review.yaml`), or why that file is
    unreadable."""
    if not Path(story.path).with_suffix(".review.yaml").is_file():
        return []  # nothing reviewed: `check` stays quick (no YAML, no review modules)
    from engine.review.feedback import rejected_author_lines

    try:
        return rejected_author_lines(story)
    except StoryError as error:
        return list(error.diagnostics)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(files: int, diagnostics: list[Diagnostic]) -> str:
    """`checked 2 files: 3 errors, 1 warning`, saying in how many files checking stopped early
    (the note that it did is not counted as an error)."""
    stopped = sum(d.code == STOPPED for d in diagnostics)
    errors = sum(d.severity == "error" for d in diagnostics) - stopped
    warnings = len(diagnostics) - errors - stopped
    out = (f"checked {_count(files, 'file')}: {_count(errors, 'error')}, "
           f"{_count(warnings, 'warning')}")
    return out + (f" (stopped early in {_count(stopped, 'file')})" if stopped else "")


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    files = story_files(args.files)
    diagnostics = collect(files)
    try:
        report(args.format, files, diagnostics)
    except BrokenPipeError:  # `storyreel check ... | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 2 if any(d.severity == "error" for d in diagnostics) else 0


def report(form: str, files: list[str], diagnostics: list[Diagnostic]) -> None:
    if form == "json":
        print(json.dumps([{"schema_version": SCHEMA_VERSION, **for_display(d).as_json()}
                          for d in diagnostics], ensure_ascii=False, indent=2))
    else:
        if diagnostics:
            print(render_diagnostics(diagnostics))
        print(summary(len(files), diagnostics))
