"""The draw stage: per scene, N candidate pictures at its trainedness, the best one selected."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from engine.backends.image import CharacterLook, DrawRequest, Illustrator
from engine.dsl.check import trainedness_for
from engine.dsl.load import resolve_path
from engine.ir import Field, Scene, Story
from engine.stages.write import scene_characters
from engine.steps import Step

log = logging.getLogger(__name__)

VERSION = 1


@dataclass(frozen=True, slots=True)
class DrawSettings:
    width: int
    height: int
    seed: int = 0
    trainedness: float = 1.0
    candidates: int = 1
    negative_prompt: str = ""


@dataclass(frozen=True, slots=True)
class Drawn:
    """A scene's chosen picture, and every candidate with its score (for the storyboard)."""

    scene_id: str
    image: Path
    candidates: tuple[Path, ...]
    scores: tuple[float, ...]
    chosen: int


def scene_seed(story_seed: int, scene: Scene) -> int:
    """The scene's `seed:`, else one derived from the story seed and the scene id (stable)."""
    own = scene.text("seed")
    if own is not None:
        return int(own)
    digest = hashlib.sha256(f"{story_seed}:{scene.id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _path(field: Field | None, story: Story) -> str | None:
    return str(resolve_path(field, story)) if field is not None else None


def character_looks(story: Story, scene: Scene, default_alpha: float,
                    extra_tags: dict[str, tuple[str, ...]] | None = None
                    ) -> tuple[CharacterLook, ...]:
    """The present characters as the illustrator must draw them, α from the story's precedence."""
    looks = []
    for name in scene_characters(story, scene):
        c = story.character(name)
        if c is None:
            continue
        tags = c.tags or (extra_tags or {}).get(name, ())
        looks.append(CharacterLook(
            name=name, description=c.text("description", "") or "", tags=tags,
            token=c.text("token"), model=_path(c.get("model"), story),
            reference=_path(c.get("reference"), story),
            trainedness=trainedness_for(story, scene, name, default_alpha)))
    return tuple(looks)


def build_requests(story: Story, settings: DrawSettings,
                   extra_tags: dict[str, tuple[str, ...]] | None = None) -> tuple[DrawRequest, ...]:
    """One request per scene of a written story (every scene has its image prompt by now)."""
    style = story.text("style", "") or ""
    return tuple(DrawRequest(
        scene_id=s.id,
        prompt=s.text("image") or s.text("setting") or "",
        negative_prompt=settings.negative_prompt,
        title=s.text("title") or "",
        setting=s.text("setting") or "",
        style=style,
        characters=character_looks(story, s, settings.trainedness, extra_tags),
        width=settings.width, height=settings.height,
        seed=scene_seed(settings.seed, s)) for s in story.scenes)


def weight_order(requests: Sequence[DrawRequest]) -> list[int]:
    """Indices ordered so scenes sharing personalised weights (same α-set) are drawn together."""
    def alphas(r: DrawRequest) -> tuple[tuple[str, float], ...]:
        return tuple(sorted((c.model, c.trainedness) for c in r.characters if c.model))
    return sorted(range(len(requests)), key=lambda i: (alphas(requests[i]), i))


def draw(requests: Sequence[DrawRequest], illustrator: Illustrator, step: Step,
         candidates: int = 1, score: Callable[[DrawRequest, list[Path]], list[float]] | None = None,
         advance: Callable[[], None] = lambda: None) -> list[Drawn]:
    """Draw every scene (cached), in weight order; returns results in story order."""
    from dataclasses import replace

    results: dict[int, Drawn] = {}
    for index in weight_order(requests):
        request = requests[index]
        paths = []
        for n in range(candidates):
            candidate = replace(request, seed=request.seed + n)
            paths.append(step.run(
                "draw", VERSION, candidate, illustrator, "image.png",
                lambda out, r=candidate: illustrator.draw(r).save(out, format="PNG",
                                                                  optimize=False),
                label=f"{request.scene_id}#{n}"))
        scores = score(request, paths) if score and len(paths) > 1 else [1.0] + [0.0] * (
            len(paths) - 1)
        chosen = max(range(len(paths)), key=lambda i: (scores[i], -i))
        results[index] = Drawn(request.scene_id, paths[chosen], tuple(paths), tuple(scores),
                               chosen)
        advance()
    return [results[i] for i in range(len(requests))]
