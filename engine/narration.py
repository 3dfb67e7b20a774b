"""The narration track by scene: each scene's stretch of the mix measured once (kept in the cut's
work folder, named by its samples), the whole track mastered from those measurements, and its AAC
made of pieces joined in silence (`engine.aac_pieces`), so an edit encodes only its own piece."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.aac_pieces import EDGE, FRAME, encode_all, heard, piece_path, write_m4a
from engine.effects import SoundEffect, add_effects
from engine.files import keep_arrays, kept_arrays
from engine.loudness import (
    CODEC_HEADROOM,
    OVERSAMPLE,
    Loudness,
    Measured,
    gained,
    mastering_gain,
)
from engine.timeline import SAMPLE_RATE, MixSettings, Timeline, mixed, pcm16, write_pcm

log = logging.getLogger(__name__)

VERSION = 1
"""Bumped when a piece's measurements are made differently."""
GAIN_STEP = 0.25
"""dB: the mastering gain is rounded to this step, so an edit that moves the track's loudness
less keeps the gain, and with it every other piece's samples and AAC. The level lands within
half a step (0.125 LU) of the target, plus the limiter's CLOSE_ENOUGH."""
PEAK_PASSES = 3
"""Encodes at most of a piece while its decoded true peak is over the ceiling."""
PEAK_MARGIN = 0.1
"""dB more headroom than the encode's overshoot when a piece is mastered again."""
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
            aac_bitrate: str | None = None) -> Narration:
    """Write the soundtrack `engine.timeline.mix_audio` would write, with each scene's sound
    `effects` added before mastering (`engine.effects`), measured by scene, cut into pieces
    where scenes meet in silence; with `aac_bitrate`, its AAC too (`out_path` as .m4a).

    Mastering needs the whole track's loudness and peaks, which cost seconds a minute of audio;
    here each scene's stretch of the mix is measured once and kept in `workdir`, so a cut after
    an edit measures only the scenes whose sound changed. The gain is one for the whole track
    (rounded to GAIN_STEP); each piece is mastered, encoded and measured as the listener hears
    it once, kept in `workdir` by its sound and that gain (a piece whose decode peaks over the
    ceiling is mastered again under a ceiling that much lower, on its own: PEAK_PASSES at most).
    So the bytes are those of a cold cut of the same story. With AAC, each piece starts on its
    frame grid: up to 1023 samples (21 ms) before its scene's picture (a story whose scenes
    never meet in silence is one piece, and not moved).
    """
    track = add_effects(mixed(timeline, clips, music, mix), timeline, effects)
    bounds = _bounds(timeline)
    digests = [_digest(track[start:end]) for start, end in bounds]
    mastering = mix is not None and mix.loudness is not None
    scenes, made, kept = (_measure_scenes(track, bounds, digests, scene_ids, workdir,
                                          _grain(timeline.fps)) if mastering else ([], (), ()))
    gain, allowed = _gain(track, mix, scenes) if mastering else (0.0, math.inf)
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
    ceilings, fresh = [allowed] * len(pieces), set()
    for _ in range(PEAK_PASSES):  # a piece whose encode peaks over the ceiling: again, lower
        done = encode_all([piece.job(gain, under, aac_bitrate, workdir)
                           for piece, under in zip(pieces, ceilings)])
        fresh.update(index for index, (_, made_now) in enumerate(done) if made_now)
        over = {i: p.peak / ceiling for i, (p, _) in enumerate(done) if p.peak > ceiling}
        for index, ratio in over.items():
            ceilings[index] /= ratio * 10 ** (PEAK_MARGIN / 20)
            log.info("the narration's piece from scene %s peaks %.2f dB over the %.1f dBTP "
                     "ceiling: mastering it again %.2f dB lower", scene_ids[plan[index][0]],
                     20 * math.log10(ratio), mix.true_peak, 20 * math.log10(ratio) + PEAK_MARGIN)
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
    scenes: list[Measured]
    digests: list[str]
    first: int
    last: int
    length: int

    def mastered(self, gain: float, allowed: float) -> np.ndarray:
        """The piece's 16-bit samples at `gain` dB, peaks limited to `allowed` (linear)."""
        stretch = _padded(self.track[self.bounds[self.first][0]:self.bounds[self.last][1]],
                          self.length)
        if not self.scenes:
            return pcm16(stretch)
        peaks = np.concatenate([s.peaks for s in self.scenes[self.first:self.last + 1]])
        return pcm16(gained(stretch, _padded(peaks, self.length), gain, allowed, SAMPLE_RATE))

    def job(self, gain: float, allowed: float, bitrate: str, workdir: Path
            ) -> tuple[Callable[[], np.ndarray], bool, str, Path]:
        """`aac_pieces.encoded`'s arguments for the piece mastered so."""
        start = self.bounds[self.first][0]
        primed = self.first == 0 and bool(np.any(self.track[start:start + EDGE]))
        key = {"scenes": self.digests[self.first:self.last + 1], "length": self.length,
               "gain": gain, "allowed": allowed, "bitrate": bitrate, "primed": primed,
               "mastering": VERSION}
        return (lambda: self.mastered(gain, allowed), primed, bitrate, piece_path(workdir, key))


def _measure_scenes(track: np.ndarray, bounds: list[tuple[int, int]], digests: list[str],
                    scene_ids: Sequence[str], workdir: Path, grain: int
                    ) -> tuple[list[Measured], tuple[str, ...], tuple[str, ...]]:
    """Each scene's measurements (`_measured`), and which scenes were measured now or reused."""
    scenes, made, kept = [], [], []
    for scene_id, (start, end), digest in zip(scene_ids, bounds, digests):
        piece, fresh = _measured(track[start:end], grain, workdir, digest)
        scenes.append(piece)
        (made if fresh else kept).append(scene_id)
    return scenes, tuple(made), tuple(kept)


def _gain(track: np.ndarray, mix: MixSettings, scenes: list[Measured]) -> tuple[float, float]:
    """The mastering gain (dB, rounded to GAIN_STEP) and the limiter's ceiling (linear)."""
    gain = mastering_gain(track, SAMPLE_RATE, mix.loudness, mix.true_peak,
                          Measured.joined(scenes))
    return (round(gain / GAIN_STEP) * GAIN_STEP,
            10 ** ((mix.true_peak - CODEC_HEADROOM) / 20))


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


def _measured(piece: np.ndarray, grain: int, workdir: Path,
              sound: str) -> tuple[Measured, bool]:
    """The piece's measurements from `workdir`, else made and kept there; True when made.
    `sound` is the digest of the piece's samples."""
    key = {"version": VERSION, "rate": SAMPLE_RATE, "grain": grain, "oversample": OVERSAMPLE,
           "meter": _meter_version(), "sound": sound}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    path = workdir / f"loud-{digest.hexdigest()[:32]}.npz"
    kept = kept_arrays(path)
    if kept is not None:
        return Measured(kept["weighted"], kept["energy"], grain, kept["peaks"]), False
    measured = Measured.of(piece, SAMPLE_RATE, grain)
    keep_arrays(path, weighted=measured.weighted, energy=measured.energy, peaks=measured.peaks)
    return measured, True


@functools.cache
def _meter_version() -> str:
    from importlib.metadata import version

    return f"pyloudnorm {version('pyloudnorm')}, scipy {version('scipy')}"
