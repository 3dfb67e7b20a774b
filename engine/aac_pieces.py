"""The narration's AAC from pieces that begin and end in silence, each encoded on its own and kept
by its samples, so that an edit encodes only the pieces whose sound changed.

An AAC-LC packet carries 1024 samples, and its transform overlaps the next packet's. A piece whose
first two and last two frames are digital silence encodes (ffmpeg's `aac`) to packets that start
and end with silent packets decoding to exact zeros, so the packets of pieces encoded one by one
join with nothing at the join: the joined stream decodes to the pieces' own decodes back to back,
to the sample (tests/test_aac_pieces.py). Each piece starts on the whole track's 1024-sample grid;
its encoder's priming packet (silence) is dropped, except a first piece that does not begin in
silence (the track's edit list then skips the priming, as ffmpeg writes it).
"""

from __future__ import annotations

import fractions
import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.backends.video.libav import libav_version
from engine.errors import stop_if
from engine.files import keep_arrays, kept_arrays, replacing
from engine.loudness import Loudness, gated_loudness, k_energy
from engine.mix import SAMPLE_RATE
from engine.peaks import peak_grains

FRAME = 1024
"""Samples in an AAC-LC frame."""
EDGE = 2 * FRAME
"""Silent samples a piece begins and ends with for its packets to join cleanly."""
GRAIN = 64
"""Samples the decoded loudness sums are kept at: divides a frame and the gating blocks' step."""
VERSION = 3  # 2: AAC_CODER; 3: the decode's peaks by GRAIN
"""Bumped when a piece is encoded or measured differently."""


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece encoded: its 16-bit samples, its packets (ADTS frames, one per frame of `pcm`, the
    priming one first when `primed`), and its decode as a meter reads it (K-weighted energy per
    GRAIN, linear true peak, and the highest true peak in each GRAIN: where it is)."""

    pcm: np.ndarray
    packets: tuple[bytes, ...]
    primed: bool
    energy: np.ndarray
    peak: float
    peaks: np.ndarray


def encoded(sound: Callable[[], np.ndarray], primed: bool, bitrate: str,
            path: Path) -> tuple[Piece, bool]:
    """The piece kept at `path` (named by `piece_path`), else `sound()` encoded, decoded, measured
    and kept there; True when encoded now. The sound is 16-bit samples, a whole number of frames
    that begins (unless `primed`) and ends with EDGE zeros."""
    kept = kept_arrays(path)
    if kept is not None:
        return Piece(kept["pcm"], tuple(_frames(kept["adts"].tobytes())), primed, kept["energy"],
                     float(kept["peak"]), kept["peaks"]), False
    pcm = sound()
    packets = _encode(pcm, bitrate)
    if not primed:
        packets = packets[1:]  # the priming packet: silence, as the piece begins
    heard = _decode(packets)[FRAME if primed else 0:][:len(pcm)]
    peaks = peak_grains(heard, GRAIN)
    piece = Piece(pcm, tuple(packets), primed, k_energy(heard, SAMPLE_RATE, GRAIN),
                  float(np.max(peaks, initial=0.0)), peaks)
    keep_arrays(path, pcm=pcm, adts=np.frombuffer(b"".join(packets), dtype=np.uint8),
                energy=piece.energy, peak=piece.peak, peaks=peaks)
    return piece, True


def piece_path(workdir: Path, key: dict[str, object]) -> Path:
    """Where the piece made from what `key` names is kept (the encoder's version added)."""
    named = {**key, "version": VERSION, "encoder": libav_version()}
    digest = hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()
    return workdir / f"aacp-{digest[:32]}.npz"


def encode_all(jobs: Sequence[tuple[Callable[[], np.ndarray], bool, str, Path]],
               stop: threading.Event | None = None) -> list[tuple[Piece, bool]]:
    """`encoded` for each job, the encodes side by side (a thread a core: libavcodec lets go of
    the GIL while it encodes); Stopped before the next piece once `stop` is set."""
    def one(job: tuple[Callable[[], np.ndarray], bool, str, Path]) -> tuple[Piece, bool]:
        stop_if(stop)
        return encoded(*job)

    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, jobs))


def heard(placed: Sequence[tuple[int, Piece]]) -> Loudness:
    """What a meter reads in the joined stream: the pieces' decodes, silence between them."""
    level = gated_loudness(_spread(placed), GRAIN, SAMPLE_RATE)
    peak = max((piece.peak for _, piece in placed), default=0.0)
    return Loudness(level, 20 * np.log10(peak) if peak > 0 else -np.inf)


