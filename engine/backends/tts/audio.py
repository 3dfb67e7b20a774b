"""Sample plumbing for TTS backends: resample, trim silence, decode speech (PyAV), encode WAV."""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence

import numpy as np

from engine.captions import Word


def _resampler(rate: int):
    import av

    return av.AudioResampler(format="flt", layout="mono", rate=rate)


def _collect(frames) -> list[np.ndarray]:
    return [frame.to_ndarray().reshape(-1) for frame in frames]


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float32 samples at `target` Hz (libswresample: band-limited, deterministic)."""
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if rate == target or samples.size == 0:
        return samples
    import av

    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = _resampler(target)
    parts = _collect(resampler.resample(frame)) + _collect(resampler.resample(None))
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else samples[:0]


def trim_silence(samples: np.ndarray, rate: int, keep: float, threshold: float = 0.004) -> np.ndarray:
    """Cut leading and trailing silence, keeping `keep` seconds of it on each side."""
    begin, end = speech_span(samples, rate, keep, threshold)
    return samples[begin:end]


def speech_span(samples: np.ndarray, rate: int, keep: float,
                threshold: float = 0.004) -> tuple[int, int]:
    """The samples `trim_silence` keeps, as [begin, end)."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    margin = int(round(keep * rate))
    if loud.size == 0:
        return 0, min(len(samples), margin)
    return max(0, loud[0] - margin), min(len(samples), loud[-1] + 1 + margin)


def trimmed_words(words: Sequence[Word] | None, cut: float, duration: float
                  ) -> tuple[Word, ...] | None:
    """Word times of a clip whose first `cut` seconds were trimmed, kept inside its `duration`."""
    if words is None:
        return None
    return tuple(Word(_within(w.start - cut, duration), _within(max(w.end, w.start) - cut, duration),
                      w.text) for w in words)


def _within(seconds: float, duration: float) -> float:
    return round(min(max(seconds, 0.0), duration), 4)


def speech_level(samples: np.ndarray, rate: int, frame: float = 0.02) -> float:
    """RMS over the frames that carry speech (pauses between words do not count)."""
    size = max(1, int(rate * frame))
    usable = len(samples) // size * size
    if usable == 0:
        return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    power = np.mean(np.square(samples[:usable].reshape(-1, size), dtype=np.float64), axis=1)
    active = power[power > max(power.max() * 1e-3, 1e-9)]
    return float(np.sqrt(active.mean())) if active.size else 0.0


def level_to(samples: np.ndarray, rate: int, target: float, peak: float = 0.98) -> np.ndarray:
    """Scale a clip so its speech level is `target` RMS, lowered only if a peak would clip."""
    level = speech_level(samples, rate)
    if level <= 0.0:
        return samples
    gain = target / level
    highest = float(np.abs(samples).max()) * gain
    if highest > peak:
        gain *= peak / highest
    return (samples * np.float32(gain)).astype(np.float32, copy=False)


def decode(data: bytes, target: int) -> np.ndarray:
    """Mono float32 samples at `target` Hz from a compressed clip (MP3, Ogg, WAV …) in memory."""
    import av

    parts: list[np.ndarray] = []
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            raise ValueError("the clip has no audio stream")
        resampler = _resampler(target)
        for frame in container.decode(audio=0):
            frame.pts = None  # let the resampler count samples; MP3 priming frames carry odd pts
            parts += _collect(resampler.resample(frame))
        parts += _collect(resampler.resample(None))
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples as a WAV holds them: clipped to [-1, 1], rounded to 16-bit integers (in the
    samples' own precision)."""
    return (np.clip(np.asarray(samples), -1.0, 1.0) * 32767.0).round().astype("<i2")


def pcm_wav(pcm: np.ndarray, rate: int) -> bytes:
    """A mono WAV file of 16-bit samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(rate))
        out.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A 16-bit PCM mono WAV file of float samples."""
    return pcm_wav(pcm16(samples), rate)


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), dtype=np.float32)
