"""The narration track by scene: each scene's stretch of the mix measured once (kept in the cut's
work folder, named by its samples), the whole track mastered from those measurements, and its AAC
made of pieces joined in silence (`engine.aac_pieces`), so an edit encodes only its own piece."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.aac_pieces import EDGE, FRAME, GRAIN, Piece, encode_all, heard, piece_path, write_m4a
from engine.effects import SoundEffect, add_effects
from engine.errors import counted, stop_if
from engine.files import keep_arrays, kept_arrays
from engine.loudness import (
    CODEC_HEADROOM,
    Loudness,
    Measured,
    gated_loudness,
    grid_gain,
    limited_energy,
)
from engine.mix import SAMPLE_RATE, MixSettings, mixed, pcm16, write_pcm
from engine.peaks import OVERSAMPLE, Ceiling, gained, oversampled_peaks
from engine.timeline import Timeline

log = logging.getLogger(__name__)

VERSION = 2
"""Bumped when a piece's measurements (or the gain search's energies) are made differently."""
GAIN_STEP = 0.25
"""dB: the mastering gain is rounded to this step, so an edit that moves the track's loudness
less keeps the gain, and with it every other piece's samples and AAC. The level lands within
half a step (0.125 LU) of the target, plus the limiter's CLOSE_ENOUGH."""
PEAK_PASSES = 4
"""Encodes at most of a piece while its decoded true peak is over the ceiling: after the first
two, its ceiling is lowered where it went over (`_overshoots`); after the third, everywhere."""
PEAK_MARGIN = 0.1
"""dB more headroom than the encode's overshoot when a piece is mastered again."""
REACH = 2 * FRAME
"""Samples either side of where a decode went over the ceiling that its ceiling is lowered
over: the AAC frames whose transforms overlap there."""
JOIN = 4 * FRAME
"""Silent samples a scene ends with for the next scene (when it begins with EDGE of silence) to
start a new piece: EDGE, and up to a frame either way as the pieces move onto the frame grid."""


@dataclass(frozen=True, slots=True)
class Narration:
    """The mastered track's WAV, its AAC when asked for (`aac`, and what a meter reads in it:
    `heard`), which scenes' stretches were measured now or reused, which pieces (named by their
    first scene) were encoded now, and the mastering gain (dB)."""

    path: Path
    measured: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    aac: Path | None = None
    heard: Loudness | None = None
    encoded: tuple[str, ...] = ()
    gain: float = 0.0


