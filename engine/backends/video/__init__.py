"""The `video` role: an Editor cuts the timeline of stills, audio and captions into an mp4."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from engine.captions import Cue


@dataclass(frozen=True, slots=True)
class Segment:
    """One scene on the timeline: its still, when it starts, how many frames, how it moves.

    `into_next` says how this scene gives way to the next one ("cut", "crossfade", "wipe
    left", ...: `engine.dsl.vocabulary.TRANSITIONS`); any but a cut takes the last
    `transition_frames` frames of this scene (its tail, where no line is spoken), turning into
    the next scene's first frame.
    """

    scene_id: str
    image: Path
    start: float
    frames: int
    camera: str | None = None
    into_next: str | None = None
    transition_frames: int = 0
    title: str | None = None
    """The scene's `title:`: its chapter's name (`chapters.chapter_title`)."""


@dataclass(frozen=True, slots=True)
class CutRequest:
    """The whole video: segments back to back, one audio track, cues, size, and where to write.

    `output` is a path the editor writes directly (the stage passes a temporary path beside
    the final one and renames it when the editor returns). `workdir` is a folder the editor
    keeps intermediate files in (per-scene segments) between runs. `language` is the captions'
    language as ISO 639-2/T (`eng`, `fra`, `zho`; `und` when unknown), for the subtitle track.
    """

    segments: tuple[Segment, ...]
    audio: Path
    cues: tuple[Cue, ...]
    width: int
    height: int
    fps: int
    output: Path
    workdir: Path
    language: str = "und"
    aac: Path | None = None
    """`audio` already encoded as AAC-LC 48 kHz (.m4a), at the editor's `aac_bitrate`: an editor
    that has one may copy it instead of encoding `audio` again."""


@dataclass(frozen=True, slots=True)
class CutStats:
    """What a cut did: segments encoded now and segments reused from `workdir` (scene ids), and
    the font files its burned captions were drawn with."""

    encoded: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    fonts: tuple[str, ...] = ()
    copied_aac: bool = False
    """The video's sound is the request's `aac`, copied."""


class Editor(Protocol):
    """Cuts one video; the same request and settings give the same bytes.

    An editor that keeps per-scene segments in the request's `workdir` may also have
    `encode_segments(request) -> CutStats`: it encodes the segments `cut` would, before the
    request's soundtrack exists (the cut stage makes the narration meanwhile), and `cut` then
    reuses them."""

    def cut(self, request: CutRequest) -> CutStats: ...

    def identity(self) -> dict[str, Any]: ...

    aac_bitrate: str | None
    """The bitrate of the AAC narration this editor copies when the request brings one (None:
    it encodes the request's WAV itself)."""

    def caption_fits(self, width: int, height: int) -> Callable[[str], bool]:
        """Whether a caption row fits a frame this size (a longer line's captions are split)."""
        ...

    def caption_band(self, width: int, height: int) -> float:
        """Where a two-row caption at the bottom of a frame this size begins, as a fraction of
        its height (1: no captions burned): the illustrator keeps the characters above it."""
        ...
