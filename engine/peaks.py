"""True peaks (the signal oversampled 4×, BS.1770-4 annex 2) and the look-ahead limiter that
holds them under a ceiling: one level, or a ceiling lowered in places (`Ceiling`)."""

from __future__ import annotations

import functools
import math

import numpy as np

OVERSAMPLE = 4
"""True peak is read from the signal oversampled 4× (BS.1770-4 annex 2, for 48 kHz)."""
LOOKAHEAD = 0.01
"""Seconds the limiter's gain takes to reach a peak's reduction, and as long to let go again."""
TAIL = 0.25
"""Seconds the K-weighting filters ring on after a change (their slowest pole, the 38 Hz high
pass, has decayed far below a 16-bit step by then)."""

Ceiling = float | np.ndarray
"""What the limiter holds peaks at (linear): one level, or one for each sample (a ceiling
lowered only where an encode lifted the peaks: `engine.narration`)."""


def true_peak(samples: np.ndarray) -> float:
    """The highest sample of the 4× oversampled signal, in dBTP (-inf for silence)."""
    peak = float(np.max(oversampled_peaks(samples), initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def peak_grains(samples: np.ndarray, grain: int) -> np.ndarray:
    """The highest oversampled peak in each `grain` samples (the last grain may be short)."""
    peaks = oversampled_peaks(samples).astype(np.float32)
    if not len(peaks):
        return peaks
    return np.maximum.reduceat(peaks, np.arange(0, len(peaks), grain))


def gained(samples: np.ndarray, peaks: np.ndarray, gain: float, allowed: Ceiling,
           rate: int) -> np.ndarray:
    """`samples` times `gain` dB, the limiter holding their peaks (`peaks`: theirs before the
    gain, `Measured.peaks`) at `allowed` and the trim settling what it lifted: what
    `master_measured` makes at that gain, for a stretch that begins and ends in silence."""
    spans = limited_spans(peaks * np.float32(10 ** (gain / 20)), allowed, rate)
    return applied(samples, gain, spans, allowed)[0] if spans else scaled(samples, gain)


def applied(samples: np.ndarray, gain: float, spans: list[tuple[int, int, np.ndarray]],
            allowed: Ceiling) -> tuple[np.ndarray, float]:
    """The samples times the gain, the limiter's envelope in its spans, trimmed (`_trimmed_spans`);
    and their true peak (linear)."""
    out = scaled(samples, gain)
    for start, end, envelope in spans:
        out[start:end] = scaled(samples[start:end], gain, envelope)
    return _trimmed_spans(out, spans, allowed)


def limited_spans(peaks: np.ndarray, allowed: Ceiling,
                  rate: int) -> list[tuple[int, int, np.ndarray]]:
    """(start, end, envelope) where `limiter_gain` is under 1; it is 1 everywhere else."""
    over = np.flatnonzero(peaks > allowed)
    if not len(over):
        return []
    reach = 2 * (2 * max(1, round(LOOKAHEAD * rate)) + 1)  # its two filters' widths
    apart = round(TAIL * rate) + 2 * reach + rate // 5  # this close: one span, one ring-out
    breaks = np.flatnonzero(np.diff(over) > apart)
    firsts, lasts = over[np.r_[0, breaks + 1]], over[np.r_[breaks, len(over) - 1]]
    spans = []
    for first, last in zip(firsts.tolist(), lasts.tolist()):
        start, end = max(0, first - reach), min(len(peaks), last + reach + 1)
        spans.append((start, end, limiter_gain(peaks[start:end], _within(allowed, start, end),
                                               rate)))
    return spans


def _within(allowed: Ceiling, start: int, end: int) -> Ceiling:
    return allowed[start:end] if isinstance(allowed, np.ndarray) else allowed


def _trimmed_spans(out: np.ndarray, spans: list[tuple[int, int, np.ndarray]],
                   allowed: Ceiling) -> tuple[np.ndarray, float]:
    """`trimmed`, with the peaks read where the limiter worked (elsewhere they are under
    `allowed` already: the gain alone kept them there); a ceiling lowered in places is met
    where it is lowest against the peaks."""
    margin = len(_interpolator())
    room, peak = math.inf, 0.0
    for start, end, _ in spans:
        low, high = max(0, start - margin), min(len(out), end + margin)
        peaks = oversampled_peaks(out[low:high])
        peak = max(peak, float(np.max(peaks, initial=0.0)))
        ceiling = _within(allowed, low, high)
        room = min(room, float(np.min(ceiling / np.maximum(peaks, 1e-12), initial=math.inf)))
    if room >= 1.0:
        return out, peak
    return (out * np.float32(room)).astype(np.float32), peak * room


def limiter_gain(peaks: np.ndarray, allowed: Ceiling, rate: int) -> np.ndarray:
    """A smooth gain under which every peak stays at or under `allowed`: it dips around each
    peak, reaching its depth LOOKAHEAD before it and recovering as long after."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    needed = np.minimum(1.0, allowed / np.maximum(peaks, 1e-12))
    # A minimum held over ±half, then averaged over ±half: the average at n covers only minima
    # over windows that contain n, so the gain is never above what sample n needs.
    window = 2 * max(1, round(LOOKAHEAD * rate)) + 1
    held = minimum_filter1d(needed, window, mode="nearest")
    return uniform_filter1d(held, window, mode="nearest")


def scaled(samples: np.ndarray, gain: float, envelope: np.ndarray | None = None) -> np.ndarray:
    out = samples.astype(np.float64) * 10 ** (gain / 20)
    if envelope is not None:
        out *= envelope
    return out.astype(np.float32)


def trimmed(samples: np.ndarray, allowed: float) -> tuple[np.ndarray, float]:
    """The gain's own movement can lift an in-between sample a hair: one uniform trim settles it.
    Returns the samples and their true peak (linear)."""
    peak = float(np.max(oversampled_peaks(samples), initial=0.0))
    if peak <= allowed:
        return samples, peak
    return (samples * np.float32(allowed / peak)).astype(np.float32), allowed


def oversampled_peaks(samples: np.ndarray) -> np.ndarray:
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
