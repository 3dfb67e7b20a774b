"""The narration track by scene: each scene's stretch of the mix measured once (kept in the cut's
work folder, named by its samples), the whole track mastered from those measurements."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.effects import SoundEffect, add_effects
from engine.files import write_atomically
from engine.loudness import OVERSAMPLE, Measured
from engine.timeline import (
    SAMPLE_RATE,
    MixSettings,
    Timeline,
    mastered,
    mixed,
    write_track,
)

VERSION = 1
"""Bumped when a piece's measurements are made differently."""


@dataclass(frozen=True, slots=True)
class Narration:
    """The mastered track's WAV, and which scenes' pieces were measured now or reused."""

    path: Path
    measured: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()


def narrate(timeline: Timeline, clips: Sequence[Path | np.ndarray], out_path: Path,
            music: Sequence[Path | None], mix: MixSettings | None, workdir: Path,
            scene_ids: Sequence[str],
            effects: Sequence[Sequence[SoundEffect]] = ()) -> Narration:
    """Write the soundtrack `engine.timeline.mix_audio` would write, with each scene's sound
    `effects` added before mastering (`engine.effects`), measured by scene.

    Mastering needs the whole track's loudness and peaks, which cost seconds a minute of audio;
    here each scene's stretch of the mix is measured once and kept in `workdir`, so a cut after
    an edit measures only the scenes whose sound changed. The gain is one for the whole track,
    so the bytes are those of a cold cut of the same story.
    """
    track = add_effects(mixed(timeline, clips, music, mix), timeline, effects)
    if mix is None or mix.loudness is None:
        return Narration(write_track(track, out_path))
    grain = _grain(timeline.fps)
    pieces, made, kept = [], [], []
    for scene_id, (start, end) in zip(scene_ids, _bounds(timeline)):
        piece, fresh = _measured(track[start:end], grain, workdir)
        pieces.append(piece)
        (made if fresh else kept).append(scene_id)
    path = write_track(mastered(track, mix, Measured.joined(pieces)), out_path)
    return Narration(path, tuple(made), tuple(kept))


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


def _measured(piece: np.ndarray, grain: int, workdir: Path) -> tuple[Measured, bool]:
    """The piece's measurements from `workdir`, else made and kept there; True when made."""
    key = {"version": VERSION, "rate": SAMPLE_RATE, "grain": grain, "oversample": OVERSAMPLE,
           "meter": _meter_version()}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(piece, dtype="<f4").tobytes())
    path = workdir / f"loud-{digest.hexdigest()[:32]}.npz"
    try:
        with np.load(path) as kept:
            measured = Measured(kept["weighted"], kept["energy"], grain, kept["peaks"])
        os.utime(path)  # last use, for whoever cleans the workdir
        return measured, False
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # not there (or unreadable): measured again
    measured = Measured.of(piece, SAMPLE_RATE, grain)
    buffer = io.BytesIO()
    np.savez(buffer, weighted=measured.weighted, energy=measured.energy,
             peaks=measured.peaks)
    write_atomically(path, buffer.getvalue())
    return measured, True


def _meter_version() -> str:
    from importlib.metadata import version

    return f"pyloudnorm {version('pyloudnorm')}, scipy {version('scipy')}"
