"""Mastering the soundtrack: measured (ITU-R BS.1770 with pyloudnorm), one linear gain to the
target integrated loudness, and a look-ahead true-peak limiter (`engine.peaks`) only where peaks
would pass the ceiling."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.peaks import (TAIL, applied, limited_spans, limiter_gain, oversampled_peaks, scaled,
                          trimmed, true_peak)

CODEC_HEADROOM = 0.5
"""dB kept below the ceiling in the PCM mix: the AAC encode may raise true peaks by about that
(the cut masters again under a lower ceiling when it measures more: engine/stages/cut.py)."""
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


def k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """The samples through pyloudnorm's BS.1770 K-weighting filters (starting at rest)."""
    import pyloudnorm

    weighted = np.asarray(samples, dtype=np.float64)
    for stage in pyloudnorm.Meter(rate)._filters.values():
        weighted = stage.apply_filter(weighted)
    return weighted


def k_energy(samples: np.ndarray, rate: int, grain: int) -> np.ndarray:
    """The K-weighted squared samples summed over each `grain` samples: all a gated measurement
    needs, and pieces' sums join by concatenation."""
    return _grain_sums(np.square(k_weighted(samples, rate)), grain)


def _grain_sums(squares: np.ndarray, grain: int) -> np.ndarray:
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
    """A track's measurements, made piece by piece: the K-weighted samples (`k_weighted`), their
    squares summed per `grain` samples, and the oversampled peak at each sample."""

    weighted: np.ndarray
    energy: np.ndarray
    grain: int
    peaks: np.ndarray

    @staticmethod
    def of(samples: np.ndarray, rate: int, grain: int) -> Measured:
        weighted = k_weighted(samples, rate)
        return Measured(weighted.astype(np.float32), _grain_sums(np.square(weighted), grain),
                        grain, oversampled_peaks(samples).astype(np.float32))

    @staticmethod
    def joined(pieces: list[Measured]) -> Measured:
        """Pieces back to back (each a whole number of grains long)."""
        return Measured(np.concatenate([p.weighted for p in pieces]),
                        np.concatenate([p.energy for p in pieces]), pieces[0].grain,
                        np.concatenate([p.peaks for p in pieces]))


def measure(samples: np.ndarray, rate: int) -> Loudness:
    return Loudness(integrated_loudness(samples, rate), true_peak(samples))


def master(samples: np.ndarray, rate: int, target: float, ceiling: float,
           measured: Measured | None = None) -> Mastered:
    """`samples` at `target` LUFS with true peaks at most `ceiling` dBTP less CODEC_HEADROOM.

    `measured`, when given, are the samples' measurements made piece by piece (each piece's
    filters starting at rest, so a hair from one pass over the whole): see `master_measured`.

    Pass one measures; pass two applies one gain. When that gain would push peaks past the
    ceiling the limiter holds them down, which takes some loudness away, so the gain is raised
    and measured again (secant steps, at most MAX_STEPS) until the level is within CLOSE_ENOUGH.
    Silence is returned as it is.
    """
    if measured is not None:
        return master_measured(samples, rate, target, ceiling, measured)
    peaks = oversampled_peaks(samples)  # they scale with the gain: read once
    peak = float(np.max(peaks, initial=0.0))
    before = Loudness(integrated_loudness(samples, rate),
                      20 * math.log10(peak) if peak > 0 else -math.inf)
    if not math.isfinite(before.integrated):
        return Mastered(samples, before, before, 0.0, False)
    allowed = 10 ** ((ceiling - CODEC_HEADROOM) / 20)
    gain = target - before.integrated
    if peak * 10 ** (gain / 20) <= allowed:  # no limiting: the level is exactly the target
        out = scaled(samples, gain)
        return Mastered(out, before, Loudness(before.integrated + gain, true_peak(out)),
                        gain, False)
    tried: list[tuple[float, float]] = []
    for _ in range(MAX_STEPS):
        scale = 10 ** (gain / 20)
        out = scaled(samples, gain, limiter_gain(peaks * scale, allowed, rate))
        level = integrated_loudness(out, rate)
        tried.append((gain, level))
        if abs(target - level) < CLOSE_ENOUGH:
            break
        gain = _next_gain(tried, target)
    out, peak = trimmed(out, allowed)
    after = Loudness(integrated_loudness(out, rate), 20 * math.log10(peak))
    return Mastered(out, before, after, gain, True)


