"""What reviewers decided about a story's earlier renders, as the next render uses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Rejection:
    """Something a reviewer rejected: its sha256, its text (a line's; "" for a picture), why."""

    content: str
    text: str
    note: str


@dataclass(frozen=True, slots=True)
class Approval:
    """Something a reviewer approved, for a pin: its sha256 (a picture's, a line's audio's),
    its text (a line's; the image prompt a picture was drawn from), the cache entry that holds
    the file, and what it was made for (the stage's `subject_sha256`)."""

    content: str
    text: str
    cache: str = ""
    subject: str = ""


@dataclass(frozen=True, slots=True)
class ItemFeedback:
    """The decisions about one scene's picture or one line slot (`SCENE:N`)."""

    approved: tuple[Approval, ...] = ()
    """Newest first; only those made while the author's scene read as it reads now."""
    rejected: tuple[Rejection, ...] = ()
    """In a stable order (oldest first), whatever the author changed since."""

    @property
    def rejected_contents(self) -> frozenset[str]:
        return frozenset(r.content for r in self.rejected)


NOTHING = ItemFeedback()


@dataclass(frozen=True, slots=True)
class Feedback:
    """Per scene id and per line slot: what the next render redraws, rewrites or keeps."""

    scenes: Mapping[str, ItemFeedback] = field(default_factory=lambda: MappingProxyType({}))
    lines: Mapping[str, ItemFeedback] = field(default_factory=lambda: MappingProxyType({}))

    def scene(self, scene_id: str) -> ItemFeedback:
        return self.scenes.get(scene_id, NOTHING)

    def line(self, scene_id: str, index: int) -> ItemFeedback:
        """The line at `index` (from 0) of the scene: the review's `SCENE:N` with N = index + 1."""
        return self.lines.get(line_key(scene_id, index), NOTHING)

    def lines_of(self, scene_id: str) -> tuple[ItemFeedback, ...]:
        """Every line slot of a scene that has decisions, in line order."""
        prefix = f"{scene_id}:"
        slots = sorted((int(key[len(prefix):]), item) for key, item in self.lines.items()
                       if key.startswith(prefix) and key[len(prefix):].isdigit())
        return tuple(item for _, item in slots)


NO_FEEDBACK = Feedback()


def line_key(scene_id: str, index: int) -> str:
    return f"{scene_id}:{index + 1}"
