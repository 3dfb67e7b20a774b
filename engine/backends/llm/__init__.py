"""The `llm` role: a Writer fills in what the author left out (lines, image prompts, scenes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.canonical import KEYED_WHEN_SET


@dataclass(frozen=True, slots=True)
class CharacterBrief:
    """What a writer knows of a character."""

    name: str
    description: str
    voice_category: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """An earlier answer a reviewer rejected, and the reviewer's note: write something else."""

    text: str
    note: str


@dataclass(frozen=True, slots=True)
class LineBrief:
    """A line of a scene: the author's text, or None where the writer must write it."""

    speaker: str | None  # None: the narrator
    text: str | None
    direction: str | None = None
    rejected: tuple[Rejected, ...] = ()
    """For a line to write: earlier answers for it that a reviewer rejected, with their notes."""


@dataclass(frozen=True, slots=True)
class SceneBrief:
    """A scene as the author wrote it; `lines` empty means the writer writes them all."""

    id: str
    title: str | None
    setting: str | None
    characters: tuple[str, ...]
    lines: tuple[LineBrief, ...]
    image: str | None  # the image prompt; None: the writer writes it
    rejected_lines: tuple[Rejected, ...] = ()
    """For a scene without lines: earlier lines written for it that a reviewer rejected."""
    wordless: bool = field(default=False, metadata=KEYED_WHEN_SET)
    """`lines: none`: the scene has no words, and the writer writes none (its image only); in
    the write stage's key only when set (the keys of stories without it stay as they were)."""

    @property
    def lines_to_write(self) -> bool:
        """Whether the writer writes lines here: none given (unless wordless), or a `NAME:` line."""
        return not self.lines and not self.wordless or any(ln.text is None for ln in self.lines)

    @property
    def has_holes(self) -> bool:
        """Whether the writer has something to fill: lines to write, or no image."""
        return self.lines_to_write or self.image is None


@dataclass(frozen=True, slots=True)
class SceneOutline:
    """A scene as context for writing another one on its own: where it is and who is there."""

    id: str
    title: str | None
    setting: str | None
    characters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """Everything a writer needs for one story.

    With `scenes` empty and `scene_count > 0` the writer drafts that many scenes from `premise`.
    Otherwise it returns every scene of `scenes`, in order, complete: each `None` line written,
    each scene without lines given lines, each missing image prompt written. Author text is
    context, never to be changed (the write stage keeps the author's text regardless).
    """

    title: str
    audience: str
    style: str
    language: str
    premise: str | None
    characters: tuple[CharacterBrief, ...]
    scenes: tuple[SceneBrief, ...]
    scene_count: int = 0
    outline: tuple[SceneOutline, ...] = ()


@dataclass(frozen=True, slots=True)
class WrittenLine:
    speaker: str | None
    text: str
    direction: str | None = None


@dataclass(frozen=True, slots=True)
class WrittenScene:
    id: str
    title: str
    setting: str
    characters: tuple[str, ...]
    image: str
    lines: tuple[WrittenLine, ...]


@dataclass(frozen=True, slots=True)
class Usage:
    """What writing cost: requests made and tokens used (zero for offline writers)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.requests + other.requests, self.prompt_tokens + other.prompt_tokens,
                     self.completion_tokens + other.completion_tokens)


@dataclass(frozen=True, slots=True)
class WriteResult:
    scenes: tuple[WrittenScene, ...]
    usage: Usage = Usage()


class Writer(Protocol):
    """Writes what the author left out; same request and settings, same answer where it can.

    One with a true `scene_by_scene` is asked once per scene with a hole (its request's
    `outline` set), each answer cached on its own: an edit re-asks only the scene it touched.
    A premise-only story is asked whole either way.
    """

    def write(self, request: WriteRequest) -> WriteResult: ...

    def identity(self) -> dict[str, Any]: ...
