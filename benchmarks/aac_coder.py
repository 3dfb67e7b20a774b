"""The narration's AAC coder: libavcodec's `fast` (ours) against its default `twoloop`, on the
very samples the example stories' cuts hand the encoder.

    .venv/bin/python benchmarks/aac_coder.py [--stories first-snow moon-glow snail] [--rounds 3]

Renders the stories (offline defaults) into a scratch copy of `stories/`, takes every narration
piece the cut kept (`aacp-*.npz`: the mastered 16-bit samples of each piece), and encodes each
piece with both coders at 128 kb/s, the rounds interleaved. Prints the CPU of each (best round)
and their ratio, and for each coder, over the loud 1024-sample frames (RMS over -40 dBFS): the
segmental SNR against the input (median, 5th and 1st percentile, minimum), how many frames fall
under 15 and 20 dB, the largest error, and the decode's true-peak overshoot over the input's
(median and largest, dB). SNR is not loudness-weighted or perceptual; the frames it flags are
gross errors (a voice's onset smeared into a burst), not subtle ones.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.aac_pieces import FRAME, _decode, _encode  # noqa: E402
from engine.peaks import true_peak  # noqa: E402

CODERS = ("twoloop", "fast")


def pieces(stories: list[str], scratch: Path) -> list[np.ndarray]:
    """The mastered samples of every narration piece the stories' cuts encoded."""
    shutil.copytree(ROOT / "stories", scratch / "stories")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for story in stories:
        subprocess.run([sys.executable, "-m", "engine", "render",
                        str(scratch / "stories" / f"{story}.story")], cwd=scratch, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    kept = sorted(scratch.rglob("aacp-*.npz"))
    return [np.load(path)["pcm"] for path in kept]


def encoded(pcm: np.ndarray, coder: str) -> tuple[np.ndarray, float]:
    """The piece's decode (aligned with its samples) and the encode's CPU seconds."""
    start = time.process_time()
    packets = _encode(pcm, "128k", coder)
    seconds = time.process_time() - start
    return _decode(packets)[FRAME:FRAME + len(pcm)], seconds  # the priming packet dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", nargs="+", default=["first-snow", "moon-glow", "snail"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        samples = pieces(args.stories, Path(scratch))
    seconds = sum(len(pcm) for pcm in samples) / 48000
    print(f"{len(samples)} pieces, {seconds:.0f} s of narration ({', '.join(args.stories)})")
    cpu = {coder: [] for coder in CODERS}
    decodes: dict[str, list[np.ndarray]] = {}
    for _ in range(args.rounds):
        for coder in CODERS:
            done = [encoded(pcm, coder) for pcm in samples]
            cpu[coder].append(sum(spent for _, spent in done))
            decodes[coder] = [decode for decode, _ in done]
    best = {coder: min(times) for coder, times in cpu.items()}
    print(f"CPU, best of {args.rounds}: twoloop {best['twoloop']:.2f} s, fast {best['fast']:.2f} s"
          f" — fast / twoloop {best['fast'] / best['twoloop']:.2f}")
    for coder in CODERS:
        snr, errors, overshoot = [], [], []
        for pcm, decode in zip(samples, decodes[coder]):
            x = pcm.astype(np.float32) / 32768
            frames = len(x) // FRAME
            blocks = x[:frames * FRAME].reshape(frames, FRAME)
            error = (decode - x)[:frames * FRAME].reshape(frames, FRAME)
            loud = (blocks ** 2).mean(axis=1) > 1e-4
            power = np.maximum((error[loud] ** 2).mean(axis=1), 1e-20)
            snr += list(10 * np.log10((blocks[loud] ** 2).mean(axis=1) / power))
            errors.append(float(np.abs(decode - x).max()))
            overshoot.append(true_peak(decode) - true_peak(x))
        snr = np.array(snr)
        print(f"{coder:8s} {len(snr)} loud frames: SNR median {np.median(snr):.1f} dB, "
              f"p5 {np.percentile(snr, 5):.1f}, p1 {np.percentile(snr, 1):.1f}, "
              f"min {snr.min():.1f}; under 15 dB {int((snr < 15).sum())}, under 20 dB "
              f"{int((snr < 20).sum())}; largest error {max(errors):.3f} of full scale; "
              f"true-peak overshoot median {np.median(overshoot):+.2f} dB, "
              f"largest {max(overshoot):+.2f} dB")


if __name__ == "__main__":
    main()