def narrate(timeline: Timeline, clips: Sequence[Path | np.ndarray], out_path: Path,
            music: Sequence[Path | None], mix: MixSettings | None, workdir: Path,
            scene_ids: Sequence[str], effects: Sequence[Sequence[SoundEffect]] = (), *,
            aac_bitrate: str | None = None, stop: threading.Event | None = None) -> Narration:
    """Write the soundtrack `engine.mix.mix_audio` would write, with each scene's sound
    `effects` added before mastering (`engine.effects`), measured by scene, cut into pieces
    where scenes meet in silence; with `aac_bitrate`, its AAC too (`out_path` as .m4a).

    Mastering needs the whole track's loudness and peaks, which cost seconds a minute of audio;
    here each scene's stretch of the mix is measured once and kept in `workdir`, so a cut after
    an edit measures only the scenes whose sound changed. The gain is one for the whole track,
    on the GAIN_STEP grid; the search weighs each gain it tries by each scene's limited energy
    there, kept in `workdir` too (`_gain`), so an edit weighs only its own scene. Each piece is
    mastered, encoded and measured as the listener hears it once, kept in `workdir` by its sound
    and that gain (a piece whose decode peaks over the ceiling is mastered again on its own,
    its ceiling lowered that much where it went over: PEAK_PASSES at most). So the bytes are
    those of a cold cut of the same story. With AAC, each piece starts on its frame grid: up to
    1023 samples (21 ms) before its scene's picture (a story whose scenes never meet in silence
    is one piece, and not moved). Once `stop` is set (the video's encode failed, or Ctrl-C) it
    ends with Stopped at the next scene or piece.
    """
    track = add_effects(mixed(timeline, clips, music, mix), timeline, effects)
    stop_if(stop)
    bounds = _bounds(timeline)
    digests = [_digest(track[start:end]) for start, end in bounds]
    mastering = mix is not None and mix.loudness is not None
    scenes, made, kept = (_measure_scenes(track, bounds, digests, scene_ids, workdir,
                                          _grain(timeline.fps), stop) if mastering else ([], (), ()))
    gain, allowed = _gain(scenes, mix, workdir) if mastering else (0.0, math.inf)
    plan = _layout(track, bounds)
    pieces = [_Piece(track, bounds, scenes, digests, first, last, length)
              for first, last, _, length in plan]
    total = len(track)
    if aac_bitrate is None:  # no AAC: no frame grid to move the pieces onto
        places = [bounds[first][0] for first, *_ in plan]
        wav = _write_wav(places, [p.mastered(gain, allowed) for p in pieces], total, out_path)
        return Narration(wav, made, kept, gain=gain)
    places = [place for _, _, place, _ in plan]
    ceiling = 10 ** (mix.true_peak / 20) if mastering else math.inf
    ceilings = [allowed] * len(pieces)
    lowered: list[tuple[Lowered, ...]] = [()] * len(pieces)
    fresh: set[int] = set()
    for number in range(1, PEAK_PASSES + 1):  # a piece whose encode peaks over: again, lower
        done = encode_all([piece.job(gain, under, aac_bitrate, workdir, places)
                           for piece, under, places in zip(pieces, ceilings, lowered)], stop)
        fresh.update(index for index, (_, made_now) in enumerate(done) if made_now)
        over = {i: p for i, (p, _) in enumerate(done) if p.peak > ceiling}
        if number == PEAK_PASSES:  # no encode left: the cut's own pass lowers the whole track
            for index, encoded_piece in over.items():
                log.info("the narration's piece from scene %s still peaks %.2f dB over the "
                         "%.1f dBTP ceiling after %d encodes", scene_ids[plan[index][0]],
                         20 * math.log10(encoded_piece.peak / ceiling), mix.true_peak, number)
            break
        for index, encoded_piece in over.items():
            went_over = 20 * math.log10(encoded_piece.peak / ceiling)
            where = "everywhere"
            found = _overshoots(encoded_piece, ceiling) if number < PEAK_PASSES - 1 else ()
            if found:
                lowered[index] += found
                where = f"in {counted(len(found), 'place')}"
            else:  # the whole piece's ceiling, where it was lowered already too
                lower = 10 ** ((went_over + PEAK_MARGIN) / 20)
                ceilings[index] /= lower
                lowered[index] = tuple((start, end, round(level / lower, 9))
                                       for start, end, level in lowered[index])
            log.info("the narration's piece from scene %s peaks %.2f dB over the %.1f dBTP "
                     "ceiling: mastering it again up to %.2f dB lower %s",
                     scene_ids[plan[index][0]], went_over, mix.true_peak,
                     went_over + PEAK_MARGIN, where)
        if not over:
            break
    placed = [(place, piece) for place, (piece, _) in zip(places, done)]
    aac = write_m4a(placed, total, out_path.with_suffix(".m4a"))
    encoded = tuple(scene_ids[plan[index][0]] for index in sorted(fresh))
    wav = _write_wav(places, [piece.pcm for _, piece in placed], total, out_path)
    return Narration(wav, made, kept, aac, heard(placed), encoded, gain)


@dataclass(frozen=True)
class _Piece:
    """Scenes `first` to `last` of the mix as one piece, `length` samples encoded."""

    track: np.ndarray
    bounds: list[tuple[int, int]]
    scenes: list[_Scene]
    digests: list[str]
    first: int
    last: int
    length: int

    def mastered(self, gain: float, allowed: float, lowered: Sequence[Lowered] = ()
                 ) -> np.ndarray:
        """The piece's 16-bit samples at `gain` dB, peaks limited to `allowed` (linear), and
        where `lowered` says, to less."""
        stretch = _padded(self.track[self.bounds[self.first][0]:self.bounds[self.last][1]],
                          self.length)
        if not self.scenes:
            return pcm16(stretch)
        peaks = np.concatenate([s.measured().peaks
                                for s in self.scenes[self.first:self.last + 1]])
        ceiling: Ceiling = allowed
        if lowered:
            ceiling = np.full(self.length, allowed, dtype=np.float32)  # as `peaks` are
            for start, end, level in lowered:
                np.minimum(ceiling[start:end], level, out=ceiling[start:end])
        return pcm16(gained(stretch, _padded(peaks, self.length), gain, ceiling, SAMPLE_RATE))

    def job(self, gain: float, allowed: float, bitrate: str, workdir: Path,
            lowered: Sequence[Lowered] = ()) -> tuple[Callable[[], np.ndarray], bool, str, Path]:
        """`aac_pieces.encoded`'s arguments for the piece mastered so."""
        start = self.bounds[self.first][0]
        primed = self.first == 0 and bool(np.any(self.track[start:start + EDGE]))
        key = {"scenes": self.digests[self.first:self.last + 1], "length": self.length,
               "gain": gain, "allowed": allowed, "bitrate": bitrate, "primed": primed,
               "mastering": VERSION, **({"lowered": [list(place) for place in lowered]}
                                        if lowered else {})}
        return (lambda: self.mastered(gain, allowed, lowered), primed, bitrate,
                piece_path(workdir, key))


