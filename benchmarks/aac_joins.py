"""How AAC pieces encoded apart join inside sound (pre-roll/post-roll), against one whole encode.

    .venv/bin/python benchmarks/aac_joins.py [--seconds 120] [--every 10] [--pre 1 2 4 8]
                                             [--audio video.mp4]

The narration's AAC pieces join only in digital silence (`engine.aac_pieces`). This measures what
joining them inside sound would cost in quality: the track is cut on the 1024-sample frame grid
every `--every` seconds; each piece is encoded with `--pre` frames of the true signal before it
and as many after it, and only its own frames' packets are kept (for the frame at a join the
decoder overlap-adds the last packet of one piece and the first of the next, both computed from
the true signal). It prints, per pre-roll: the SNR of each 1024-sample frame of the joined decode
against the whole encode's decode and against the input (at the joins and elsewhere), the largest
deviation from the whole encode's decode (at a join frame, and anywhere), how often the two packets at a join disagree on the
window (AAC's window_sequence and window_shape), and how far the pieces' own decodes (what
`aac_pieces.heard` measures) are from the joined stream's decode at the joins. The signal is a
music bed (a chord loop, ducked under speech) with speech-like bursts and clicks (they make the
encoder switch to short windows), or the first `--seconds` of a rendered soundtrack (`--audio`: a
video or WAV; its decode is encoded again).
"""

from __future__ import annotations

import argparse
from itertools import pairwise
from pathlib import Path

import numpy as np

from engine.aac_pieces import FRAME, _decode, _encode
from engine.mix import SAMPLE_RATE, pcm16, read_clip

WINDOWS = ("LONG", "START", "SHORT", "STOP")


