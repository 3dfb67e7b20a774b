"""The soundtrack on the timeline: lines' clips read and placed (faded in and out against
clicks) over each scene's music, ducked under speech, mastered to a loudness, written as WAV."""

from __future__ import annotations

import errno
import logging
import math
import os
import stat
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.backends.tts import (
    SAMPLE_RATE,  # the narration track's rate; AAC is 48 kHz too
)
from engine.backends.tts.audio import pcm16, pcm_wav
from engine.files import write_atomically
from engine.loudness import master
from engine.timeline import Timeline

log = logging.getLogger(__name__)


def read_clip(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A clip as mono float32 samples at `rate`; any WAV PyAV reads, resampled when needed.
    Only a regular file is opened: a pipe or a device put in its place would never end."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a pipe or a device is never read)",
                      str(path))
    wav = _pcm16_wav(path)
    if wav is not None and wav[1] == rate:
        raw, _, channels = wav
        samples = raw.astype(np.float32) / 32768.0
        return samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    if wav is not None and wav[2] <= 2:  # a TTS's WAV at its own rate: no demuxer to open
        raw, source_rate, channels = wav
        if not raw.size:
            return np.zeros(0, np.float32)
        import av

        layout = "mono" if channels == 1 else "stereo"
        step = PCM_FRAME * channels
        frames = []  # as a decoder would hand them over (one huge frame resamples slower)
        for start in range(0, raw.size, step):
            frame = av.AudioFrame.from_ndarray(raw[start:start + step].reshape(1, -1),
                                               format="s16", layout=layout)
            frame.sample_rate = source_rate
            frames.append(frame)
        return _resampled(frames, rate)  # the samples decoded packets give, resampled
    import av

    with av.open(str(path)) as container:
        return _resampled(container.decode(audio=0), rate)


def _resampled(frames: Iterable[Any], rate: int) -> np.ndarray:
    """PyAV audio frames as mono float32 samples at `rate` (libswresample)."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks = []
    for frame in frames:
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


PCM_FRAME = 65536
"""Samples (per channel) a WAV's PCM is handed to the resampler in."""


def _pcm16_wav(path: Path) -> tuple[np.ndarray, int, int] | None:
    """A plain 16-bit PCM WAV's interleaved samples, rate and channel count; None for anything
    else (left to the demuxer): another sample format, WAVE_FORMAT_EXTENSIBLE (its channel mask
    says how to mix it), a data chunk whose length says 0 (a streamed WAV: ffmpeg reads to the
    end) or more than the file holds."""
    try:
        with open(path, "rb") as handle:
            if _wav_format_tag(handle.read(4096)) != 1:  # WAVE_FORMAT_PCM
                return None
            handle.seek(0)
            with wave.open(handle, "rb") as clip:
                channels, frames = clip.getnchannels(), clip.getnframes()
                if clip.getsampwidth() != 2 or frames == 0:
                    return None
                data = clip.readframes(frames)
                if len(data) != frames * 2 * channels:
                    return None
                return np.frombuffer(data, dtype="<i2"), clip.getframerate(), channels
    except (wave.Error, EOFError):
        return None


