"""Load a story: parse it and its `use:` files, check paths and names, report every problem."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from engine.dsl import media
from engine.dsl import vocabulary as vocab
from engine.dsl.check import cast_file_told, check_story
from engine.dsl.hints import name_in_value
from engine.dsl.parse import parse_story
from engine.dsl.source import decode
from engine.dsl.unread import Unread
from engine.errors import Diagnostic, StoryError, sort_key
from engine.files import find_root
from engine.ir import Field, Span, Story, resolve_path

log = logging.getLogger(__name__)




def rebase_paths(story: Story, folder: str | Path) -> Story:
    """The story with its own path fields rewritten relative to `folder`.

    For writing the story somewhere else (a run's `resolved.story`) so that its `use:`,
    `reference:`, `model:` and `music:` still name the same files. Spans stay as they were (so
    comments keep their places): format the result, do not resolve its paths again.
    """
    target = Path(os.path.abspath(folder))

    def moved(fields: tuple[Field, ...]) -> tuple[Field, ...]:
        return tuple(
            dataclasses.replace(f, value=dataclasses.replace(f.value, text=_with_path(
                f, os.path.relpath(resolve_path(f, story), target))))
            if f.key in vocab.PATH_KEYS and f.value.text.strip() else f
            for f in fields)

    return dataclasses.replace(
        story, fields=moved(story.fields),
        characters=tuple(dataclasses.replace(c, fields=moved(c.fields))
                         for c in story.characters),
        scenes=tuple(dataclasses.replace(s, fields=moved(s.fields)) for s in story.scenes))


def _with_path(f: Field, path: str) -> str:
    """The field's value naming `path` instead (an `sfx:` keeps its clauses)."""
    if f.key != "sfx":
        return path
    _, end = vocab.sound_placement(f.value.text).place("path")
    return path + f.value.text[end:]


def load_with_diagnostics(path: str | Path, *, to_tell: bool = False
                          ) -> tuple[Story | None, tuple[Diagnostic, ...]]:
    """The checked story (None when there is any error) and every diagnostic, warnings included.

    `to_tell`: the story is to be rendered or filled, so a cast file (voices and characters
    only, which `check` accepts for others to `use:`) is an error."""
    file = Path(os.path.abspath(path))
    loader = _Loader(find_root(file))
    story = loader.load(file, (), None)
    diagnostics = list(loader.diagnostics)
    if story is not None:
        diagnostics += check_story(story, unread=Unread.of(loader.unread, not loader.names_known))
        told = cast_file_told(story) if to_tell else None
        diagnostics += [told] if told else []
    diagnostics.sort(key=sort_key)
    if story is None or any(d.severity == "error" for d in diagnostics):
        return None, tuple(diagnostics)
    return story, tuple(diagnostics)


def load_story(path: str | Path, *, to_tell: bool = False) -> Story:
    """The checked story; raises StoryError carrying every diagnostic when there is an error.

    Warnings are logged; `load_with_diagnostics` returns them instead.
    """
    story, diagnostics = load_with_diagnostics(path, to_tell=to_tell)
    if story is None:
        raise StoryError(diagnostics)
    for d in diagnostics:  # its own "warning:" is in the text: no second level before it
        log.warning("%s", render_diagnostic(d), extra={"says_its_level": True})
    return story


class _Loader:
    """Reads one file tree; remembers what it loaded so each file is read once."""

    def __init__(self, root: Path):
        self.root = root
        self.real_root = root.resolve()
        self.diagnostics: list[Diagnostic] = []
        self.loaded: set[Path] = set()
        self.names_known = True
        self.unread: list[str] = []
        self.probed: dict[tuple[Path, str], str | None] = {}

    def problem(self, span: Span, code: str, message: str, hint: str | None = None,
                severity: str = "error") -> None:
        self.diagnostics.append(Diagnostic(span, severity, code, message, hint))  # type: ignore

    def load(self, file: Path, stack: tuple[Path, ...], named_by: Field | None) -> Story | None:
        where = named_by.value.span if named_by is not None else Span(str(file), 0, 0, 0, 0)
        if named_by is None and file.exists() and not file.is_dir() and \
                (why := media.file_problem(file)) is not None:  # a FIFO or a device: never read
            self.problem(where, "not-a-file", f"not a story file: {why}")
            return None
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            self.problem(where, "missing-file", "no such file")
            return None
        except IsADirectoryError:
            self.problem(where, "not-a-file", "this is a folder, not a story file")
            return None
        except OSError as error:
            self.problem(where, "unreadable-file", f"cannot read this file: {error.strerror}")
            return None
        self.loaded.add(file)
        text, problems = decode(data, str(file))
        if problems:  # not text: one error says so, and nothing is read from it
            self.diagnostics += problems
            return None
        parsed = parse_story(text, str(file))
        story = parsed.story
        self.names_known &= parsed.complete  # a file read in part may declare any name
        self.unread += parsed.unread
        self.diagnostics += parsed.diagnostics
        self.paths(story, file)
        used = []
        for f in story.all("use"):
            target = self.path(f, file.parent)
            if target is None:
                self.names_known = False
                continue
            if target in stack or target == file:
                chain = " → ".join(p.name for p in (*stack, file, target))
                self.problem(f.value.span, "use-cycle", f"`use:` goes round in a circle: {chain}",
                             "a file cannot use itself, directly or through other files")
                continue
            if target in self.loaded:
                continue  # already part of this story through another `use:`
            child = self.load(target, (*stack, file), f)
            if child is None:
                self.names_known = False
            else:
                used.append(child)
        return dataclasses.replace(story, used=tuple(used))

    def paths(self, story: Story, file: Path) -> None:
        """Check every path field but `use:` (which `load` follows)."""
        blocks = (story, *story.characters, *story.scenes)
        for f in (f for block in blocks for f in block.fields):
            if f.key in vocab.PATH_KEYS and f.key != "use":
                self.path(f, file.parent)

    def path(self, f: Field, base: Path) -> Path | None:
        """The path a field names, if it is one the story may use; else a diagnostic and None."""
        text, span = f.value.text, f.value.span
        if f.key == "sfx":  # the path, then where and how loud the sound plays
            placed = vocab.sound_placement(text)
            text, span = placed.path, name_in_value(f.value, *placed.place("path"))
        if not text.strip():
            self.problem(span, "empty-path", f"`{f.key}:` needs a path",
                         "paths are relative to this file's folder, e.g. `art/luna.png`")
            return None
        if os.path.isabs(text) or text.startswith("~"):
            self.problem(span, "absolute-path", f"'{text}' is an absolute path",
                         "paths are relative to this file's folder, e.g. `art/luna.png`")
            return None
        target = Path(os.path.normpath(base / text))
        if not _inside(target, self.root):
            self.problem(span, "path-outside", f"'{text}' leads outside the story repository",
                         f"keep it inside {self.root} (the nearest folder holding .git)")
            return None
        if target.exists() and not _inside(target.resolve(), self.real_root):
            self.problem(span, "path-outside",
                         f"'{text}' is a link that leads outside the story repository",
                         f"keep the file itself inside {self.root}")
            return None
        if not target.exists():
            if f.key in _MUST_EXIST:
                what = _MUST_EXIST[f.key]
                self.problem(span, f"missing-{f.key}", f"no such {what}: '{text}'",
                             f"paths are relative to this file's folder ({base})")
                return None
            self.problem(span, f"missing-{f.key}", f"'{text}' does not exist yet",
                         "the offline illustrator does without it; personalised backends need "
                         "it", severity="warning")
        elif f.key == "use" and (why := media.file_problem(target)) is not None:
            self.problem(span, "not-a-file", f"'{text}' cannot be used as a story file: {why}")
            return None
        elif f.key in vocab.MEDIA_KEYS:
            kind = vocab.MEDIA_KEYS[f.key]
            folder = f.key in vocab.MEDIA_FOLDER_KEYS
            if (target, kind) not in self.probed:
                self.probed[target, kind] = media.problem(target, kind, folder)
            why = self.probed[target, kind]
            if why is not None:
                example = _MEDIA_EXAMPLES[kind] + (" or a folder of them" if folder else "")
                self.problem(span, f"bad-{f.key}", f"'{text}' cannot be used as {kind}: {why}",
                             f"`{f.key}:` names {example}")
                return None
        return target


_MUST_EXIST = {"use": "story file", "music": "music file", "sfx": "sound file"}
"""Path keys whose file a render cannot do without (a missing `reference:` only warns)."""

_MEDIA_EXAMPLES = {"audio": "an audio file (WAV, MP3, OGG, FLAC, …)",
                   "image": "an image file (PNG, JPEG, WebP, …)"}


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def display_path(file: str, cwd: Path | None = None) -> str:
    """A file as a person should read it: relative to the working folder when inside it."""
    if not os.path.isabs(file):
        return file
    here = cwd or Path.cwd()
    try:
        return str(Path(file).relative_to(here))
    except ValueError:
        return file


def for_display(d: Diagnostic, cwd: Path | None = None) -> Diagnostic:
    """The diagnostic with its file shown relative to the working folder."""
    span = d.span._replace(file=display_path(d.span.file, cwd))
    return dataclasses.replace(d, span=span)


def source_line(file: str, line: int, cache: dict[str, list[str]] | None = None) -> str | None:
    """Line `line` (1-based) of `file` as it was decoded, or None when it cannot be read."""
    if line <= 0:  # a diagnostic about the whole file (which may be a FIFO): nothing to read
        return None
    cache = {} if cache is None else cache
    if file not in cache:
        try:
            text, _ = decode(Path(file).read_bytes(), file)
        except OSError:
            text = ""
        cache[file] = text.lstrip("\ufeff").split("\n")
    lines = cache[file]
    return lines[line - 1] if 0 < line <= len(lines) else None


def render_diagnostic(d: Diagnostic, cache: dict[str, list[str]] | None = None,
                      cwd: Path | None = None) -> str:
    """gcc-style text for one diagnostic: location, message, the source line, a caret, a hint."""
    return for_display(d, cwd).render(source_line(d.span.file, d.span.line, cache))


def render_diagnostics(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
                       cwd: Path | None = None) -> str:
    """Every diagnostic rendered, reading each file once."""
    cache: dict[str, list[str]] = {}
    return "\n".join(render_diagnostic(d, cache, cwd) for d in diagnostics)