Lowered = tuple[int, int, float]
"""Where a piece's ceiling is lowered, and to what: its first and past-last sample, the level."""


def _overshoots(piece: Piece, ceiling: float) -> tuple[Lowered, ...]:
    """Where the piece's decode peaks over `ceiling`, and the ceiling its mix needs there: the
    mix's own highest peak there, lowered as far as the decode went over, and PEAK_MARGIN more.
    A run of grains over the ceiling, with REACH either side (runs that close merge), is one
    place."""
    over = np.flatnonzero(piece.peaks.astype(np.float64) > ceiling)  # as `peak` is compared
    if not len(over):
        return ()
    breaks = np.flatnonzero(np.diff(over) * GRAIN > 2 * REACH)
    places = []
    for first, last in zip(over[np.r_[0, breaks + 1]].tolist(),
                           over[np.r_[breaks, len(over) - 1]].tolist()):
        start = max(0, first * GRAIN - REACH)
        end = min(len(piece.pcm), (last + 1) * GRAIN + REACH)
        mixed = _mixed_peak(piece.pcm, start, end)
        if mixed > 0:  # (silent there: no limiter helps; the piece is lowered everywhere)
            went_over = float(piece.peaks[first:last + 1].max()) / ceiling
            places.append((start, end, round(mixed / went_over / 10 ** (PEAK_MARGIN / 20), 9)))
    return tuple(places)


def _mixed_peak(pcm: np.ndarray, start: int, end: int) -> float:
    """The highest true peak of the 16-bit samples from `start` to `end`, read with the samples
    around them that the oversampling filter reaches (not the whole piece: minutes of it)."""
    reach = GRAIN  # more than the filter's half length
    low, high = max(0, start - reach), min(len(pcm), end + reach)
    peaks = oversampled_peaks(pcm[low:high].astype(np.float32) / 32768)
    return float(peaks[start - low:start - low + end - start].max(initial=0.0))


class _Scene:
    """A scene's stretch of the mix and its measurements: the energy sums and the highest peak
    at hand, the K-weighted samples and every sample's peak (`measured`) read from `workdir` only
    when asked for (an edit needs them for its own scene alone)."""

    def __init__(self, samples: np.ndarray, key: str, path: Path, grain: int,
                 energy: np.ndarray, peak: float, full: Measured | None = None):
        self.samples, self.key, self.path, self.grain = samples, key, path, grain
        self.energy, self.peak, self._full = energy, peak, full

    def measured(self) -> Measured:
        if self._full is None:
            kept = kept_arrays(self.path, ("weighted", "peaks"))
            self._full = (Measured(kept["weighted"], self.energy, self.grain, kept["peaks"])
                          if kept is not None  # else unreadable now: made again, the same
                          else Measured.of(self.samples, SAMPLE_RATE, self.grain))
        return self._full


def _measure_scenes(track: np.ndarray, bounds: list[tuple[int, int]], digests: list[str],
                    scene_ids: Sequence[str], workdir: Path, grain: int,
                    stop: threading.Event | None = None
                    ) -> tuple[list[_Scene], tuple[str, ...], tuple[str, ...]]:
    """Each scene's measurements (`_measured`), and which scenes were measured now or reused."""
    scenes, made, kept = [], [], []
    for scene_id, (start, end), digest in zip(scene_ids, bounds, digests):
        stop_if(stop)
        scene, fresh = _measured(track[start:end], grain, workdir, digest)
        scenes.append(scene)
        (made if fresh else kept).append(scene_id)
    return scenes, tuple(made), tuple(kept)


def _gain(scenes: list[_Scene], mix: MixSettings, workdir: Path) -> tuple[float, float]:
    """The mastering gain (dB, on the GAIN_STEP grid) and the limiter's ceiling (linear).

    The gain that reaches the target when nothing is limited, rounded; else the grid's gain
    whose limited level is nearest the target (`loudness.grid_gain`), each scene limited on its
    own (a scene's limiter stops at its ends: a close estimate of the whole track's, and it
    only chooses the gain; each piece is limited as a whole when it is mastered)."""
    allowed = 10 ** ((mix.true_peak - CODEC_HEADROOM) / 20)
    grain = scenes[0].grain
    level = gated_loudness(np.concatenate([s.energy for s in scenes]), grain, SAMPLE_RATE)
    if not math.isfinite(level):
        return 0.0, allowed
    first = mix.loudness - level
    if max(s.peak for s in scenes) * 10 ** (first / 20) <= allowed:
        return round(first / GAIN_STEP) * GAIN_STEP, allowed
    gain = grid_gain(lambda tried: gated_loudness(np.concatenate(
        [_limited_energy(s, tried, allowed, workdir) for s in scenes]), grain, SAMPLE_RATE),
        first, mix.loudness, GAIN_STEP)
    return gain, allowed


