"""A segment's frames piped as raw yuv420p into an ffmpeg encode: only the frames that differ go
through the pipe, and ffmpeg repeats each until the next one (x264 still gets every frame)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from engine.backends.video.transitions import Planes
from engine.errors import BackendError


def timing_filter(starts: Sequence[int], fps: int) -> str:
    """Filters that place the i-th piped frame at frame `starts[i]` and repeat it until the next.

    The frame number is looked up by bisection (`if(lt(N,mid),…,…)`), so the expression nests
    only log₂(len(starts)) deep: ffmpeg refuses expressions nested about 100 deep.
    """
    def lookup(low: int, high: int) -> str:
        if high - low == 1:
            return str(starts[low])
        middle = (low + high) // 2
        return f"if(lt(N\\,{middle})\\,{lookup(low, middle)}\\,{lookup(middle, high)})"

    return f"setpts={lookup(0, len(starts))},fps=fps={fps}:round=near,"


def encode_piped(command: Sequence[str], frames: Iterable[Planes], repeat_last: bool,
                 output: Path, what: str, where: str) -> None:
    """Run `command` (an ffmpeg reading raw frames on stdin) with `output` as its last argument,
    writing `frames` to it; with `repeat_last`, the last frame goes twice (the fps filter of
    `timing_filter` drops the last frame it gets). BackendError with ffmpeg's words on failure."""
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([*command, str(output)], stdin=subprocess.PIPE,
                                   stdout=devnull, stderr=errors, bufsize=0)
        assert process.stdin is not None
        widen(process.stdin)
        try:
            frame: Planes | None = None
            for frame in frames:
                write_planes(process.stdin, frame)
            if repeat_last and frame is not None:
                write_planes(process.stdin, frame)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit code and messages say why
        except BaseException:
            process.kill()  # not waiting on an encoder that waits for more frames
            raise
        finally:
            process.stdin.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            raise BackendError("video=ffmpeg", f"encoding {what} failed (ffmpeg exit {code}): "
                               f"{errors.read().decode(errors='replace').strip()[-800:]}",
                               where=where)


PIPE_BYTES = 1 << 20
"""How much a frame pipe holds: a 720p frame (1.4 MB) crosses Linux's default 64 KiB pipe in 22
hand-overs to the reader, a 1 MiB one in two (a moving 720p cut: 2-3 % less CPU in all)."""


def widen(pipe: BinaryIO) -> None:
    """Let `pipe` hold PIPE_BYTES (Linux; as much as the system allows, else left as it is)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or over /proc/sys/fs/pipe-max-size for this user: the default pipe


def write_planes(pipe: BinaryIO, planes: Planes) -> None:
    """Write a frame's planes straight from their arrays (no joined copy)."""
    for plane in planes:
        view = memoryview(plane).cast("B")
        while view:
            view = view[pipe.write(view):]
