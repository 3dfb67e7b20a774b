"""WAV files for tests: a tone or silence, written by the engine's own WAV encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.backends.tts.audio import wav_bytes


def tone_samples(seconds: float, frequency: float, level: float, rate: int) -> np.ndarray:
    """A sine of `frequency` Hz at amplitude `level` (full scale 1)."""
    t = np.arange(round(seconds * rate)) / rate
    return level * np.sin(2 * np.pi * frequency * t)


def write_tone(path: Path, seconds: float, frequency: float = 440.0, level: float = 0.4,
               rate: int = 48_000) -> Path:
    """`path` as a mono 16-bit WAV of a sine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(tone_samples(seconds, frequency, level, rate), rate))
    return path


def write_silence(path: Path, seconds: float, rate: int = 48_000) -> Path:
    """`path` as a mono 16-bit WAV of silence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(np.zeros(round(seconds * rate)), rate))
    return path