def signal(seconds: float, seed: int = 3) -> np.ndarray:
    """A chord loop at -18 dB, ducked 9 dB under speech-like bursts, with a click now and then."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    chords = np.array([[261.63, 329.63, 392.0], [220.0, 261.63, 329.63],
                       [174.61, 220.0, 261.63], [196.0, 246.94, 293.66]])
    chord = chords[(t // 2).astype(int) % 4]
    music = np.sin(2 * np.pi * chord * t[:, None]).sum(axis=1) / 3 * np.sin(np.pi * t / 2) ** 2
    speech = np.zeros(n)
    at = 0
    while at < n:
        length = int(rng.uniform(1.0, 3.0) * SAMPLE_RATE)
        burst = rng.standard_normal(min(length, n - at))
        burst = np.convolve(burst, np.ones(24) / 24, "same")  # low-passed noise
        syllables = np.sin(np.pi * np.arange(len(burst)) / SAMPLE_RATE * 4) ** 2
        speech[at:at + len(burst)] = 0.5 * burst * syllables
        at += length + int(rng.uniform(0.2, 0.8) * SAMPLE_RATE)
    ducked = np.where(np.abs(speech) > 0, 10 ** (-9 / 20), 1.0)
    clicks = np.zeros(n)
    for place in rng.integers(0, n - 200, size=int(seconds / 3)):
        clicks[place:place + 60] = 0.6 * np.hanning(60) * rng.choice([-1, 1])
    return pcm16((0.3 * 10 ** (-18 / 20) * music * ducked + speech + clicks).astype(np.float32))


def windows(packet: bytes) -> tuple[int, int]:
    """(window_sequence, window_shape) of a mono AAC-LC packet (ADTS header, then an SCE)."""
    bits = int.from_bytes(packet[7:10], "big")  # element id 3, tag 4, global gain 8, reserved 1
    element = bits >> 21
    if element != 0:
        raise ValueError(f"the packet starts with element {element}, not a single channel")
    return (bits >> 6) & 3, (bits >> 5) & 1


def pieces(pcm: np.ndarray, joins: list[int], pre: int, bitrate: str):
    """Each piece's kept packets (whole-encode numbering: packet i decodes input frame i - 1),
    its own decode of its frames, and the window of its packets around each of its ends."""
    frames = -(-len(pcm) // FRAME)
    padded = np.zeros((frames + pre + 2) * FRAME, dtype=pcm.dtype)
    padded[:len(pcm)] = pcm
    edges = [0, *joins, frames]
    out = []
    for first, last in pairwise(edges):
        lead = min(pre, first)
        begin, end = first - lead, min(last + pre, frames + 1)
        packets = _encode(padded[begin * FRAME:end * FRAME], bitrate)
        # local packet m is whole packet m + begin; this piece keeps whole packets first+1..last
        # (input frames first..last-1), plus packet 0 (priming) for the first piece
        keep = packets[(first - begin) + (0 if first == 0 else 1):(last - begin) + 1]
        own = _decode(packets)[(lead + 1) * FRAME:(lead + 1 + last - first) * FRAME]
        around = {"pre": packets[first - begin] if first else None,
                  "first": packets[first - begin + 1],
                  "last": packets[last - begin], "post": packets[last - begin + 1]}
        out.append((keep, own, around))
    return out


def snr(reference: np.ndarray, test: np.ndarray) -> np.ndarray:
    """dB per frame: the reference's energy over the difference's."""
    frames = len(reference) // FRAME
    ref = reference[:frames * FRAME].reshape(frames, FRAME).astype(np.float64)
    err = ref - test[:frames * FRAME].reshape(frames, FRAME)
    return 10 * np.log10((np.sum(ref ** 2, axis=1) + 1e-12) / (np.sum(err ** 2, axis=1) + 1e-12))


def _worst(difference: np.ndarray, frames: list[int]) -> float:
    """The largest absolute difference within the given frames."""
    return max(float(np.max(np.abs(difference[j * FRAME:(j + 1) * FRAME]))) for j in frames)


def report(pcm: np.ndarray, every: float, pres: list[int], bitrate: str) -> None:
    frames = -(-len(pcm) // FRAME)
    step = max(2, round(every * SAMPLE_RATE / FRAME))
    joins = list(range(step, frames - 1, step))
    whole_packets = _encode(pcm, bitrate)
    whole = _decode(whole_packets)[FRAME:FRAME + len(pcm)]
    source = pcm.astype(np.float32) / 32768
    base = snr(source, whole)
    print(f"{len(pcm) / SAMPLE_RATE:.0f} s, {len(joins)} joins, {bitrate}; whole encode against "
          f"the input: median frame SNR {np.median(base):.1f} dB, 5th percentile "
          f"{np.percentile(base, 5):.1f} dB; its windows: "
          + ", ".join(f"{name} {sum(windows(p)[0] == i for p in whole_packets)}"
                      for i, name in enumerate(WINDOWS)))
    print(f"the whole encode against the input at the join frames: median {np.median(base[joins]):.1f}"
          f" dB, min {np.min(base[joins]):.1f} dB; elsewhere: median "
          f"{np.median(np.delete(base, joins)):.1f} dB")
    print(f"{'pre':>4}{'agree':>7}{'joined vs whole: SNR at joins':>31}{'elsewhere':>11}"
          f"{'max |dev| joins':>16}{'anywhere':>9}{'vs input: at joins':>20}{'elsewhere':>11}{'own vs joined':>15}")
    at = np.array(joins)
    for pre in pres:
        made = pieces(pcm, joins, pre, bitrate)
        stream = [packet for keep, _, _ in made for packet in keep]
        joined = _decode(stream)[FRAME:FRAME + len(pcm)]
        agree = sum(windows(a[2]["last"]) == windows(b[2]["pre"])
                    and windows(a[2]["post"]) == windows(b[2]["first"])
                    for a, b in pairwise(made))
        own = np.concatenate([piece for _, piece, _ in made])[:len(pcm)]
        vs_whole, vs_input = snr(whole, joined), snr(source, joined)
        others = np.setdiff1d(np.arange(len(vs_whole)), at)
        own_error = _worst(own - joined, joins)
        print(f"{pre:>4}{agree:>4}/{len(joins):<2}{np.median(vs_whole[at]):>22.1f} "
              f"(min {np.min(vs_whole[at]):5.1f}){np.median(vs_whole[others]):>11.1f}"
              f"{_worst(joined - whole, joins) * 32768:>16.0f}"
              f"{np.max(np.abs(joined - whole)) * 32768:>9.0f}"
              f"{np.median(vs_input[at]):>13.1f} (min {np.min(vs_input[at]):4.1f})"
              f"{np.median(vs_input[others]):>8.1f}{own_error * 32768:>15.0f}")
    print("SNR: median over frames (dB); max |dev| and own vs joined: 16-bit steps")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between joins")
    parser.add_argument("--pre", type=int, nargs="+", default=[1, 2, 4, 8],
                        help="frames of pre-roll and post-roll")
    parser.add_argument("--bitrate", default="128k")
    parser.add_argument("--audio", type=Path, help="a rendered soundtrack instead of the synthetic one")
    args = parser.parse_args()
    pcm = (pcm16(read_clip(args.audio))[:int(args.seconds * SAMPLE_RATE)] if args.audio
           else signal(args.seconds))
    report(pcm, args.every, args.pre, args.bitrate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
