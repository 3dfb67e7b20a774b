"""The `tts` role: a TTS speaks one line with one voice and returns its audio."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.captions import Word

SAMPLE_RATE = 48_000
"""The engine's audio rate (the video's AAC track is 48 kHz): every TTS returns samples at it."""


@dataclass(frozen=True, slots=True)
class VoiceSpec:
    """A resolved voice: category, per-backend ids (`espeak: en-gb+f3`), rate and pitch factors."""

    name: str
    category: str
    ids: tuple[tuple[str, str], ...] = ()
    rate: float = 1.0
    pitch: float = 1.0

    def id_for(self, backend: str) -> str | None:
        return dict(self.ids).get(backend)


@dataclass(frozen=True, slots=True)
class SpeakRequest:
    """One line: its text, the voice, the delivery direction (e.g. `whispering`), the language."""

    text: str
    voice: VoiceSpec
    language: str = "en"
    direction: str | None = None


@dataclass(frozen=True, slots=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate`; `words`: when each word is heard, in
    seconds of these samples, as the TTS reported it (None: the TTS reports no word times)."""

    samples: np.ndarray = field(compare=False)
    sample_rate: int
    words: tuple[Word, ...] | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class TTS(Protocol):
    """Speaks one line; the same request and settings give the same samples. `voice_id` names the
    voice `speak` would use for a request (what `storyreel voices` shows)."""

    def speak(self, request: SpeakRequest) -> Audio: ...

    def voice_id(self, request: SpeakRequest) -> str: ...

    def identity(self) -> dict[str, Any]: ...