def _wav_format_tag(head: bytes) -> int | None:
    """The format tag of a RIFF WAVE's `fmt ` chunk among its first bytes, else None."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at = 12
    while at + 8 <= len(head):
        name, size = head[at:at + 4], int.from_bytes(head[at + 4:at + 8], "little")
        if name == b"fmt ":
            return int.from_bytes(head[at + 8:at + 10], "little") if at + 10 <= len(head) else None
        at += 8 + size + (size & 1)
    return None


LOUDNESS_LOW = -70.0
"""The quietest loudness target (LUFS): the absolute gate of ITU-R BS.1770, below which nothing
counts as programme."""


@dataclass(frozen=True, slots=True)
class MixSettings:
    """How the soundtrack is mixed and mastered (`render.mix:` in conf/config.yaml).

    `loudness` is the integrated loudness (LUFS) the whole soundtrack is brought to, `true_peak`
    the ceiling (dBTP) its peaks stay under; null `loudness` leaves the mix at its own level.
    Music plays at `music_level` dBFS, `music_duck` dB lower while a line is spoken: it starts
    to drop `duck_attack` seconds before the line and is back `duck_release` seconds after it;
    it fades in and out over `music_fade` seconds where it starts, stops or changes.
    """

    loudness: float | None
    true_peak: float
    music_level: float
    music_duck: float
    duck_attack: float
    duck_release: float
    music_fade: float

    def __post_init__(self) -> None:
        for name in ("loudness", "true_peak", "music_level", "music_duck", "duck_attack",
                     "duck_release", "music_fade"):
            value = getattr(self, name)
            if value is None and name == "loudness":
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"render.mix.{name} must be a number, not {value!r}")
        for name in ("music_duck", "duck_attack", "duck_release", "music_fade"):
            if getattr(self, name) < 0:
                raise ValueError(f"render.mix.{name} must be ≥ 0, not {getattr(self, name)!r}")
        if self.true_peak > 0:
            raise ValueError(f"render.mix.true_peak must be ≤ 0 dBTP, not {self.true_peak!r}")
        if self.loudness is not None and not LOUDNESS_LOW <= self.loudness <= 0:
            raise ValueError(f"render.mix.loudness must be from {LOUDNESS_LOW:g} to 0 LUFS (or "
                             f"null), not {self.loudness!r}")


def music_bed(timeline: Timeline, music: Sequence[Path | None], mix: MixSettings) -> np.ndarray:
    """The music track: each scene's music (looped to fill it), ducked under speech, faded
    in and out where the music changes; silence where a scene has none."""
    total = round(timeline.duration * SAMPLE_RATE)
    bed = np.zeros(total, dtype=np.float32)
    if len(music) != len(timeline.scenes):
        raise ValueError(f"{len(music)} music entries for {len(timeline.scenes)} scenes")
    loaded: dict[Path, np.ndarray] = {}
    index = 0
    while index < len(music):  # runs of scenes with the same music play it continuously
        end = index
        while end + 1 < len(music) and music[end + 1] == music[index]:
            end += 1
        path = music[index]
        start = round(timeline.scenes[index].start * SAMPLE_RATE)
        stop = min(total, round((timeline.scenes[end].start + timeline.scenes[end].duration)
                                * SAMPLE_RATE))
        if path is not None and stop > start:
            if path not in loaded:
                loaded[path] = read_clip(path)
            clip = loaded[path]
            if len(clip):
                span = stop - start
                piece = np.tile(clip, -(-span // len(clip)))[:span]
                fade = min(round(mix.music_fade * SAMPLE_RATE), span // 2)
                if fade:
                    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
                    piece[:fade] *= ramp
                    piece[-fade:] *= ramp[::-1]
                bed[start:stop] = piece
        index = end + 1
    gain_db = mix.music_level - mix.music_duck * ducking(timeline, mix, total)
    return bed * np.power(10.0, gain_db / 20.0).astype(np.float32)


def ducking(timeline: Timeline, mix: MixSettings, total: int) -> np.ndarray:
    """How far the music is ducked at each sample: 1 while a line sounds, ramping from 0 over
    `duck_attack` before it and back to 0 over `duck_release` after it (lines are known ahead)."""
    depth = np.zeros(total, dtype=np.float32)
    attack = round(mix.duck_attack * SAMPLE_RATE)
    release = round(mix.duck_release * SAMPLE_RATE)
    for cue in timeline.cues:
        start = min(total, round(cue.start * SAMPLE_RATE))
        end = min(total, round(cue.end * SAMPLE_RATE))
        depth[start:end] = 1.0
        _ramp(depth, start - attack, start, rising=True)
        _ramp(depth, end, end + release, rising=False)
    return depth


def _ramp(depth: np.ndarray, begin: int, end: int, *, rising: bool) -> None:
    """Raise `depth[begin:end]` to a linear ramp 0→1 (or 1→0), keeping what is deeper already."""
    if end <= begin:
        return
    ramp = np.linspace(0.0, 1.0, end - begin + 2, dtype=np.float32)[1:-1]
    if not rising:
        ramp = ramp[::-1]
    low, high = max(begin, 0), min(end, len(depth))
    if low < high:
        part = ramp[low - begin:high - begin]
        np.maximum(depth[low:high], part, out=depth[low:high])


def mix_audio(timeline: Timeline, clips: Sequence[Path | np.ndarray], out_path: Path,
              music: Sequence[Path | None] = (), mix: MixSettings | None = None) -> Path:
    """Write the whole soundtrack (48 kHz mono 16-bit WAV): `mixed`, then `mastered` to
    `mix.loudness`. Written atomically; the same inputs give the same bytes."""
    return write_track(mastered(mixed(timeline, clips, music, mix), mix), out_path)


def mastered(track: np.ndarray, mix: MixSettings | None) -> np.ndarray:
    """The track brought to `mix.loudness` under `mix.true_peak` (as it is without a target)."""
    if mix is None or mix.loudness is None:
        return track
    done = master(track, SAMPLE_RATE, mix.loudness, mix.true_peak)
    log.debug("mastering: %.1f LUFS → %.1f LUFS (%+.1f dB%s), true peak %.1f dBTP",
              done.before.integrated, done.after.integrated, done.gain,
              ", peaks limited" if done.limited else "", done.after.true_peak)
    return done.samples


def mixed(timeline: Timeline, clips: Sequence[Path | np.ndarray],
          music: Sequence[Path | None] = (), mix: MixSettings | None = None) -> np.ndarray:
    """The soundtrack before mastering: each line's clip at its cue's start, over each scene's
    music (one entry per scene; None: no music).

    `clips` are the lines' clips in timeline order (one per cue): WAV files, or their samples as
    `read_clip` gives them (a caller that read them already need not decode them twice). Without
    `mix` the clips are summed as they are (music needs `mix`: it says how loud).
    """
    if len(clips) != len(timeline.cues):
        raise ValueError(f"{len(clips)} clips for {len(timeline.cues)} lines")
    total = round(timeline.duration * SAMPLE_RATE)
    if any(music) and mix is None:
        raise ValueError("music needs mix settings (how loud it plays)")
    track = (music_bed(timeline, music, mix) if mix is not None and any(music)
             else np.zeros(total, dtype=np.float32))
    for cue, clip in zip(timeline.cues, clips):
        samples = clip if isinstance(clip, np.ndarray) else read_clip(clip)
        at = round(cue.start * SAMPLE_RATE)
        # A clip longer than its cue (a duration measured at another rate) is cut, never overlapped.
        room = max(0, min(len(samples), round(cue.end * SAMPLE_RATE) + 1 - at, total - at))
        track[at:at + room] += declicked(samples[:room])
    return track


DECLICK = 0.005
"""Seconds over which a clip's first and last samples are faded in and out as it is placed: a
clip that starts (or is cut) in the middle of its sound would otherwise step from silence to it,
a click the listener hears and the AAC encoder smears (its decode peaking over the ceiling)."""


def declicked(samples: np.ndarray) -> np.ndarray:
    """`samples` with a raised-cosine fade over DECLICK seconds at each end (a copy)."""
    fade = min(round(DECLICK * SAMPLE_RATE), len(samples) // 2)
    out = np.array(samples, dtype=np.float32)
    if fade:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade, dtype=np.float64) + 0.5) / fade)
                ).astype(np.float32)
        out[:fade] *= ramp
        out[len(out) - fade:] *= ramp[::-1]
    return out


def write_track(track: np.ndarray, out_path: Path) -> Path:
    """48 kHz mono 16-bit WAV of the track, written atomically."""
    return write_pcm(pcm16(track), out_path)


def write_pcm(pcm: np.ndarray, out_path: Path) -> Path:
    """48 kHz mono 16-bit WAV of these samples, written atomically."""
    return write_atomically(out_path, pcm_wav(pcm, SAMPLE_RATE))
