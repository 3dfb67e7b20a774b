"""The `safety` role: a SafetyChecker says whether a drawn picture may be shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True, slots=True)
class SafetyVerdict:
    """`flagged`: the picture must be redrawn (another seed) or reviewed by a person."""

    flagged: bool
    reason: str = ""


class SafetyChecker(Protocol):
    """Checks one picture; `redraws`: how many other seeds the draw stage tries for a flagged
    picture before it marks the scene for a person's review."""

    redraws: int

    def check(self, image: Image) -> SafetyVerdict: ...

    def identity(self) -> dict[str, Any]: ...
