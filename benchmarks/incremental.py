"""Cold, no-op and one-line-edit render times of a 12- and a 60-scene story, and ratios to cold.

    .venv/bin/python benchmarks/incremental.py [--scenes 12 60] [--music] [--keep DIR] [overrides...]

Each render is the real command (`python -m engine render ...`) in a fresh process, as an author
runs it; the time is the command's wall clock (its CPU seconds, ffmpeg's included, are printed
too: on a shared machine they move less). Targets (issues 4 and 16): no-op ≤ 5 % of cold, one-line
edit ≤ 1/N + 10 % of cold for an N-scene story, whatever N. With `--music` the story has a music
bed under the whole story (`music: music/bed.wav`, a soft chord loop made here), so its scenes
never meet in silence.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = ["a sunny meadow full of daisies", "a dark forest with tall pine trees",
            "a quiet village at night under bright stars", "a sandy beach by a calm blue sea",
            "a cosy kitchen with a warm stove", "a snowy hill at dawn",
            "a rainy street with puddles", "a castle garden with roses",
            "a riverbank with reeds at sunset", "a library full of old books",
            "a mountain path above the clouds", "a lighthouse on a rocky island"]


def story_text(scenes: int, edited: int | None = None, music: bool = False) -> str:
    """A complete story (every line and image prompt written, so no writer runs): `scenes`
    scenes of two narration lines and one dialogue line; `edited` changes one line's words;
    `music` puts `music/bed.wav` under the whole story."""
    out = ["title: The Long Walk", "audience: 3-6", "style: soft watercolor picture book",
           "language: en", *(["music: music/bed.wav"] if music else []), "", "character Mo",
           "  description: a small blue hedgehog with a red scarf",
           "  voice: child", ""]
    for n in range(scenes):
        setting = SETTINGS[n % len(SETTINGS)]
        words = "Mo stopped to listen, and smiled." if edited != n else \
            f"Mo stopped at place {n + 1}, listened closely, and laughed."
        out += [f"scene walk-{n + 1:02d}", f"  setting: {setting}",
                f"  image: Mo the hedgehog walking through {setting}", "  with: Mo",
                f'  "Mo walked on, to {setting}."', f'  "{words}"',
                f'  Mo: "What a lovely place number {n + 1} is!"', ""]
    return "\n".join(out)


def write_bed(path: Path, rate: int = 48000) -> Path:
    """A soft chord loop (C, A minor, F, G; 2 s each, triads of sines with a slow swell) as a
    16-bit mono WAV at `path`."""
    import numpy as np

    chords = ((261.63, 329.63, 392.00), (220.00, 261.63, 329.63), (174.61, 220.00, 261.63),
              (196.00, 246.94, 293.66))
    t = np.arange(2 * rate) / rate
    swell = np.sin(np.pi * t / 2) ** 2
    loop = np.concatenate([swell * sum(np.sin(2 * np.pi * f * t) for f in chord) / 3
                           for chord in chords])
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((0.3 * 32767 * loop).astype("<i2").tobytes())
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render(story: Path, run: Path, cache: Path, overrides: list[str]) -> tuple[float, dict]:
    """Wall seconds of the command, and its manifest with `cpu` (seconds of CPU it and its
    ffmpeg children used: less disturbed than wall time when the machine is shared)."""
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run([sys.executable, "-m", "engine", "render", str(story),
                           f"hydra.run.dir={run}", f"cache.dir={cache}", *overrides],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "120"})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"render failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, {**json.loads((run / "manifest.json").read_text()),
                     "cpu": _children_cpu() - cpu}


def made(manifest: dict) -> list[str]:
    return sorted(f"{a['stage']}:{a['name']}" for a in manifest["artifacts"] if a["made"])


def _median(runs: list[tuple[float, dict]]) -> tuple[float, dict]:
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def measure(scenes: int, repeats: int, work: Path, overrides: list[str],
            music: bool = False) -> None:
    """Cold, no-op and one-line-edit renders of a `scenes`-scene story in `work` (with a music
    bed under it when `music`); print them."""
    work.mkdir(parents=True, exist_ok=True)
    (work / ".git").mkdir(exist_ok=True)  # a story repository of its own
    story, cache = work / "walk.story", work / "cache"
    if music:
        write_bed(work / "music" / "bed.wav")
    story.write_text(story_text(scenes, music=music))

    cold, cold_manifest = render(story, work / "cold", cache, overrides)
    # No-op and edit runs are short and this machine is shared: the median of a few, each edit
    # a different line (a repeated edit would be a no-op).
    noops = [render(story, work / f"noop-{n}", cache, overrides) for n in range(repeats)]
    edits = []
    for n in range(repeats):
        story.write_text(story_text(scenes, edited=(scenes // 2 + n) % scenes, music=music))
        edits.append(render(story, work / f"edit-{n}", cache, overrides))
    noop, noop_manifest = _median(noops)
    edit, edit_manifest = _median(edits)

    duration = cold_manifest.get("duration", 0.0)
    print(f"story: {scenes} scenes{', music bed' if music else ''}, "
          f"{len(cold_manifest['artifacts'])} artifacts, "
          f"video {duration:.1f} s; overrides: {' '.join(overrides) or '(defaults)'}; "
          f"no-op and edit: median of {repeats}")
    print(f"{'run':<16}{'wall s':>9}{'in-process s':>14}{'CPU s':>8}{'made':>6}{'ratio':>9}"
          f"{'target':>9}{'CPU ratio':>11}")
    target_edit = 1 / scenes + 0.10
    rows = (("cold", cold, cold_manifest, None), ("no-op", noop, noop_manifest, 0.05),
            ("one-line edit", edit, edit_manifest, target_edit))
    for name, wall, manifest, target in rows:
        ratio = wall / cold
        mark = "" if target is None else f"{'≤' if ratio <= target else '>'}{target:.3f}"
        print(f"{name:<16}{wall:>9.2f}{manifest.get('seconds', 0.0):>14.2f}"
              f"{manifest['cpu']:>8.2f}{len(made(manifest)):>6}{ratio:>9.3f}{mark:>9}"
              f"{manifest['cpu'] / cold_manifest['cpu']:>11.3f}")
    cold_in = max(cold_manifest.get("seconds", 0.0), 1e-9)
    print(f"in-process ratios (without interpreter start-up and Hydra): "
          f"no-op {noop_manifest.get('seconds', 0.0) / cold_in:.3f}, "
          f"one-line edit {edit_manifest.get('seconds', 0.0) / cold_in:.3f}")
    stages = edit_manifest.get("stages", {})
    print("one-line edit: made " + ", ".join(made(edit_manifest)) + "; seconds by stage: "
          + ", ".join(f"{k} {v.get('seconds', 0.0):.2f}" for k, v in stages.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, nargs="+", default=[12, 60],
                        help="story lengths, each measured on its own")
    parser.add_argument("--repeats", type=int, default=3, help="no-op and edit runs (median)")
    parser.add_argument("--music", action="store_true",
                        help="a music bed under the whole story (scenes never meet in silence)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args, overrides = parser.parse_known_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="storyreel-incremental-"))
    for scenes in args.scenes:
        measure(scenes, args.repeats, work / f"{scenes}-scenes{'-music' if args.music else ''}",
                overrides, args.music)
    if not args.keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
