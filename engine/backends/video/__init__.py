"""The `video` role: an Editor cuts the timeline of stills, audio and captions into an mp4."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Cue:
    """A caption: shown from `start` to `end` seconds on the video's timeline."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One scene on the timeline: its still, when it starts, how long it lasts, how it moves."""

    scene_id: str
    image: Path
    start: float
    duration: float
    camera: str | None = None       # "slow zoom in", "slow zoom out", "pan left", "pan right", ...
    transition: str | None = None   # into the next scene: "cut" or "crossfade"
    transition_duration: float = 0.0


@dataclass(frozen=True, slots=True)
class CutRequest:
    """The whole video: segments back to back, one audio track, cues, size, and where to write.

    `output` is a path the editor may write directly (the stage passes a temporary path beside
    the final one and renames it when the editor returns). `workdir` is a folder the editor may
    keep intermediate files in (per-scene segments) between runs.
    """

    segments: tuple[Segment, ...]
    audio: Path
    cues: tuple[Cue, ...]
    width: int
    height: int
    fps: int
    output: Path
    workdir: Path
    burn_subtitles: bool = True


class Editor(Protocol):
    """Cuts one video; the same request and settings give the same bytes."""

    def cut(self, request: CutRequest) -> None: ...

    def identity(self) -> dict[str, Any]: ...
