"""The draw stage: per scene, N candidate pictures at its trainedness, the best one selected."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from engine.backends.image import CharacterLook, DrawRequest, Illustrator
from engine.backends.image.reading import line_poses
from engine.backends.safety import SafetyChecker
from engine.backends.select import SelectRequest, Selector
from engine.feedback import NO_FEEDBACK, Feedback, ItemFeedback
from engine.ir import Field, Scene, Story, images_at, resolve_path
from engine.steps import Step, subject_sha256

log = logging.getLogger(__name__)

VERSION = 2
REJECTED = "rejected by a reviewer"
"""Why a picture is passed over (or, when every try was, why the scene needs review)."""
DRAWING = "drawing.json"
"""Beside a picture in its cache entry: what the illustrator handed its model (if it says)."""


@dataclass(frozen=True, slots=True)
class AutoTrainedness:
    """`trainedness: auto`: the α values tried, and how much identity weighs against prompt
    fidelity (0: only the prompt, 1: only likeness to the references)."""

    alphas: tuple[float, ...]
    identity_weight: float
    default: bool = False
    """The configuration's `trainedness` is `auto`: every personalised character no story line
    sets is chosen for."""


@dataclass(frozen=True, slots=True)
class DrawSettings:
    width: int
    height: int
    seed: int | None
    """The story seed from the configuration; None: the story's own `seed:`, else 0."""
    trainedness: float
    candidates: int
    auto: AutoTrainedness | None = None
    caption_band: float = 1.0
    """Where the editor's bottom caption band begins (fraction of the height; 1: none)."""


Tried = tuple[tuple[float, float, float | None, float], ...]
"""(α, prompt fidelity, identity or None without references, weighted score) per α tried."""


@dataclass(frozen=True, slots=True)
class CharacterChoice:
    """One character's α chosen by `trainedness: auto`, and the sweep that chose it: each α
    tried (the scene's other `auto` characters held at theirs) with its scores."""

    name: str
    alpha: float
    tried: Tried

    def record(self) -> dict:
        return {"name": self.name, "chosen": self.alpha,
                "candidates": [{"alpha": a, "prompt": p, "identity": i, "score": s}
                               for a, p, i, s in self.tried]}


@dataclass(frozen=True, slots=True)
class TrainednessChoice:
    """How `trainedness: auto` chose a scene's α, character by character."""

    identity_weight: float
    characters: tuple[CharacterChoice, ...]

    @property
    def alphas(self) -> dict[str, float]:
        return {c.name: c.alpha for c in self.characters}

    def record(self) -> dict:
        return {"chosen": self.alphas, "identity_weight": self.identity_weight,
                "characters": [c.record() for c in self.characters]}


@dataclass(frozen=True, slots=True)
class Drawn:
    """A scene's chosen picture, and every candidate with its score (for the storyboard)."""

    scene_id: str
    image: Path
    candidates: tuple[Path, ...]
    scores: tuple[float, ...]
    chosen: int
    review: str | None = None
    """Why a person must look at this picture (every try was flagged by the safety check)."""
    drawings: tuple[dict | None, ...] = ()
    """Per candidate: the prompts, token counts and size it was drawn with (see DRAWING)."""
    pinned: bool = False
    """An approved picture reused as it was (`draw`'s docstring says when)."""
    passed_over: int = 0
    """Pictures drawn for this scene that a reviewer had rejected (others were drawn instead)."""
    rejected: tuple[int, ...] = ()
    """Which of `candidates` a reviewer had rejected (never chosen, whatever their score)."""
    cache: str | None = None
    """The cache entry holding the picture, for a reviewer's approval to pin it."""
    subject: str = ""
    """What the picture shows (`subject`, hashed): a pin holds while this is the same."""
    trainedness: TrainednessChoice | None = None
    """How `trainedness: auto` chose its characters' α, when it did
    (`engine/auto_trainedness.py`)."""

    @property
    def drawing(self) -> dict | None:
        """The chosen picture's prompts, token counts and size, when the illustrator said."""
        return self.drawings[self.chosen] if self.chosen < len(self.drawings) else None