def _spread(placed: Sequence[tuple[int, Piece]]) -> np.ndarray:
    """The pieces' energy sums at their places on the track, zeros between them."""
    end = max(start + len(piece.pcm) for start, piece in placed)
    energy = np.zeros(-(-end // GRAIN))
    for start, piece in placed:
        first = start // GRAIN
        energy[first:first + len(piece.energy)] = piece.energy
    return energy


def write_m4a(placed: Sequence[tuple[int, Piece]], total: int, out_path: Path) -> Path:
    """The pieces' packets at their places (frame-aligned starts, `placed` in order), silent
    packets between them, as an .m4a `total` samples long."""
    import av

    packets: list[bytes] = []
    for index, (start, piece) in enumerate(placed):
        if start != len(packets) * FRAME:
            raise ValueError(f"a piece at sample {start} overlaps or leaves a gap")
        packets.extend(piece.packets[1:] if piece.primed else piece.packets)
        following = placed[index + 1][0] if index + 1 < len(placed) else len(packets) * FRAME
        packets.extend([piece.packets[-1]] * ((following - len(packets) * FRAME) // FRAME))
    primed = placed[0][1].primed
    stream = list(placed[0][1].packets[:1] if primed else ()) + packets
    with replacing(out_path) as temp, \
            av.open(io.BytesIO(b"".join(stream)), format="aac") as source, \
            av.open(str(temp), "w", format="mp4", options={"fflags": "+bitexact"}) as sink:
        audio = source.streams.audio[0]
        out = sink.add_stream_from_template(audio)
        offset = -FRAME if primed else 0
        for index, packet in enumerate(p for p in source.demux(audio) if p.size):
            at = offset + index * FRAME
            if at >= total:
                break  # the last piece's padding: past the track's end
            packet.stream, packet.time_base = out, fractions.Fraction(1, SAMPLE_RATE)
            packet.pts = packet.dts = at
            packet.duration = min(FRAME, total - at)
            sink.mux(packet)
    return out_path


def _encode(pcm: np.ndarray, bitrate: str, coder: str | None = None) -> list[bytes]:
    """The 16-bit samples as ADTS frames by libavcodec's `aac` in this process (PyAV): the bytes
    `ffmpeg -f s16le -i - -c:a aac -b:a … -aac_coder fast -aac_pns 0 -f adts` writes, without
    its start-up (`coder`: another `aac_coder` than AAC_CODER, for benchmarks/aac_coder.py)."""
    import av

    from engine.backends.video.ffmpeg_tool import AAC_CODER
    from engine.backends.video.libav import libav_messages, libav_reason
    from engine.errors import BackendError

    context = av.CodecContext.create("aac", "w")
    context.sample_rate, context.layout, context.format = SAMPLE_RATE, "mono", "fltp"
    context.time_base = fractions.Fraction(1, SAMPLE_RATE)
    context.flags |= av.codec.context.Flags.bitexact
    context.options = {"b": bitrate, "aac_coder": coder or AAC_CODER, "aac_pns": "0"}
    samples = (pcm.astype(np.float32) / 32768).reshape(1, -1)  # as ffmpeg converts s16 to fltp
    packets: list[bytes] = []
    with libav_messages() as messages:  # its own words, not another thread's last error
        try:
            context.open()
            for start in range(0, samples.shape[1], FRAME):
                frame = av.AudioFrame.from_ndarray(samples[:, start:start + FRAME],
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts = SAMPLE_RATE, start
                frame.time_base = context.time_base
                packets += [_adts(bytes(packet)) for packet in context.encode(frame)]
            packets += [_adts(bytes(packet)) for packet in context.encode(None)]
        except av.FFmpegError as error:
            raise BackendError("video=ffmpeg", "encoding the narration failed: "
                               f"{libav_reason(messages, error)}") from error
    return packets


def _adts(payload: bytes) -> bytes:
    """An AAC-LC 48 kHz mono packet with the 7-byte ADTS header ffmpeg's adts muxer gives it."""
    size = len(payload) + 7
    return bytes([0xFF, 0xF1, (1 << 6) | (3 << 2), (1 << 6) | (size >> 11 & 3), size >> 3 & 0xFF,
                  (size & 7) << 5 | 0x1F, 0xFC]) + payload


def _frames(adts: bytes) -> list[bytes]:
    """ADTS frames, split at their headers' lengths."""
    frames, at = [], 0
    while at + 7 <= len(adts):
        length = ((adts[at + 3] & 3) << 11) | (adts[at + 4] << 3) | (adts[at + 5] >> 5)
        if adts[at] != 0xFF or length < 7:
            raise ValueError("not an ADTS stream")
        frames.append(adts[at:at + length])
        at += length
    return frames


def _decode(packets: Sequence[bytes]) -> np.ndarray:
    import av

    with av.open(io.BytesIO(b"".join(packets)), format="aac") as container:
        chunks = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