def _limited_energy(scene: _Scene, gain: float, allowed: float, workdir: Path) -> np.ndarray:
    """The scene's energy sums at `gain` dB under the limiter (`loudness.limited_energy`): kept
    in `workdir` by the scene's sound, the gain and the ceiling when the limiter works in it."""
    scale = 10 ** (gain / 20)
    if not np.float32(scene.peak) * np.float32(scale) > np.float32(allowed):  # no span
        return scene.energy * scale ** 2
    key = {"scene": scene.key, "gain": gain, "allowed": allowed}
    path = workdir / f"gain-{_named(key)}.npz"
    kept = kept_arrays(path)
    if kept is not None:
        return kept["energy"]
    energy = limited_energy(scene.samples, SAMPLE_RATE, scene.measured(), gain, allowed)
    keep_arrays(path, energy=energy)
    return energy


def _named(key: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def _layout(track: np.ndarray, bounds: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """The pieces: (first scene, last scene, first sample on the track, samples encoded). A
    piece ends where a scene ends in JOIN of silence and the next begins in EDGE of it; it starts
    on the frame grid at or before its first scene; it encodes whole frames, ending in EDGE of
    silence wherever the next piece starts (the last piece: past the track's end)."""
    groups, first = [], 0
    for index, (start, end) in enumerate(bounds[:-1]):
        following = bounds[index + 1]
        if (end - bounds[first][0] >= 8 * FRAME and not np.any(track[end - JOIN:end])
                and not np.any(track[following[0]:following[0] + EDGE])):
            groups.append((first, index))
            first = index + 1
    groups.append((first, len(bounds) - 1))
    plan = []
    for number, (first, last) in enumerate(groups):
        natural = bounds[last][1] - bounds[first][0]
        place = bounds[first][0] // FRAME * FRAME
        length = (-(-(natural + FRAME - 1) // FRAME) if number == len(groups) - 1
                  else (natural - FRAME + 1) // FRAME) * FRAME
        plan.append((first, last, place, length))
    return plan


def _padded(samples: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros(length, dtype=samples.dtype)
    out[:min(length, len(samples))] = samples[:length]
    return out


def _write_wav(places: list[int], sounds: Sequence[np.ndarray], total: int,
               out_path: Path) -> Path:
    """The pieces' 16-bit samples at their places, silence between them, `total` long."""
    pcm = np.zeros(total, dtype="<i2")
    for index, (place, sound) in enumerate(zip(places, sounds)):
        end = min(total, places[index + 1] if index + 1 < len(places) else total)
        held = sound[:end - place]
        pcm[place:place + len(held)] = held
    return write_pcm(pcm, out_path)


def _digest(stretch: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(stretch, dtype="<f4").tobytes()).hexdigest()


def _grain(fps: int) -> int:
    """Samples each piece's loudness sums are kept at: a divisor of a frame's samples (scenes are
    whole frames) and of the gating blocks' tenth of a second, so pieces join exactly."""
    tenth = SAMPLE_RATE // 10
    return math.gcd(tenth, SAMPLE_RATE // fps) if SAMPLE_RATE % fps == 0 else 1


def _bounds(timeline: Timeline) -> list[tuple[int, int]]:
    """Each scene's first and past-last sample in the track."""
    total = round(timeline.duration * SAMPLE_RATE)
    starts = [round(scene.start * SAMPLE_RATE) for scene in timeline.scenes]
    return list(zip(starts, [*starts[1:], total]))


def _measured(piece: np.ndarray, grain: int, workdir: Path, sound: str) -> tuple[_Scene, bool]:
    """The piece's measurements from `workdir` (energy and highest peak read now, the rest when
    asked for), else made and kept there; True when made. `sound` is the digest of the piece's
    samples."""
    key = _named({"version": VERSION, "rate": SAMPLE_RATE, "grain": grain,
                  "oversample": OVERSAMPLE, "meter": _meter_version(), "sound": sound})
    path = workdir / f"loud-{key}.npz"
    kept = kept_arrays(path, ("energy", "peak"))
    if kept is not None:
        return _Scene(piece, key, path, grain, kept["energy"], float(kept["peak"])), False
    measured = Measured.of(piece, SAMPLE_RATE, grain)
    peak = np.max(measured.peaks, initial=np.float32(0.0))
    keep_arrays(path, weighted=measured.weighted, energy=measured.energy, peaks=measured.peaks,
                peak=peak)
    return _Scene(piece, key, path, grain, measured.energy, float(peak), measured), True


@functools.cache
def _meter_version() -> str:
    from importlib.metadata import version

    return f"pyloudnorm {version('pyloudnorm')}, scipy {version('scipy')}"
