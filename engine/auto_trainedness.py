"""`trainedness: auto`: each character's α chosen by drawing its scene across a grid of α."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from engine.backends.image import DrawRequest, Illustrator
from engine.backends.select import Selector, SelectRequest
from engine.dsl.vocabulary import AUTO
from engine.errors import ConfigError
from engine.ir import Field, Scene, Story, Value
from engine.stages.draw import (
    AutoTrainedness,
    CharacterChoice,
    Drawn,
    DrawSettings,
    TrainednessChoice,
    Tried,
    draw_one,
    reference_images,
)
from engine.steps import Step

VERSION = 2
"""Bumped when what an `auto` entry holds (each picture's two scores) changes meaning."""
ROUNDS = 3
"""At most this many passes of coordinate descent over a scene's `auto` characters."""


def auto_characters(story: Story, scene: Scene, settings: DrawSettings) -> tuple[str, ...]:
    """The scene's personalised characters whose α is `auto`, in cast order."""
    default = settings.auto.default if settings.auto is not None else False
    return tuple(name for name in story.characters_in(scene)
                 if (c := story.character(name)) is not None and c.get("model") is not None
                 and story.trainedness_is_auto(scene, name, default))


def with_alphas(request: DrawRequest, alphas: Mapping[str, float]) -> DrawRequest:
    """The request with the named characters at their α."""
    return replace(request, characters=tuple(
        replace(c, trainedness=alphas[c.name]) if c.name in alphas else c
        for c in request.characters))


def choices_of(drawn: Sequence[Drawn]) -> dict[str, TrainednessChoice]:
    """Scene id → how `auto` chose its characters' α, for the scenes where it did."""
    return {d.scene_id: d.trainedness for d in drawn if d.trainedness is not None}


class _Chooser:
    """Draws and scores sweeps: one character's α (or all of a scene's together) across the
    grid, the scene's other characters held where they are."""

    def __init__(self, auto: AutoTrainedness, illustrator: Illustrator, selector: Selector,
                 step: Step):
        self.auto, self.illustrator, self.selector, self.step = auto, illustrator, selector, step

    def sweep(self, turns: Sequence[tuple[DrawRequest, Mapping[str, float], tuple[str, ...]]]
              ) -> list[tuple[float, Tried]]:
        """Per turn (a request, its characters' current α, the characters moved together): the
        grid drawn, α outermost so each α-set is applied once; the best α by the moved
        characters' identity and the prompt."""
        grid = self.auto.alphas
        pictures: dict[tuple[int, float], Path] = {}
        for alpha in grid:
            for n, (request, current, moved) in enumerate(turns):
                variant = with_alphas(request, {**current, **{name: alpha for name in moved}})
                pictures[n, alpha] = draw_one(variant, self.illustrator, self.step,
                                              label=f"{request.scene_id}@{_alphas(variant)}")
        return [self._best(request, moved, [pictures[n, a] for a in grid])
                for n, (request, _, moved) in enumerate(turns)]

    def _best(self, request: DrawRequest, moved: tuple[str, ...], paths: list[Path]
              ) -> tuple[float, Tried]:
        """The α whose picture has the best weighted score (the first, on a tie), and every
        α's scores."""
        references = reference_images(c for c in request.characters if c.name in moved)
        ask = SelectRequest(request.prompt, tuple(paths), references)
        axes = self.selector.axes  # type: ignore[attr-defined]
        path = self.step.run("auto", VERSION, {"prompt": request.prompt}, self.selector,
                             "axes.json", lambda out: out.write_text(json.dumps(axes(ask))),
                             label=request.scene_id,
                             inputs=[self.step.digest(p) for p in (*paths, *references)])
        weight = self.auto.identity_weight
        tried = []
        for alpha, (prompt, identity) in zip(self.auto.alphas, json.loads(path.read_text())):
            score = prompt if identity is None else (1 - weight) * prompt + weight * identity
            tried.append((alpha, prompt, identity, round(score, 6)))
        return max(tried, key=lambda t: t[3])[0], tuple(tried)


def _alphas(request: DrawRequest) -> str:
    return ",".join(f"{c.trainedness:g}" for c in request.characters if c.model)


def choose_trainedness(story: Story, requests: Sequence[DrawRequest], settings: DrawSettings,
                       illustrator: Illustrator, selector: Selector | None, step: Step
                       ) -> tuple[list[DrawRequest], dict[str, TrainednessChoice]]:
    """Each scene's `auto` characters' α: first all of them together across the grid (the
    scene's own seed; identity against all their references); then, for a scene with several,
    coordinate descent: each character in turn across the grid with the others held at their
    current α, scored on its own references, until a pass changes nothing (at most ROUNDS).
    Returns the requests at the chosen α, and how each scene's were chosen."""
    scenes = {s.id: s for s in story.scenes}
    autos = {r.scene_id: names for r in requests
             if (names := auto_characters(story, scenes[r.scene_id], settings))}
    if not autos:
        return list(requests), {}
    if settings.auto is None or not callable(getattr(selector, "axes", None)):
        asked = "; ".join(f"scene '{sid}': {', '.join(names)}" for sid, names in autos.items())
        raise ConfigError(f"trainedness: auto ({asked}) scores pictures for the prompt and for "
                          "likeness to the references: configure select=clip "
                          "select.model=FOLDER")
    chooser = _Chooser(settings.auto, illustrator, selector, step)  # type: ignore[arg-type]
    tried = [r for r in requests if r.scene_id in autos]
    together = chooser.sweep([(r, {}, autos[r.scene_id]) for r in tried])
    current = {r.scene_id: {name: alpha for name in autos[r.scene_id]}
               for r, (alpha, _) in zip(tried, together)}
    sweeps = {r.scene_id: {name: scores for name in autos[r.scene_id]}
              for r, (_, scores) in zip(tried, together)}
    _descend(chooser, [r for r in tried if len(autos[r.scene_id]) > 1], autos, current, sweeps)
    choices = {sid: TrainednessChoice(settings.auto.identity_weight, tuple(
        CharacterChoice(name, current[sid][name], sweeps[sid][name]) for name in autos[sid]))
        for sid in autos}
    return [with_alphas(r, current[r.scene_id]) if r.scene_id in current else r
            for r in requests], choices


def with_chosen_trainedness(story: Story, choices: dict[str, TrainednessChoice]) -> Story:
    """The story with each `auto` resolved to the α chosen for it (what resolved.story carries
    and `fill --write` writes)."""
    if not choices:
        return story
    return replace(story, scenes=tuple(
        _with_numbers(s, choices[s.id].alphas) if s.id in choices else s for s in story.scenes))


def _with_numbers(scene: Scene, alphas: Mapping[str, float]) -> Scene:
    """A character's own `trainedness NAME: auto` takes its number; the scene's `trainedness:
    auto` takes the first of its characters' numbers, and a character whose α differs from it
    (or, without that line, any character) gains `trainedness NAME: α`."""
    fields = list(scene.fields)

    def index_of(argument: str | None) -> int | None:
        return next((i for i, f in enumerate(fields)
                     if f.key == "trainedness" and f.argument == argument), None)

    def number(alpha: float, span_of: Field | None = None) -> Value:
        value = Value(f"{alpha:g}")
        return value if span_of is None else replace(value, span=span_of.value.span)

    shared = index_of(None)
    shared = shared if shared is not None and fields[shared].value.text.strip() == AUTO else None
    shared_alpha: float | None = None
    for name, alpha in alphas.items():
        own = index_of(name)
        if own is not None:
            if fields[own].value.text.strip() == AUTO:
                fields[own] = replace(fields[own], value=number(alpha, fields[own]))
        elif shared is not None and shared_alpha is None:
            fields[shared] = replace(fields[shared], value=number(alpha, fields[shared]))
            shared_alpha = alpha
        elif shared_alpha != alpha:
            fields.append(Field("trainedness", number(alpha), argument=name))
    return replace(scene, fields=tuple(fields))


def _descend(chooser: _Chooser, requests: list[DrawRequest], autos: dict[str, tuple[str, ...]],
             current: dict[str, dict[str, float]], sweeps: dict[str, dict[str, Tried]]) -> None:
    """Coordinate descent for scenes with several `auto` characters: in each pass, the first
    character of every such scene swept (the others held), then the second, ...; a scene whose
    pass changed nothing is settled. Updates `current` and `sweeps` in place."""
    unsettled = requests
    for _ in range(ROUNDS):
        if not unsettled:
            return
        changed = set()
        for turn in range(max(len(autos[r.scene_id]) for r in unsettled)):
            movers = [(r, autos[r.scene_id][turn]) for r in unsettled
                      if turn < len(autos[r.scene_id])]
            found = chooser.sweep([(r, current[r.scene_id], (name,)) for r, name in movers])
            for (r, name), (alpha, scores) in zip(movers, found):
                if alpha != current[r.scene_id][name]:
                    changed.add(r.scene_id)
                current[r.scene_id][name], sweeps[r.scene_id][name] = alpha, scores
        unsettled = [r for r in unsettled if r.scene_id in changed]
