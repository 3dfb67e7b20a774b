"""Cold render time per stage: the short example and a 20-scene story, against video duration.

    .venv/bin/python benchmarks/render.py [--width 1280 --height 720]

Each story renders twice into fresh caches (the faster run counts). Prints per-stage seconds,
total, video duration, render/video ratio (target < 1 at 720p), and seconds per scene for both
stories, so growth with story length shows (target: linear).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCENES = [("a sunny meadow with flowers", "Mia"), ("a quiet village at night", "Tom"),
          ("a dark forest full of fireflies", "Mia"), ("a sandy beach by the sea at dusk", "Tom"),
          ("a cosy room with a fireplace", "Mia")]


def long_story(scenes: int) -> str:
    out = ["title: The Long Walk", "audience: 4-8", "style: soft watercolor picture book", "",
           "character Mia", "  description: a little girl with a yellow raincoat", "",
           "character Tom", "  description: a small brown dog with floppy ears", ""]
    for n in range(scenes):
        setting, who = SCENES[n % len(SCENES)]
        out += [f"scene part-{n + 1}", f"  setting: {setting}", "  with: Mia, Tom",
                f"  \"Mia and Tom walked on, and on, to place number {n + 1}.\"",
                f"  {who}: \"Look at this! Place number {n + 1} is the best one yet!\"", ""]
    return "\n".join(out)


def render(story: Path, work: Path, size: list[str]) -> dict:
    run = work / "run"
    done = subprocess.run([sys.executable, "-m", "engine", "render", str(story), *size,
                           f"hydra.run.dir={run}", f"cache.dir={work / 'cache'}"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"render failed:\n{done.stderr}")
    return json.loads((run / "manifest.json").read_text())


def best_of(story: Path, size: list[str], runs: int = 2) -> dict:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as work:
            results.append(render(story, Path(work), size))
    return min(results, key=lambda m: m["seconds"])


def report(name: str, manifest: dict, scenes: int) -> float:
    stages = "  ".join(f"{s} {v['seconds']:.2f}s" for s, v in manifest["stages"].items())
    ratio = manifest["seconds"] / manifest["duration"]
    print(f"{name:<12} scenes {scenes:>3}  total {manifest['seconds']:6.2f}s  "
          f"video {manifest['duration']:6.1f}s  render/video {ratio:.2f}  "
          f"per scene {manifest['seconds'] / scenes:.2f}s\n             {stages}")
    return manifest["seconds"] / scenes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--scenes", type=int, default=20)
    args = parser.parse_args()
    size = [f"render.width={args.width}", f"render.height={args.height}"]
    short = ROOT / "stories" / "first-snow.story"
    short_scenes = short.read_text().count("\nscene ")
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "long-walk.story"
        big.write_text(long_story(args.scenes))
        print(f"cold renders at {args.width}x{args.height}, best of 2")
        a = report("first-snow", best_of(short, size), short_scenes)
        b = report("long-walk", best_of(big, size), args.scenes)
    print(f"per-scene time, {args.scenes}-scene / {short_scenes}-scene story: {b / a:.2f} "
          "(1.0 = linear growth)")


if __name__ == "__main__":
    main()
