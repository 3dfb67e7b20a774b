"""The `tagger` role: a Tagger turns a character's reference image into descriptive tags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class TagRequest:
    """One image to tag; `threshold` (a probability) overrides the tagger's own when set."""

    image: Path
    threshold: float | None = None


class Tagger(Protocol):
    """Tags an image, most confident first; the same image and settings give the same tags."""

    def tag(self, request: TagRequest) -> tuple[str, ...]: ...

    def identity(self) -> dict[str, Any]: ...
