"""`storyreel init [DIR]`: start a story repository (stories, shared cast, presets)."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from engine.backends.safety_text.wordlist import STARTER
from engine.errors import counted
from engine.files import create_exclusively, write_atomically

TEMPLATE = ("templates", "repo")
"""The template's folder inside the `engine` package (shipped as package data)."""

DOTFILES = {"gitignore": ".gitignore"}
"""Template files kept without their leading dot, so that no packaging glob skips them."""

EXAMPLE = "stories/first-story.story"

DENY_LIST = PurePosixPath("safety/deny.txt")
"""Where a new repository gets its own, editable copy of the starter deny list."""

DENY_HEADER = """\
# This repository's deny list: safety_text=wordlist flags the lines and image prompts that use
# these words, for a person's review before publishing. `storyreel init` wrote it as a copy of
# storyreel's starter list, for you to edit. storyreel also applies its own copy of the starter
# list unless safety_text.starter=false: `safety_text=own-lists` (conf/safety_text/) sets that,
# so that a word taken out of this file is no longer flagged.

"""

DESCRIPTION = """Start a story repository in DIR (default: here): stories/ with an example story,
cast/ with voices and characters the stories share, conf/ with presets that add to storyreel's
configuration, a README and a .gitignore for what renders make. DIR becomes a git repository
unless it is inside one already: its root is where `render` looks for conf/ and keeps the cache."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyreel init", description=DESCRIPTION)
    p.add_argument("dir", nargs="?", default=".", metavar="DIR",
                   help="the repository's folder, made if missing (default: the current folder)")
    p.add_argument("--force", action="store_true",
                   help="replace files that the template also has, keeping a changed one beside "
                        "it as NAME.before-init (other files are left alone)")
    return p


def template_files() -> dict[PurePosixPath, bytes]:
    """Every file of the template: its place in a new repository → its bytes."""
    found: dict[PurePosixPath, bytes] = {}

    def walk(node: Traversable, at: PurePosixPath) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, at / child.name)
            else:
                found[at / DOTFILES.get(child.name, child.name)] = child.read_bytes()

    walk(files("engine").joinpath(*TEMPLATE), PurePosixPath())
    found[DENY_LIST] = deny_list()
    return dict(sorted(found.items()))


def deny_list() -> bytes:
    """The starter deny list as a repository's own file: its entries, with a header of ours."""
    starter = files("engine.backends.safety_text").joinpath(STARTER).read_text(encoding="utf-8")
    entries = starter[starter.index("\n[") + 1:]  # from its first `[category]` line on
    return (DENY_HEADER + entries).encode("utf-8")


def in_the_way(root: Path, places: list[PurePosixPath]) -> list[PurePosixPath]:
    """The template's places that something already occupies under `root`."""
    return [place for place in places
            if (root / place).exists() or (root / place).is_symlink()]


def blocked(root: Path, places: list[PurePosixPath]) -> PurePosixPath | None:
    """A place that even --force cannot write: a folder there, or a file where a folder goes."""
    for place in places:
        target = root / place
        if target.is_dir() and not target.is_symlink():
            return place
        for parent in place.parents:
            if (root / parent).exists() and not (root / parent).is_dir():
                return parent
    return None


def git_note(root: Path) -> str:
    """Make `root` a git repository unless it is in one; what happened, in a few words."""
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            if folder == root:
                return "in the git repository there"
            return (f"inside the git repository {folder}: `render` looks for conf/ at its root "
                    "and beside each story")
    try:
        subprocess.run(["git", "init", "--quiet", str(root)], check=True,
                       capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return ("not a git repository (git init failed): run `git init` there, since stories "
                "`use:` ../cast and `render` finds conf/ at the folder holding .git")
    return "in a new git repository"


KEPT_SUFFIX = ".before-init"
"""What `--force` appends to the name of a file it replaces whose bytes were not the template's."""


def write(root: Path, template: dict[PurePosixPath, bytes], force: bool) -> list[PurePosixPath]:
    """Write the template; with `force`, first keep each file that differs from it (the author
    may have edited it) beside it as NAME.before-init. The places kept so."""
    kept = []
    for place, data in template.items():
        target = root / place
        target.parent.mkdir(parents=True, exist_ok=True)
        if not force:
            create_exclusively(target, data)
            continue
        if target.is_file() and target.read_bytes() != data:
            create_exclusively(_free_name(target), target.read_bytes())
            kept.append(place)
        write_atomically(target, data)
    return kept


def _free_name(target: Path) -> Path:
    """NAME.before-init, or NAME.before-init.2, .3, … when an earlier --force kept one."""
    first = target.with_name(target.name + KEPT_SUFFIX)
    count = 2
    while first.exists() or first.is_symlink():
        first = target.with_name(f"{target.name}{KEPT_SUFFIX}.{count}")
        count += 1
    return first


def refusal(root: Path, force: bool, template: dict[PurePosixPath, bytes]) -> str | None:
    """Why nothing may be written into `root`, in one line; None when all is clear."""
    if root.exists() and not root.is_dir():
        return f"{root} is a file, not a folder"
    places = list(template)
    stuck = blocked(root, places)
    if stuck is not None:
        return f"{root / stuck} is in the way (a folder where a file goes, or the reverse)"
    taken = in_the_way(root, places)
    if taken and not force:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        return (f"{root / taken[0]} already exists{more}; nothing written "
                f"(--force replaces the template's files, keeping changed ones as "
                f"NAME{KEPT_SUFFIX})")
    return None


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    shown = Path(args.dir)
    template = template_files()
    why = refusal(shown, args.force, template)
    if why is not None:
        print(f"storyreel init: {why}", file=sys.stderr)
        return 2
    root = shown.absolute()
    try:
        root.mkdir(parents=True, exist_ok=True)
        kept = write(root, template, args.force)
    except FileExistsError as error:
        print(f"storyreel init: {error.filename2 or error.filename} appeared meanwhile; "
              "stopped there (--force replaces it)", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"storyreel init: cannot write {error.filename or args.dir}: {error.strerror}",
              file=sys.stderr)
        return 1
    where = git_note(root)
    go = "" if shown == Path(".") else f"  cd {shlex.quote(str(shown))}\n"
    print(f"created a story repository in {shown} ({len(template)} files), {where}\n"
          f"next:\n{go}  storyreel check stories\n  storyreel render {EXAMPLE}")
    if kept:
        print(f"storyreel init: replaced {counted(len(kept), 'file')} that differed from the template; "
              f"your versions are beside them as NAME{KEPT_SUFFIX}: "
              f"{', '.join(str(place) for place in kept)}", file=sys.stderr)
    return 0
