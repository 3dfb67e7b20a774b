"""Sound effects (`sfx:`): placed in their scene at a time or at a line's start, at their level,
and added to the mix before it is mastered (never ducked: they are the story's own sounds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.mix import SAMPLE_RATE, read_clip
from engine.timeline import Timeline


@dataclass(frozen=True, slots=True)
class SoundEffect:
    """A scene's `sfx:`: its file; when it starts (`seconds` into the scene, or when the scene's
    line `line` starts, counted from 1; neither: as the scene starts); its gain in dB."""

    audio: Path
    seconds: float | None = None
    line: int | None = None
    level: float = 0.0


def latest(effects: Sequence[SoundEffect]) -> SoundEffect | None:
    """The effect placed at the latest time into its scene (None: none is placed at a time)."""
    timed = [effect for effect in effects if effect.seconds is not None]
    return max(timed, key=lambda effect: effect.seconds or 0.0) if timed else None


def least_length(effects: Sequence[SoundEffect], duration: float | None,
                 tail: float) -> float | None:
    """A scene's `duration:` raised so that each effect placed at a time starts inside the scene,
    `tail` seconds before its end (None: the scene fits its lines)."""
    last = latest(effects)
    if last is None or last.seconds is None:
        return duration
    return max(duration or 0.0, last.seconds + tail)


def effect_start(timeline: Timeline, scene_index: int, effect: SoundEffect) -> float:
    """Seconds into the whole timeline at which an effect of scene `scene_index` starts."""
    scene = timeline.scenes[scene_index]
    if effect.line is None:
        return scene.start + (effect.seconds or 0.0)
    if not 1 <= effect.line <= len(scene.line_starts):
        raise ValueError(f"scene {scene_index + 1} has no line {effect.line} to play "
                         f"{effect.audio.name} at ({len(scene.line_starts)} lines)")
    return scene.line_starts[effect.line - 1]


def add_effects(track: np.ndarray, timeline: Timeline,
                effects: Sequence[Sequence[SoundEffect]]) -> np.ndarray:
    """`track` (the mix, in place) with each scene's effects added at their starts and levels,
    each file read once and resampled to the mix's rate; an effect rings on past its scene's end
    and is cut where the track ends."""
    if effects and len(effects) != len(timeline.scenes):
        raise ValueError(f"{len(effects)} effect lists for {len(timeline.scenes)} scenes")
    loaded: dict[Path, np.ndarray] = {}
    for index, scene_effects in enumerate(effects):
        for effect in scene_effects:
            if effect.audio not in loaded:
                loaded[effect.audio] = read_clip(effect.audio)
            samples = loaded[effect.audio]
            at = round(effect_start(timeline, index, effect) * SAMPLE_RATE)
            room = max(0, min(len(samples), len(track) - at))
            gain = np.float32(10.0 ** (effect.level / 20.0))
            track[at:at + room] += samples[:room] * gain
    return track
