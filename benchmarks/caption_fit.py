"""CPU time to split long lines into captions (`fit_cues`) at a 1280×720 frame's burned width.

Run: `.venv/bin/python benchmarks/caption_fit.py [--against CHECKOUT] [--rounds 3]`: milliseconds
of CPU a round (a 560-word line of 40 sentences and a 52-word line without sentence ends), and
seconds of CPU for two pathological lines at the files' 38 columns (`check` counts a line's
captions: 100 000 words without punctuation, 100 000 one-word clauses), this checkout's and, with
`--against`, another checkout's in turns (each in its own process), and the ratios. No target: a
render splits each line once, and a line this long is a `check` warning.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

MEASURE = r"""
import time
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.captions import Cue
try:
    from engine.caption_fit import fit_cues
except ImportError:  # a checkout from before engine/caption_fit.py
    from engine.captions import fit_cues
STORY = " ".join(f"The snail looked up at cloud number {i}, and it wondered about the rain."
                 for i in range(40))
SNAIL = ("Once upon a time, a little snail who lived at the bottom of the hill looked at the sky, "
         "where the tall dark blue clouds were rolling in, and he wondered whether the sleepy old "
         "owl on the hill would tell him a story before the rain came down on all of them tonight.")
fits = FFmpegEditor(burn_subtitles=True).caption_fits(1280, 720)
fit_cues([Cue(0, 115, STORY)], fits)  # the rows' widths measured once, as in a render
started = time.process_time()
for _ in range(20):
    fit_cues([Cue(0, 115, STORY)], fits)
    fit_cues([Cue(0, 15, SNAIL)], fits)
rounds = (time.process_time() - started) / 20 * 1000
started = time.process_time()
for text in ("the snail looked at the sky " * 20_000, "word, " * 100_000):
    fit_cues([Cue(0, len(text) / 15, text)])
print(rounds, time.process_time() - started)
"""


def measure(checkout: Path) -> tuple[float, float]:
    """Milliseconds of CPU a round, and seconds for the long lines, in `checkout`'s engine (a
    process of its own)."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", MEASURE], env=env, check=True, text=True,
                         capture_output=True, cwd=checkout).stdout
    rounds, long_lines = out.split()[-2:]
    return float(rounds), float(long_lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ours_path = Path(__file__).resolve().parents[1]
    for _ in range(args.rounds):
        ours, ours_long = measure(ours_path)
        line = f"ours {ours:.1f} ms CPU a round, long lines {ours_long:.2f} s"
        if args.against:
            theirs, theirs_long = measure(args.against.resolve())
            line += (f"; against {theirs:.1f} ms ({ours / theirs:.1f}×), "
                     f"{theirs_long:.2f} s ({ours_long / theirs_long:.1f}×)")
        print(line, flush=True)
    print(f"load: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
