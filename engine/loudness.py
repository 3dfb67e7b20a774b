"""Mastering the soundtrack: measured (ITU-R BS.1770 with pyloudnorm), one linear gain to the
target integrated loudness, and a look-ahead true-peak limiter only where peaks would pass the
ceiling."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

OVERSAMPLE = 4
"""True peak is read from the signal oversampled 4× (BS.1770-4 annex 2, for 48 kHz)."""
LOOKAHEAD = 0.01
"""Seconds the limiter's gain takes to reach a peak's reduction, and as long to let go again."""
CODEC_HEADROOM = 0.5
"""dB kept below the ceiling in the PCM mix: the AAC encode may raise true peaks by about that."""
CLOSE_ENOUGH = 0.1
"""LU: the limiter took so little loudness that no further gain pass is needed."""


@dataclass(frozen=True, slots=True)
class Loudness:
    """What a meter reads: integrated loudness (LUFS; -inf when silent) and true peak (dBTP)."""

    integrated: float
    true_peak: float

    def as_record(self) -> dict[str, float | None]:
        return {"integrated": _rounded(self.integrated), "true_peak": _rounded(self.true_peak)}


@dataclass(frozen=True, slots=True)
class Mastered:
    """The mastered samples and how they were made: gain applied (dB), whether peaks were limited."""

    samples: np.ndarray
    before: Loudness
    after: Loudness
    gain: float
    limited: bool


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness in LUFS of mono samples; -inf for silence or under one block."""
    if len(samples) < BLOCK * rate or not np.any(samples):
        return -math.inf
    return gated_loudness(k_energy(samples, rate, 1), 1, rate)


BLOCK = 0.4
"""Seconds in a gating block; blocks start every tenth of a second (BS.1770-4's 75 % overlap)."""