def scene_seed(story_seed: int, scene: Scene) -> int:
    """The scene's `seed:`, else one derived from the story seed and the scene id (stable)."""
    own = scene.text("seed")
    if own is not None:
        return int(own)
    digest = hashlib.sha256(f"{story_seed}:{scene.id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _path(field: Field | None, story: Story) -> str | None:
    return str(resolve_path(field, story)) if field is not None else None


def character_looks(story: Story, scene: Scene, default_alpha: float
                    ) -> tuple[CharacterLook, ...]:
    """The present characters as the illustrator must draw them, α from the story's precedence."""
    looks = []
    for name in story.characters_in(scene):
        c = story.character(name)
        if c is None:
            continue
        looks.append(CharacterLook(
            name=name, description=c.text("description", "") or "", tags=c.tags,
            token=c.text("token"), model=_path(c.get("model"), story),
            reference=_path(c.get("reference"), story),
            trainedness=story.trainedness_for(scene, name, default_alpha)))
    return tuple(looks)


def build_requests(story: Story, settings: DrawSettings) -> tuple[DrawRequest, ...]:
    """One request per scene of a written story (every scene has its image prompt by now)."""
    style = story.text("style", "") or ""
    language = story.text("language", "en") or "en"
    seed = settings.seed if settings.seed is not None else int(story.text("seed") or 0)
    requests = []
    for s in story.scenes:
        cast = character_looks(story, s, settings.trainedness)
        requests.append(DrawRequest(
            scene_id=s.id,
            prompt=s.text("image") or s.text("setting") or "",
            title=s.text("title") or "",
            setting=s.text("setting") or "",
            style=style, characters=cast,
            width=settings.width, height=settings.height,
            seed=scene_seed(seed, s), language=language, caption_band=settings.caption_band,
            poses=line_poses(((line.speaker, line.text or "", line.direction)
                              for line in s.lines), cast, language)))
    return tuple(requests)


def weight_order(requests: Sequence[DrawRequest]) -> list[int]:
    """Indices ordered so scenes sharing personalised weights (same α-set) are drawn together."""
    def alphas(r: DrawRequest) -> tuple[tuple[str, float], ...]:
        return tuple(sorted((c.model, c.trainedness) for c in r.characters if c.model))
    return sorted(range(len(requests)), key=lambda i: (alphas(requests[i]), i))


def keyed(request: DrawRequest) -> DrawRequest:
    """The request as the cache keys it: no absolute paths (a copied repository shares the
    cache); the personalised weights come in by content (`Step.weights`), and so do the
    references for an illustrator that `reads_references`."""
    return replace(request, characters=tuple(
        replace(c, model="personalised" if c.model else None, reference=None,
                trainedness=float(c.trainedness))
        for c in request.characters))


def draw_one(request: DrawRequest, illustrator: Illustrator, step: Step, label: str) -> Path:
    """One picture through the cache, keyed the same way by every command that draws
    (`render`, `tune`): a picture one of them made, the other reuses."""
    inputs = [step.weights(Path(c.model)) for c in request.characters if c.model]
    if getattr(illustrator, "reads_references", False):
        inputs += [reference_digest(c, step) for c in request.characters if c.reference]
    return step.run("draw", VERSION, keyed(request), illustrator, "image.png",
                    lambda out: make_picture(illustrator, request, out),
                    label=label, inputs=inputs, record=DRAWING)


def reference_digest(look: CharacterLook, step: Step) -> str:
    """A character's design image by content (of a folder, the first: the one that steers),
    for an illustrator it steers; a reference not made yet keys as missing (the picture is
    redrawn once it exists)."""
    images = images_at(Path(look.reference)) if look.reference else ()
    return f"reference:{step.digest(images[0]) if images else 'missing'}"


def reference_images(looks: Iterable[CharacterLook]) -> tuple[Path, ...]:
    """Every image the characters' `reference:` lines name (a folder's, all of them), in order:
    what a selector scores likeness against."""
    return tuple(image for look in looks if look.reference
                 for image in images_at(Path(look.reference)))


def make_picture(illustrator: Illustrator, request: DrawRequest, out: Path) -> None:
    """The picture at `out` (with what the illustrator noted in it, e.g. where its characters
    are: `storyreel:` text chunks), and beside it what the illustrator handed its model."""
    image = illustrator.draw(request)
    notes = PngInfo()
    for key, value in sorted(image.info.items()):
        if key.startswith("storyreel:") and isinstance(value, str):
            notes.add_text(key, value)
    image.save(out, format="PNG", pnginfo=notes)
    describe = getattr(illustrator, "describe", None)
    if callable(describe):
        out.with_name(DRAWING).write_text(json.dumps(describe(request), ensure_ascii=False),
                                          encoding="utf-8")


def read_drawing(picture: Path) -> dict | None:
    """The DRAWING record beside a cached picture; None when the illustrator gave none."""
    path = picture.with_name(DRAWING)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _score(request: DrawRequest, paths: list[Path], selector: Selector, step: Step) -> list[float]:
    """The selector's scores for a scene's candidates (cached: CLIP scoring is not free)."""
    if len(paths) == 1:
        return [1.0]
    references = reference_images(request.characters)
    ask = SelectRequest(request.prompt, tuple(paths), references)
    path = step.run("select", VERSION, {"prompt": request.prompt}, selector, "scores.json",
                    lambda out: out.write_text(json.dumps(list(selector.score(ask)))),
                    label=request.scene_id,
                    inputs=[step.digest(p) for p in (*paths, *references)])
    return [float(s) for s in json.loads(path.read_text())]


def _flagged(path: Path, safety: SafetyChecker, step: Step, label: str) -> str | None:
    """Why the safety checker flags this picture (cached), or None when it passes."""
    def check(out: Path) -> None:
        with Image.open(path) as image:
            verdict = safety.check(image.convert("RGB"))
        out.write_text(json.dumps({"flagged": verdict.flagged, "reason": verdict.reason}))

    verdict = json.loads(step.run("safety", VERSION, {}, safety, "verdict.json", check,
                                  label=label, inputs=[step.digest(path)]).read_text())
    return (verdict["reason"] or "flagged") if verdict["flagged"] else None


def subject(request: DrawRequest) -> DrawRequest:
    """What a picture shows, as its pin knows it: the request as keyed, less the seed and the
    trainedness (a pinned picture is kept when they change)."""
    request = keyed(request)
    return replace(request, seed=0, characters=tuple(replace(c, trainedness=0.0)
                                                     for c in request.characters))


def draw(requests: Sequence[DrawRequest], illustrator: Illustrator, step: Step,
         candidates: int = 1, selector: Selector | None = None,
         safety: SafetyChecker | None = None,
         advance: Callable[[], None] = lambda: None,
         feedback: Feedback = NO_FEEDBACK,
         choices: dict[str, TrainednessChoice] | None = None) -> list[Drawn]:
    """Draw every scene (cached), in weight order; results in story order.

    A scene with an approved picture that the cache still holds for the same subject reuses it
    (pinned). Otherwise it gets `candidates` pictures (seed, seed+1, ...), scored by the
    selector; the best one that no reviewer rejected and the safety checker passes is used. When
    none is, more seeds are tried (`safety.redraws` more, and one more per rejected picture),
    then the best is kept and marked for review. Every picture used is kept for a later pin.
    """
    results: dict[int, Drawn] = {}
    for index in weight_order(requests):
        request = requests[index]
        review = feedback.scene(request.scene_id)
        shows = subject_sha256(subject(request))
        drawn = _pinned(request, review, shows, step) or _draw_scene(
            request, illustrator, step, candidates, selector, safety,
            review.rejected_contents)
        results[index] = replace(drawn, cache=step.entry_key(drawn.image), subject=shows,
                                 trainedness=(choices or {}).get(request.scene_id))
        _warn_if_title_cut(request, drawn.drawing or read_drawing(drawn.image))
        advance()
    return [results[i] for i in range(len(requests))]


def _warn_if_title_cut(request: DrawRequest, drawing: dict | None) -> None:
    """A warning, naming the scene, when its picture shows its title cut short (the illustrator
    noted it: a banner's rows could not hold it), at every render, the picture cached or not."""
    title = (drawing or {}).get("title") or {}
    if title.get("cut"):
        rows = list(title.get("rows") or ())
        log.warning("scene %s: its title %r does not fit the banner of a %d×%d picture, even in "
                    "%d rows at a smaller size; it shows as %r (the chapter keeps it whole): "
                    "shorten the title", request.scene_id, request.title, request.width,
                    request.height, len(rows), " / ".join(rows))


def _pinned(request: DrawRequest, review: ItemFeedback, shows: str, step: Step) -> Drawn | None:
    """The newest approved picture of this subject that the cache still holds, if any."""
    for approval in review.approved:
        if approval.subject != shows:
            continue
        path = step.kept(approval.cache, approval.content, stage="draw",
                         label=f"{request.scene_id} (approved)")
        if path is not None:
            return Drawn(request.scene_id, path, (path,), (1.0,), 0, pinned=True)
    return None


def _draw_scene(request: DrawRequest, illustrator: Illustrator, step: Step, candidates: int,
                selector: Selector | None, safety: SafetyChecker | None,
                rejected: frozenset[str]) -> Drawn:
    def one(n: int) -> Path:
        return draw_one(replace(request, seed=request.seed + n), illustrator, step,
                        label=f"{request.scene_id}#{n}")

    def why_not(n: int) -> str | None:
        if step.digest(paths[n]) in rejected:
            return REJECTED
        return _flagged(paths[n], safety, step, f"{request.scene_id}#{n}") if safety else None

    paths = [one(n) for n in range(max(1, candidates))]
    scores = _score(request, paths, selector, step) if selector else [1.0] + [0.0] * (
        len(paths) - 1)
    ranked = sorted(range(len(paths)), key=lambda i: (-scores[i], i))
    reasons = {i: why_not(i) for i in ranked}
    passing = [i for i in ranked if reasons[i] is None]
    tries = len(ranked) + (safety.redraws if safety else 0) + len(rejected)
    while not passing and len(paths) < tries:
        n = len(paths)
        paths.append(one(n))
        scores.append(min(scores) - 1.0)  # a redraw only wins by passing
        reasons[n] = why_not(n)
        if reasons[n] is None:
            passing = [n]
    chosen = passing[0] if passing else ranked[0]
    return Drawn(request.scene_id, paths[chosen], tuple(paths), tuple(scores), chosen,
                 None if passing else reasons[ranked[0]], tuple(read_drawing(p) for p in paths),
                 passed_over=sum(1 for r in reasons.values() if r == REJECTED),
                 rejected=tuple(sorted(n for n, r in reasons.items() if r == REJECTED)))
