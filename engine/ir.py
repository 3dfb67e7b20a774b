"""The story IR: inert, frozen dataclasses with a source span on every node."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from engine.dsl.vocabulary import AUTO, IMAGE_SUFFIXES, NO_LINES, number, path_part

NARRATOR = "narrator"
"""The speaker of narration lines, and the name of the voice (or category) that reads them."""


class Span(NamedTuple):
    """Where a node sits in its file; lines and columns are 1-based, the end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


NO_SPAN = Span("<generated>", 0, 0, 0, 0)
"""The span of nodes that no file wrote (what a writer filled in, or a test built)."""


@dataclass(frozen=True, slots=True)
class Value:
    """The right-hand side of a field, as the author wrote it (quotes removed, escapes applied)."""

    text: str
    span: Span = NO_SPAN
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """`key: value`, or `key argument: value` (e.g. `trainedness Luna: 0.4`)."""

    key: str
    value: Value
    span: Span = NO_SPAN
    argument: str | None = None
    argument_span: Span | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """A narration or dialogue line of a scene; `text` is None when the writer must fill it in."""

    speaker: str | None
    text: str | None
    span: Span = NO_SPAN
    direction: str | None = None
    speaker_span: Span | None = None
    written_by: Literal["author", "llm"] = "author"
    direction_span: Span | None = None

    @property
    def is_narration(self) -> bool:
        return self.speaker is None


class _Fields:
    """Lookup helpers shared by every node that carries fields."""

    __slots__ = ()
    fields: tuple[Field, ...]

    def get(self, key: str, argument: str | None = None) -> Field | None:
        """The last field with this key (and argument); later fields win, like in YAML."""
        for f in reversed(self.fields):
            if f.key == key and f.argument == argument:
                return f
        return None

    def text(self, key: str, default: str | None = None) -> str | None:
        f = self.get(key)
        return f.value.text if f is not None else default

    def all(self, key: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.key == key)

    def comma_list(self, key: str) -> tuple[str, ...]:
        """A comma-separated field's items (`tags: red hat, scarf`), trimmed, empty ones left
        out; () when the field is absent."""
        raw = self.text(key, "") or ""
        return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True, slots=True)
class Voice(_Fields):
    """`voice NAME`: a named voice (`category`, per-backend ids, `rate`, `pitch`)."""

    name: str
    fields: tuple[Field, ...] = ()
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Character(_Fields):
    """`character NAME`: description, voice, tags, reference, model, token, trainedness."""

    name: str
    fields: tuple[Field, ...] = ()
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN

    @property
    def tags(self) -> tuple[str, ...]:
        return self.comma_list("tags")


