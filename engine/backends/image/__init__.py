"""The `image` role: an Illustrator draws one picture of a scene."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True, slots=True)
class CharacterLook:
    """A character present in the scene, as the illustrator must keep it consistent."""

    name: str
    description: str
    tags: tuple[str, ...] = ()
    token: str | None = None       # the personalised model's identifier (DreamBooth token)
    model: str | None = None       # absolute path of the personalised weights, if any
    reference: str | None = None   # absolute path of the design image (or a folder of them)
    trainedness: float = 1.0       # α: how far to move from the base towards the model


@dataclass(frozen=True, slots=True)
class DrawRequest:
    """One picture: the prompt, the scene's facts, size and seed."""

    scene_id: str
    prompt: str
    title: str
    setting: str
    style: str
    characters: tuple[CharacterLook, ...]
    width: int
    height: int
    seed: int
    language: str = "en"
    """The story's `language:` code: the words of the setting and prompt are in it."""
    poses: tuple[tuple[str, str], ...] = ()
    """What the scene's lines say its characters do: (name, pose) pairs, pose words only
    ('waving', 'jumping'), so editing any other word of a line keeps the picture."""
    caption_band: float = 1.0
    """Where the burned captions' band begins at the bottom, as a fraction of the height (1:
    none): an illustrator that places its characters keeps them above it in landscape."""


SUBJECTS = "storyreel:subjects"
"""The key under which an illustrator that knows where it drew the characters (and a title)
leaves their boxes in the picture's `info`, as JSON {"characters": [[x0, y0, x1, y1], ...],
"title": [...]} in fractions of the picture; the draw stage keeps it as a PNG text chunk, and
the editor keeps captions off them and camera moves around the characters."""


class Illustrator(Protocol):
    """Draws one image for a request; the same request and settings give the same pixels.

    One that hands a model text may also offer `describe(request) -> dict`: the exact prompts,
    their token counts and the size drawn, which the manifest and storyboard show per picture.
    One whose pictures follow the characters' `reference:` images says so with a true
    `reads_references`: the draw stage then keys each picture by those images' bytes too.
    """

    def draw(self, request: DrawRequest) -> Image: ...

    def identity(self) -> dict[str, Any]: ...
