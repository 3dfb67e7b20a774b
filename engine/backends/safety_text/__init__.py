"""The `safety_text` role: a TextChecker flags words and passages unfit for a children's video."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class TextCheckRequest:
    """One line or image prompt; `language`: the story's `language:` (ISO 639-1, e.g. `en`)."""

    text: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class TextFlag:
    """Why a person must read this text before it is published.

    `score`: 1.0 for a word-list hit, the model's score otherwise; `span`: the flagged characters
    as [start, end) offsets into the text, None when the whole text is flagged."""

    category: str
    score: float
    span: tuple[int, int] | None = None


class TextChecker(Protocol):
    """Checks one text; flags nothing for text that may be shown as it is."""

    def check(self, request: TextCheckRequest) -> tuple[TextFlag, ...]: ...

    def identity(self) -> dict[str, Any]: ...