def master_measured(samples: np.ndarray, rate: int, target: float, ceiling: float,
                    measured: Measured) -> Mastered:
    """`master` from measurements made already: no pass over the whole track but the gain's.

    The level and peaks are `measured`'s. Where the limiter works (around peaks over the
    ceiling, usually a small part of a narration) its envelope, the K-weighted change it makes
    (the filters are linear: only the difference is filtered, with TAIL seconds of ring-out) and
    the new peaks are computed there alone; elsewhere the track is the samples times the gain.
    """
    peak = float(np.max(measured.peaks, initial=0.0))
    before = Loudness(gated_loudness(measured.energy, measured.grain, rate), _db(peak))
    if not math.isfinite(before.integrated):
        return Mastered(samples, before, before, 0.0, False)
    allowed = 10 ** ((ceiling - CODEC_HEADROOM) / 20)
    gain = target - before.integrated
    if peak * 10 ** (gain / 20) <= allowed:  # no limiting: the level is exactly the target
        return Mastered(scaled(samples, gain), before,
                        Loudness(before.integrated + gain, _db(peak * 10 ** (gain / 20))),
                        gain, False)
    gain, level, spans = _limited_search(samples, rate, target, allowed, measured, gain)
    out, peak = applied(samples, gain, spans, allowed)
    return Mastered(out, before, Loudness(level, _db(peak)), gain, True)


def grid_gain(level_at: Callable[[float], float], first: float, target: float,
              step: float, coarse: float = 1.0) -> float:
    """The gain on the `step` dB grid whose level (`level_at(gain)`: the limited track's
    loudness there, rising with the gain) is nearest `target`, searched from `first` (the gain
    that reaches it with nothing limited).

    From `first` rounded down to a whole `coarse` step, moves on that coarse grid until two
    neighbours hold the target between their levels (at most MAX_STEPS moves; up, by at least
    the level still missing: the limited level rises at most a dB a dB), then halves that
    bracket on the grid. Every gain tried lies on a fixed grid, and which ones are tried changes
    only when the target's crossing (or a level missing) moves past one of them, so a small
    change of the track (an edit) tries the same gains again, and what `level_at` computes for
    a gain can be kept by it."""
    levels: dict[float, float] = {}

    def at(gain: float) -> float:
        if gain not in levels:
            levels[gain] = level_at(gain)
        return levels[gain]

    low = math.floor(first / coarse) * coarse
    for _ in range(MAX_STEPS):
        if at(low) > target:
            low -= coarse
        elif at(low + coarse) < target:
            low = math.floor((low + coarse + target - at(low + coarse)) / coarse) * coarse
        else:
            high = low + coarse
            while high - low > step:
                middle = round((low + high) / 2 / step) * step
                low, high = (middle, high) if at(middle) < target else (low, middle)
            return min((low, high), key=lambda gain: (abs(target - at(gain)), gain))
    return min(levels, key=lambda gain: (abs(target - levels[gain]), gain))


def _limited_search(samples: np.ndarray, rate: int, target: float, allowed: float,
                    measured: Measured, gain: float
                    ) -> tuple[float, float, list[tuple[int, int, np.ndarray]]]:
    """Gains tried from `gain` until the limited track's level is within CLOSE_ENOUGH of the
    target (at most MAX_STEPS): the last one tried, its level and the limiter's spans there."""
    tried: list[tuple[float, float]] = []
    for step in range(MAX_STEPS):
        if step:
            gain = _next_gain(tried, target)
        energy, spans = _limited(samples, rate, measured, gain, allowed)
        level = gated_loudness(energy, measured.grain, rate)
        tried.append((gain, level))
        if abs(target - level) < CLOSE_ENOUGH:
            break
    return gain, level, spans


def limited_energy(samples: np.ndarray, rate: int, measured: Measured, gain: float,
                   allowed: float) -> np.ndarray:
    """The K-weighted energy sums (`measured.grain`) of `samples` (measured so) times `gain` dB
    with the limiter holding their peaks at `allowed`: what the gain search weighs a gain by."""
    return _limited(samples, rate, measured, gain, allowed)[0]


def _limited(samples: np.ndarray, rate: int, measured: Measured, gain: float, allowed: float
             ) -> tuple[np.ndarray, list[tuple[int, int, np.ndarray]]]:
    """`limited_energy`, and the limiter's spans at that gain."""
    scale = 10 ** (gain / 20)
    spans = limited_spans(measured.peaks * np.float32(scale), allowed, rate)
    energy = measured.energy * scale ** 2
    for start, end, envelope in spans:
        _reweigh(energy, measured, samples, (start, end), envelope, scale, rate)
    return energy, spans


def _reweigh(energy: np.ndarray, measured: Measured, samples: np.ndarray,
             span: tuple[int, int], envelope: np.ndarray, scale: float, rate: int) -> None:
    """`energy` (the gained track's) where the limiter's envelope changed the samples."""
    start, end = span
    grain = measured.grain
    stop = min(len(measured.weighted), end + round(TAIL * rate))
    change = np.zeros(stop - start)
    change[:end - start] = samples[start:end] * (envelope - 1.0)
    first, last = start // grain, -(-stop // grain)
    heard = measured.weighted[first * grain:last * grain].astype(np.float64)
    heard[start - first * grain:stop - first * grain] += k_weighted(change, rate)
    energy[first:last] = _grain_sums(np.square(heard * scale), grain)


def _db(peak: float) -> float:
    return 20 * math.log10(peak) if peak > 0 else -math.inf


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


def _rounded(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None
