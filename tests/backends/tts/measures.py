"""Measurements of speech for the TTS tests: loudness, pitch, and what makes audio speech."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def assert_speech(audio: Any, rate: int, longest: float, shortest: float = 1.5) -> None:
    """A mono float32 clip at `rate`, `shortest` to `longest` seconds, within [-1, 1], audible,
    with energy across the voice band (speech, not one tone)."""
    assert audio.sample_rate == rate
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert shortest < audio.duration < longest
    assert np.abs(audio.samples).max() <= 1.0
    assert rms(audio.samples) > 0.02
    spectrum = np.abs(np.fft.rfft(audio.samples))
    freqs = np.fft.rfftfreq(len(audio.samples), 1 / audio.sample_rate)
    assert spectrum[(freqs > 1000) & (freqs < 4000)].sum() > 0.05 * spectrum.sum()


def median_f0(samples: np.ndarray, rate: int) -> float:
    """Median pitch of the voiced frames, from each frame's autocorrelation peak (60-500 Hz)."""
    size, lo, hi = int(0.04 * rate), int(rate / 500), int(rate / 60)
    found = []
    for start in range(0, len(samples) - size, size // 2):
        frame = samples[start:start + size] - samples[start:start + size].mean()
        if float(np.dot(frame, frame)) < 1e-4:
            continue
        ac = np.correlate(frame, frame, "full")[size - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.5:
            found.append(rate / lag)
    assert len(found) >= 10, "too few voiced frames to estimate pitch"
    return float(np.median(found))


def assert_concurrent_calls_match_sequential(tts: Any, requests: Sequence[Any], threads: int,
                                             repeats: int = 1) -> None:
    """Several threads speaking at once give exactly what one-by-one calls give."""
    expected = [tts.speak(r).samples for r in requests]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(repeats):
                results[index] = tts.speak(requests[index % len(requests)]).samples
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert len(results) == threads
    for index, samples in results.items():
        assert np.array_equal(samples, expected[index % len(requests)])