def k_energy(samples: np.ndarray, rate: int, grain: int) -> np.ndarray:
    """The K-weighted (pyloudnorm's BS.1770 filters) squared samples, summed over each `grain`
    samples: all a gated measurement needs, and pieces' sums join by concatenation."""
    import pyloudnorm

    weighted = np.asarray(samples, dtype=np.float64)
    for stage in pyloudnorm.Meter(rate)._filters.values():
        weighted = stage.apply_filter(weighted)
    squares = np.square(weighted)
    padded = np.zeros(-(-len(squares) // grain) * grain)
    padded[:len(squares)] = squares
    return padded.reshape(-1, grain).sum(axis=1)


def gated_loudness(energy: np.ndarray, grain: int, rate: int) -> float:
    """BS.1770-4 gated loudness (LUFS) from `k_energy` sums, as pyloudnorm gates them: blocks
    of 0.4 s every 0.1 s (`grain` must divide a tenth of `rate`), -70 LUFS and relative -10 LU
    gates. -inf when no block passes."""
    hop = rate // 10 // grain
    seconds = len(energy) * grain / rate
    blocks = int(np.round((seconds - BLOCK) / (BLOCK / 4))) + 1
    if blocks <= 0:
        return -math.inf
    running = np.concatenate(([0.0], np.cumsum(energy)))
    starts = np.arange(blocks) * hop
    power = (running[np.minimum(starts + 4 * hop, len(energy))] - running[starts]) / (BLOCK * rate)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(power)
        audible = power[levels >= -70.0]
        if not len(audible):
            return -math.inf
        relative = -0.691 + 10 * np.log10(np.mean(audible)) - 10.0
        kept = power[(levels > relative) & (levels > -70.0)]
        level = -0.691 + 10 * np.log10(np.mean(kept)) if len(kept) else -math.inf
    return float(level) if math.isfinite(level) else -math.inf


@dataclass(frozen=True, slots=True)
class Measured:
    """A track's measurements, made piece by piece: `k_energy` sums per `grain` samples, and
    the oversampled peak at each sample (`oversampled_peaks`)."""

    energy: np.ndarray
    grain: int
    peaks: np.ndarray

    @staticmethod
    def of(samples: np.ndarray, rate: int, grain: int) -> Measured:
        return Measured(k_energy(samples, rate, grain), grain,
                        _oversampled_peaks(samples).astype(np.float32))

    @staticmethod
    def joined(pieces: list[Measured]) -> Measured:
        """Pieces back to back (each a whole number of grains long)."""
        return Measured(np.concatenate([p.energy for p in pieces]), pieces[0].grain,
                        np.concatenate([p.peaks for p in pieces]))


def true_peak(samples: np.ndarray) -> float:
    """The highest sample of the 4× oversampled signal, in dBTP (-inf for silence)."""
    peak = float(np.max(_oversampled_peaks(samples), initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure(samples: np.ndarray, rate: int) -> Loudness:
    return Loudness(integrated_loudness(samples, rate), true_peak(samples))


def master(samples: np.ndarray, rate: int, target: float, ceiling: float,
           measured: Measured | None = None) -> Mastered:
    """`samples` at `target` LUFS with true peaks at most `ceiling` dBTP less CODEC_HEADROOM.

    `measured`, when given, are the samples' measurements made piece by piece (each piece's
    filters starting at rest, so a hair from one pass over the whole): the starting level and
    peaks are read from them instead of the whole track.

    Pass one measures; pass two applies one gain. When that gain would push peaks past the
    ceiling the limiter holds them down, which takes some loudness away, so the gain is raised
    and measured again (secant steps, at most MAX_STEPS) until the level is within CLOSE_ENOUGH.
    Silence is returned as it is.
    """
    # Peaks scale with the gain: read once.
    peaks = measured.peaks if measured is not None else _oversampled_peaks(samples)
    peak = float(np.max(peaks, initial=0.0))
    level = (gated_loudness(measured.energy, measured.grain, rate) if measured is not None
             else integrated_loudness(samples, rate))
    before = Loudness(level,
                      20 * math.log10(peak) if peak > 0 else -math.inf)
    if not math.isfinite(before.integrated):
        return Mastered(samples, before, before, 0.0, False)
    allowed = 10 ** ((ceiling - CODEC_HEADROOM) / 20)
    gain = target - before.integrated
    if peak * 10 ** (gain / 20) <= allowed:  # no limiting: the level is exactly the target
        out = _scaled(samples, gain)
        return Mastered(out, before, Loudness(before.integrated + gain, true_peak(out)),
                        gain, False)
    tried: list[tuple[float, float]] = []
    for _ in range(MAX_STEPS):
        scale = 10 ** (gain / 20)
        out = _scaled(samples, gain, limiter_gain(peaks * scale, allowed, rate))
        level = integrated_loudness(out, rate)
        tried.append((gain, level))
        if abs(target - level) < CLOSE_ENOUGH:
            break
        gain = _next_gain(tried, target)
    out, peak = _trimmed(out, allowed)
    after = Loudness(integrated_loudness(out, rate), 20 * math.log10(peak))
    return Mastered(out, before, after, gain, True)


MAX_STEPS = 6
"""Gain passes at most while the limiter is at work (two or three are usual)."""


def _next_gain(tried: list[tuple[float, float]], target: float) -> float:
    """The next gain to try: a secant step through the last two tries (the level rises more
    slowly than the gain once peaks are limited), else the missing level added."""
    gain, level = tried[-1]
    if len(tried) < 2 or tried[-2][1] == level:
        return gain + (target - level)
    previous_gain, previous_level = tried[-2]
    slope = (level - previous_level) / (gain - previous_gain)
    return gain + (target - level) / min(1.0, max(slope, 0.25))


def limiter_gain(peaks: np.ndarray, allowed: float, rate: int) -> np.ndarray:
    """A smooth gain under which every peak stays at or under `allowed`: it dips around each
    peak, reaching its depth LOOKAHEAD before it and recovering as long after."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    needed = np.minimum(1.0, allowed / np.maximum(peaks, 1e-12))
    # A minimum held over ±half, then averaged over ±half: the average at n covers only minima
    # over windows that contain n, so the gain is never above what sample n needs.
    window = 2 * max(1, round(LOOKAHEAD * rate)) + 1
    held = minimum_filter1d(needed, window, mode="nearest")
    return uniform_filter1d(held, window, mode="nearest")


def _scaled(samples: np.ndarray, gain: float, envelope: np.ndarray | None = None) -> np.ndarray:
    out = samples.astype(np.float64) * 10 ** (gain / 20)
    if envelope is not None:
        out *= envelope
    return out.astype(np.float32)


def _trimmed(samples: np.ndarray, allowed: float) -> tuple[np.ndarray, float]:
    """The gain's own movement can lift an in-between sample a hair: one uniform trim settles it.
    Returns the samples and their true peak (linear)."""
    peak = float(np.max(_oversampled_peaks(samples), initial=0.0))
    if peak <= allowed:
        return samples, peak
    return (samples * np.float32(allowed / peak)).astype(np.float32), allowed


def _oversampled_peaks(samples: np.ndarray) -> np.ndarray:
    """For each sample, the largest magnitude of the 4× oversampled signal just after it.

    Each of the four phases is its own 13-tap filter over the samples (what a polyphase
    upsampler computes, here without the 4× long array in between: the same numbers, ~6× less
    CPU)."""
    signal = np.asarray(samples, dtype=np.float64)
    taps = _interpolator()
    delay = (len(taps) - 1) // 2  # the filter is symmetric: this re-aligns it
    peaks = np.zeros(len(signal))
    if len(signal) == 0:
        return peaks
    for phase in range(OVERSAMPLE):
        shift = delay + phase
        heard = np.convolve(signal, taps[shift % OVERSAMPLE::OVERSAMPLE])
        np.maximum(peaks, np.abs(heard[shift // OVERSAMPLE:shift // OVERSAMPLE + len(signal)]),
                   out=peaks)
    return peaks


@functools.cache
def _interpolator() -> np.ndarray:
    """A 4-phase, 12-taps-a-phase low-pass (as BS.1770-4's annex 2 sizes it), unity gain."""
    from scipy.signal import firwin

    return firwin(12 * OVERSAMPLE + 1, 1.0 / OVERSAMPLE, window=("kaiser", 6.0)) * OVERSAMPLE


def _rounded(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None
