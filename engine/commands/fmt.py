"""`storyreel fmt FILE...`: rewrite stories into their canonical form; `--check` only lists them."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from engine.commands.check import story_files
from engine.dsl.format import format_story
from engine.dsl.load import display_path, load_with_diagnostics, render_diagnostics
from engine.dsl.parse import parse_text
from engine.dsl.source import decode
from engine.errors import shown
from engine.files import refuse_read_only, write_atomically
from engine.ir import without_spans


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyreel fmt",
                                description="Rewrite story files into their canonical form.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help=".story files to format (a folder: every .story file in it)")
    p.add_argument("--check", action="store_true",
                   help="change nothing; list the files that would change and exit 1 if any")
    p.add_argument("--diff", action="store_true",
                   help="change nothing; print what would change as a diff and exit 1 if any")
    return p


def canonical(path: Path) -> tuple[str | None, str]:
    """(canonical text, current text), or (None, why it cannot be formatted)."""
    story, diagnostics = load_with_diagnostics(path)
    if story is None:
        return None, render_diagnostics(diagnostics)
    current, _ = decode(path.read_bytes(), str(path))
    text = format_story(story)
    again, problems = parse_text(text, story.path)
    if problems or without_spans(again) != without_spans(
            parse_text(current, story.path)[0]):
        return None, f"{display_path(str(path))}: error: formatting would change its meaning " \
                     "(a bug in storyreel fmt; please report it)"
    return text, current


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    failed = changed = 0
    for name in story_files(args.files):
        path = Path(name)
        text, current = canonical(path)
        if text is None:
            print(current)
            failed += 1
            continue
        if text == current:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=shown(name), tofile=shown(f"{name} (formatted)")))
        elif args.check:
            print(shown(f"would reformat {name}"))
        else:
            refuse_read_only(path)
            write_atomically(path, text)
            print(shown(f"formatted {name}"))
    if failed:
        return 2
    return 1 if (args.check or args.diff) and changed else 0
