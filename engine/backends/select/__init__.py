"""The `select` role: a Selector scores a scene's candidate pictures; the best one is used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Union

if TYPE_CHECKING:
    from PIL.Image import Image

Candidate = Union[Path, "Image"]


@dataclass(frozen=True, slots=True)
class SelectRequest:
    """The scene's prompt, its candidates (files or images) and the present characters'
    reference images (absolute paths; empty when none has one)."""

    prompt: str
    candidates: tuple[Candidate, ...]
    references: tuple[Path, ...] = ()


class Selector(Protocol):
    """One score per candidate, higher is better; deterministic for the same inputs.

    One that can also score prompt fidelity and identity apart offers `axes(request)`: per
    candidate (prompt, identity or None without references), which `trainedness: auto` weighs.
    """

    def score(self, request: SelectRequest) -> tuple[float, ...]: ...

    def identity(self) -> dict[str, Any]: ...


def open_rgb(candidate: Candidate) -> Image:
    """A candidate as an RGB image (a path is opened and read now)."""
    from PIL import Image as PILImage

    if isinstance(candidate, (str, Path)):
        with PILImage.open(candidate) as image:
            return image.convert("RGB")
    return candidate.convert("RGB")
