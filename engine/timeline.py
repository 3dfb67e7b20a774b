"""The timeline: when each scene and line plays, from clip durations (its sound: engine/mix.py)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.captions import Cue, Word
from engine.dsl.vocabulary import DURATION

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TimelineSettings:
    """Pauses around lines, in seconds, and how lines without word times are cued (`timeline:`
    in conf/config.yaml)."""

    lead_in: float     # picture before a scene's first line
    gap: float         # between two lines of a scene
    tail: float        # after a scene's last line (grown to fit a transition)
    min_scene: float   # no scene is shorter
    crossfade: float   # length of a transition (after the scene's last line)
    estimate_word_times: bool = False
    """A line whose TTS gives no word times: False, one cue for the line (no word
    highlighted); True, its words timed by their lengths."""

    def __post_init__(self) -> None:
        for name in ("lead_in", "gap", "tail", "min_scene", "crossfade"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= DURATION.high):
                raise ValueError(f"timeline.{name} must be a number of seconds from 0 to "
                                 f"{DURATION.high:g}, not {value!r}")


@dataclass(frozen=True, slots=True)
class TimedLine:
    """A line's words and who says them, with its audio clip's length in seconds; `words`
    times each word the caption shows, in seconds of the clip (empty: not known)."""

    duration: float
    text: str
    speaker: str | None = None
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class SceneLines:
    """A scene's lines in order; `duration` (the story's `duration:`) asks for a longer scene;
    `transition`: it gives way to the next scene by a transition (not a cut)."""

    lines: tuple[TimedLine, ...] = ()
    duration: float | None = None
    transition: bool = False


@dataclass(frozen=True, slots=True)
class PlacedScene:
    """A scene on the timeline: start and length (a whole number of frames), its lines' starts,
    and how many of its last frames turn into the next scene (0: a cut)."""

    start: float
    duration: float
    frames: int
    line_starts: tuple[float, ...]
    transition_frames: int = 0


@dataclass(frozen=True, slots=True)
class Timeline:
    """Scenes back to back, one cue per line (times = the line's audio exactly), total length."""

    scenes: tuple[PlacedScene, ...]
    cues: tuple[Cue, ...]
    duration: float
    fps: int

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.scenes)


def transition_frames(settings: TimelineSettings, fps: int) -> int:
    """Frames a transition lasts: `timeline.crossfade`, to the nearest frame."""
    return round(settings.crossfade * fps)


def scene_needs(scene: SceneLines, settings: TimelineSettings, fps: int) -> dict[str, float]:
    """What asks for how long a scene lasts, in seconds before rounding to frames (each left out
    when it asks nothing): "lines", its lead-in, lines, gaps and tail; "transition", a quiet tail
    as long as its transition, which takes at most half the scene; "min_scene"; "duration"."""
    needs: dict[str, float] = {}
    spoken = 0.0
    if scene.lines:
        spoken = (settings.lead_in + sum(line.duration for line in scene.lines)
                  + settings.gap * (len(scene.lines) - 1))
        needs["lines"] = spoken + settings.tail
    if scene.transition:
        fade = transition_frames(settings, fps) / fps
        needs["transition"] = max(spoken + fade, 2 * fade)
    needs["min_scene"] = settings.min_scene
    if scene.duration is not None:
        needs["duration"] = scene.duration
    return needs


def scene_length(scene: SceneLines, settings: TimelineSettings, fps: int) -> float:
    """Seconds a scene needs before rounding to frames: the most anything asks of it."""
    return max(scene_needs(scene, settings, fps).values())


def build_timeline(scenes: Sequence[SceneLines], settings: TimelineSettings, fps: int) -> Timeline:
    """Place scenes back to back; each lasts a whole number of frames so segments join exactly.

    Lines never overlap: a scene's audio ends `tail` before the scene does. A scene that gives
    way by a transition (the last one gives way to nothing) lasts long enough for the whole
    transition to play after its last line and in at most half of it: its last
    `transition_frames` frames blend into the next scene's first frame.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    for index, scene in enumerate(scenes):
        for line in scene.lines:
            if not (math.isfinite(line.duration) and line.duration >= 0):
                raise ValueError(f"scene {index + 1}: a line's duration must be ≥ 0, "
                                 f"not {line.duration!r}")
    placed: list[PlacedScene] = []
    cues: list[Cue] = []
    frame = 0
    for index, scene in enumerate(scenes):
        turns = scene.transition and index + 1 < len(scenes)
        # Round up (with a tolerance against float noise) so no scene is shorter than it needs.
        frames = max(1, math.ceil(scene_length(replace(scene, transition=turns), settings, fps)
                                  * fps - 1e-6))
        start = frame / fps
        starts = []
        at = start + settings.lead_in
        for line in scene.lines:
            starts.append(at)
            words = tuple(Word(at + w.start, at + w.end, w.text) for w in line.words)
            cues.append(Cue(start=at, end=at + line.duration, text=line.text, speaker=line.speaker,
                            words=words))
            at += line.duration + settings.gap
        placed.append(PlacedScene(start=start, duration=frames / fps, frames=frames,
                                  line_starts=tuple(starts),
                                  transition_frames=transition_frames(settings, fps) if turns
                                  else 0))
        frame += frames
    return Timeline(scenes=tuple(placed), cues=tuple(cues), duration=frame / fps, fps=fps)
