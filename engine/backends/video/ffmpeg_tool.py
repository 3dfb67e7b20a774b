"""The ffmpeg binary: where it is, its version, and running it with one clear error."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from engine.errors import BackendError, MissingDependency

_NO_VERSIONS = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
BITEXACT = [*_NO_VERSIONS, "-map_metadata", "-1", "-map_chapters", "-1"]
"""Bytes that depend on nothing but the inputs: no encoder/muxer version strings or dates."""
AAC_CODER = "fast"
"""libavcodec `aac`'s quantiser search for the narration. Its default, `twoloop`, smears a
voice's onset after quiet at 128 kb/s mono: errors of a third of full scale in the 20 ms around
it, the decode peaking up to 2 dB over the mix. `fast` kept every loud frame of the example
stories above 15 dB SNR (twoloop: 36 of 5652 under it, 336 under 20 dB), at a third of the CPU
(benchmarks/RESULTS.md, "The narration's AAC coder")."""


def bitexact(chapters_from: int) -> list[str]:
    """BITEXACT, with the chapters of input number `chapters_from` (`chapters.chapter_input`) and
    their titles (`-map_metadata -1` would drop chapters' metadata too: the file's and the
    streams' are dropped one by one)."""
    return [*_NO_VERSIONS, "-map_metadata:g", "-1", "-map_metadata:s", "-1",
            "-map_chapters", str(chapters_from)]


@cache
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as error:
        raise MissingDependency("video=ffmpeg", "imageio-ffmpeg (the ffmpeg binary)",
                                "pip install imageio-ffmpeg") from error
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as error:  # the wheel for another platform, or its binary deleted
        raise MissingDependency("video=ffmpeg", f"an ffmpeg binary ({error})",
                                "pip install --force-reinstall imageio-ffmpeg") from error


@cache
def ffmpeg_version() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_version())


def run_ffmpeg(command: list[str], backend: str, what: str, *, output: Path | None = None,
               stdin: bytes | None = None) -> bytes:
    """ffmpeg's stdout; on failure `output` removed and one BackendError saying `what` failed."""
    done = subprocess.run(command, input=stdin, stdin=None if stdin else subprocess.DEVNULL,
                          capture_output=True, check=False)
    if done.returncode != 0:
        if output is not None:
            output.unlink(missing_ok=True)
        raise BackendError(backend, f"{what} failed (ffmpeg {ffmpeg_version()}, exit "
                           f"{done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()[-800:]}")
    return done.stdout