@dataclass(frozen=True, slots=True)
class Scene(_Fields):
    """`scene ID`: settings (title, setting, image, trainedness, camera, ...) then lines."""

    id: str
    fields: tuple[Field, ...] = ()
    lines: tuple[Line, ...] = ()
    span: Span = NO_SPAN
    id_span: Span = NO_SPAN

    @property
    def present(self) -> tuple[str, ...]:
        """Characters named by `with:` (comma separated), in the author's order."""
        return self.comma_list("with")

    @property
    def wordless(self) -> bool:
        """`lines: none`: no one speaks in this scene, and the writer writes no lines for it."""
        return self.text("lines") == NO_LINES


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment; `trailing` when it follows a statement on the same line."""

    text: str
    span: Span
    trailing: bool = False


@dataclass(frozen=True, slots=True)
class Story(_Fields):
    """One parsed `.story` file; `used` holds the files it names with `use:`, parsed too."""

    path: str
    fields: tuple[Field, ...] = ()
    voices: tuple[Voice, ...] = ()
    characters: tuple[Character, ...] = ()
    scenes: tuple[Scene, ...] = ()
    comments: tuple[Comment, ...] = ()
    used: tuple[Story, ...] = field(default=())

    @property
    def name(self) -> str:
        """The story's file name without its suffix: names the render folder."""
        return Path(self.path).stem

    def all_voices(self) -> tuple[Voice, ...]:
        """Voices of this file and of every file it uses (this file's own first)."""
        return self.voices + tuple(v for u in self.used for v in u.all_voices())

    def all_characters(self) -> tuple[Character, ...]:
        """Characters of this file and of every file it uses (this file's own first)."""
        return self.characters + tuple(c for u in self.used for c in u.all_characters())

    def voice(self, name: str) -> Voice | None:
        return next((v for v in self.all_voices() if v.name == name), None)

    def character(self, name: str) -> Character | None:
        return next((c for c in self.all_characters() if c.name == name), None)

    def scene(self, scene_id: str) -> Scene | None:
        return next((s for s in self.scenes if s.id == scene_id), None)

    def characters_in(self, scene: Scene) -> tuple[str, ...]:
        """Who is in a scene: those `with:` names, then every other character who speaks in it."""
        present = list(scene.present)
        for line in scene.lines:
            if line.speaker and self.character(line.speaker) and line.speaker not in present:
                present.append(line.speaker)
        return tuple(present)

    def trainedness_field(self, scene: Scene | None, character_name: str) -> Field | None:
        """The field that sets α for one character in one scene, the first of: the scene's
        `trainedness NAME:`, the scene's `trainedness:`, the character's `trainedness:`."""
        character = self.character(character_name)
        candidates = (
            scene.get("trainedness", character_name) if scene is not None else None,
            scene.get("trainedness") if scene is not None else None,
            character.get("trainedness") if character is not None else None,
        )
        return next((found for found in candidates if found is not None), None)

    def trainedness_for(self, scene: Scene | None, character_name: str, default: float) -> float:
        """α for one character in one scene: scene-per-character > scene > character > `default`
        (which also stands for `auto`, which the draw stage resolves)."""
        found = self.trainedness_field(scene, character_name)
        value = number(found.value.text) if found is not None else None
        return default if value is None else value

    def trainedness_is_auto(self, scene: Scene | None, character_name: str,
                            default: bool = False) -> bool:
        """Whether α for this character in this scene is `auto` (`default`: the configuration's
        `trainedness` says so and no story line sets one)."""
        found = self.trainedness_field(scene, character_name)
        return found.value.text.strip() == AUTO if found is not None else default


def without_spans(node: object) -> object:
    """The node with every span (and comment) dropped: what "the same meaning" compares."""
    if isinstance(node, Span):
        return NO_SPAN
    if isinstance(node, tuple):
        return tuple(without_spans(n) for n in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if f.name == "comments":
                changes[f.name] = ()
            elif f.name == "path":
                changes[f.name] = ""
            elif f.name.endswith("span"):
                # optional spans (speaker_span, argument_span) become None, as in nodes made in memory
                changes[f.name] = None if f.default is None else NO_SPAN
            else:
                changes[f.name] = without_spans(value)
        return dataclasses.replace(node, **changes)
    return node


def resolve_path(field: Field, story: Story | None = None) -> Path:
    """The absolute path a `use`/`reference`/`model`/`music`/`sfx` field names.

    Relative to the file that names it (its span), or to `story`'s file for a field made in memory.
    """
    if field.span.line and field.span.file:
        base = Path(field.span.file).parent
    elif story is not None:
        base = Path(story.path).parent
    else:
        base = Path.cwd()
    return Path(os.path.abspath(base / path_part(field.key, field.value.text)))


def images_at(path: Path) -> tuple[Path, ...]:
    """The images a `reference:` names: the file itself, or a folder's image files (by suffix,
    hidden files and subfolders left out) in name order; none when nothing is there yet."""
    if path.is_dir():
        return tuple(sorted(p for p in path.iterdir() if p.is_file() and
                            not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES))
    return (path,) if path.is_file() else ()
