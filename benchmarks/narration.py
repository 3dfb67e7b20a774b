"""What an edit of a long story pays for its narration: each step timed alone, in CPU seconds.

    .venv/bin/python benchmarks/narration.py [--scenes 60] [--music]

A story of `scenes` scenes, three speech-like lines each (about 8 minutes for 60), is mixed and
mastered the way a cut does it: clips read (at a TTS's 22.05 kHz, resampled, as speak version 1
kept them; at 48 kHz as version 2 keeps them), the whole track mixed and mastered in one pass,
and by scene (`engine.narration`, when this checkout has it): cold, then after one line is
edited, and with the AAC made by piece (`engine.aac_pieces`). The loudness check of the finished
track and the whole-track AAC encode (ffmpeg's default coder and `-aac_coder fast`) are timed too.
With `--music`, the same story with one song under every scene (its AAC one piece) is made by
piece cold and after the edit as well.
Run it with PYTHONPATH at an older checkout to time what that checkout does.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.backends.tts.audio import wav_bytes
from engine.mix import SAMPLE_RATE, MixSettings, mix_audio, read_clip
from engine.stages.cut import CutLine, CutScene, plan
from engine.timeline import TimelineSettings

MIX = MixSettings(loudness=-14.0, true_peak=-1.5, music_level=-18.0, music_duck=9.0,
                  duck_attack=0.25, duck_release=0.5, music_fade=0.5)
TIMING = TimelineSettings(lead_in=0.3, gap=0.25, tail=0.6, min_scene=2.0, crossfade=0.5)


def speechlike(seconds: float, seed: int, rate: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    noise = np.convolve(rng.standard_normal(n), np.ones(4) / 4, mode="same")
    syllables = np.sin(np.pi * np.arange(n) / (0.18 * rate)) ** 2
    return (0.08 * noise * syllables).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    path.write_bytes(wav_bytes(samples, rate))
    return path


def clips(folder: Path, scenes: int, rate: int, edited: int | None = None,
          longer: float = 0.0) -> list[CutScene]:
    """`scenes` scenes of three lines; the `edited` scene's second line says other words,
    `longer` seconds longer."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for s in range(scenes):
        lines = []
        for i in range(3):
            seed = 3 * s + i + (1000 if s == edited and i == 1 else 0)
            seconds = 2.0 + 0.5 * ((seed * 7) % 5) / 4 + (longer if seed >= 1000 else 0.0)
            path = write_wav(folder / f"{seed}.wav", speechlike(seconds, seed, rate), rate)
            lines.append(CutLine(path, f"line {seed}"))
        out.append(CutScene(f"s{s}", folder / "still.png", None, None, tuple(lines)))
    return out


def cpu(action) -> tuple[float, object]:
    started = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = action()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.process_time() - started + after.ru_utime - children.ru_utime
            + after.ru_stime - children.ru_stime), result


def with_music(narrate, work: Path, fast, edited, read, longer) -> list[tuple[str, float]]:
    """A cold cut and one-line edits (as long as the line was, and 0.4 s longer) of the story
    with one song under every scene."""
    rng = np.random.default_rng(7)
    t = np.arange(20 * SAMPLE_RATE) / SAMPLE_RATE
    song = (0.2 * np.sin(2 * np.pi * 220 * t) * np.sin(np.pi * t / 2) ** 2
            + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    music = [write_wav(work / "song.wav", song, SAMPLE_RATE)] * len(fast)
    ids = [scene.scene_id for scene in fast]
    (work / "music").mkdir()
    rows = []
    for name, scenes in (("cold", fast), ("an edit", edited), ("an edit 0.4 s longer", longer)):
        seconds, done = cpu(lambda: narrate(plan(scenes, TIMING, 25), read(scenes),
                                            work / f"music-{len(rows)}.wav", music, MIX,
                                            work / "music", ids, aac_bitrate="128k"))
        rows.append((f"music throughout, by piece, {name} ({len(done.measured)} measured, "
                     f"{len(done.encoded)} encoded)", seconds))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=60)
    parser.add_argument("--music", action="store_true",
                        help="also time the story with a song under every scene")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="storyreel-narration-"))
    slow = clips(work / "22k", args.scenes, 22050)
    fast = clips(work / "48k", args.scenes, SAMPLE_RATE)
    edited = clips(work / "48k", args.scenes, SAMPLE_RATE, edited=args.scenes // 2)
    rows: list[tuple[str, float]] = []

    def read(scenes):
        return [read_clip(line.audio) for scene in scenes for line in scene.lines]
    rows.append(("read 22.05 kHz clips (resampled)", cpu(lambda: read(slow))[0]))
    seconds, samples = cpu(lambda: read(fast))
    rows.append(("read 48 kHz clips", seconds))
    timeline = plan(fast, TIMING, 25)
    wav = work / "whole.wav"
    rows.append(("mix + master, whole track", cpu(
        lambda: mix_audio(timeline, samples, wav, [None] * args.scenes, MIX))[0]))
    try:
        from engine.narration import narrate
    except ImportError:
        narrate = None
    if narrate is not None:
        ids = [scene.scene_id for scene in fast]
        rows.append(("mix + master by scene, cold", cpu(lambda: narrate(
            timeline, samples, work / "cold.wav", [None] * args.scenes, MIX, work, ids))[0]))
        changed = plan(edited, TIMING, 25)
        seconds, done = cpu(lambda: narrate(changed, read(edited), work / "edit.wav",
                                            [None] * args.scenes, MIX, work, ids))
        rows.append((f"mix + master by scene, one line edited ({len(done.measured)} measured)",
                     seconds))
        if "aac_bitrate" in narrate.__code__.co_varnames:
            (work / "aac").mkdir()
            seconds, done = cpu(lambda: narrate(timeline, samples, work / "aac-cold.wav",
                                                [None] * args.scenes, MIX, work / "aac", ids,
                                                aac_bitrate="128k"))
            rows.append((f"... and AAC by piece, cold ({len(done.encoded)} pieces encoded)",
                         seconds))
            seconds, done = cpu(lambda: narrate(changed, read(edited), work / "aac-edit.wav",
                                                [None] * args.scenes, MIX, work / "aac", ids,
                                                aac_bitrate="128k"))
            rows.append((f"... and AAC by piece, one line edited ({len(done.encoded)} encoded)",
                         seconds))
    if narrate is not None and args.music and "aac_bitrate" in narrate.__code__.co_varnames:
        longer = clips(work / "48k-longer", args.scenes, SAMPLE_RATE, args.scenes // 2, 0.4)
        rows += with_music(narrate, work, fast, edited, read, longer)
    from engine.loudness import measure
    rows.append(("loudness check of the track", cpu(lambda: measure(read_clip(wav),
                                                                  SAMPLE_RATE))[0]))
    from engine.backends.video.ffmpeg import ffmpeg_exe
    rows.append(("AAC encode (ffmpeg, 128k)", cpu(lambda: subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "aac",
         "-b:a", "128k", str(work / "track.m4a")], check=True))[0]))
    rows.append(("AAC encode, -aac_coder fast (ffmpeg, 128k)", cpu(lambda: subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "aac",
         "-aac_coder", "fast", "-b:a", "128k", str(work / "fast.m4a")], check=True))[0]))
    m4a = work / "track.m4a"
    rows.append(("decode the AAC back", cpu(lambda: read_clip(m4a))[0]))
    print(f"{args.scenes} scenes, {timeline.duration:.1f} s of narration, "
          f"checkout {os.environ.get('PYTHONPATH', '.')}")
    for name, seconds in rows:
        print(f"  {name:<58}{seconds:>7.2f} s CPU")
    import shutil
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
