"""A segment's frames piped as raw yuv420p into an ffmpeg encode: only the frames that differ go
through the pipe, and ffmpeg repeats each until the next one (x264 still gets every frame)."""

from __future__ import annotations

import errno
import os
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import cache
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
        writer = FrameWriter(process.stdin)
        try:
            frame: Planes | None = None
            for frame in frames:
                writer.write(frame)
            if repeat_last and frame is not None:
                writer.write(frame)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit code and messages say why
        except BaseException:
            process.kill()  # not waiting on an encoder that waits for more frames
            raise
        finally:
            process.stdin.close()
            code = process.wait()
            writer.release()  # ffmpeg is gone: nothing reads the frames' pages any more
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


class FrameWriter:
    """Writes frames' planes into a pipe. On Linux their pages are handed to the pipe (vmsplice)
    instead of copied into it, and the reader copies them out of this process's memory: for a
    moving 720p cut that is about 0.1 s less CPU in each process per 600 frames (a frame's
    copy, 1.4 MB, costs more than lending its 340 pages). So every frame is held (and must not
    change: frames are read-only once made) until as many bytes as the pipe holds have been
    written after it, which the reader must have taken first; the rest until `release`, once
    the reader is gone. Elsewhere, or where the call is refused, frames are copied (`write`)."""

    def __init__(self, pipe: BinaryIO):
        self.pipe = pipe
        self.capacity = _capacity(pipe)
        self.lend = _vmsplice() if self.capacity else None
        self.written = 0  # bytes lent so far
        self.held: deque[tuple[Planes, int]] = deque()  # frames, and `written` once each was in

    def write(self, planes: Planes) -> None:
        if self.lend is not None and not _lent(self.lend, self.pipe.fileno(), planes):
            self.lend = None  # refused (a sandbox's filter, an old kernel): copy from now on
        if self.lend is None:
            write_planes(self.pipe, planes)
            return
        self.written += sum(plane.nbytes for plane in planes)
        # The pipe's size as it is now (its reader may have widened it since).
        self.capacity = max(self.capacity or 0, _capacity(self.pipe) or 0)
        while self.held and self.written - self.held[0][1] >= self.capacity:
            self.held.popleft()
        self.held.append((planes, self.written))

    def release(self) -> None:
        """Let go of the frames (call once nothing reads the pipe any more)."""
        self.held.clear()


def _capacity(pipe: BinaryIO) -> int | None:
    try:
        import fcntl

        return fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ)
    except (ImportError, AttributeError, OSError, ValueError):
        return None


@cache
def _vmsplice() -> Callable[..., int] | None:
    """libc's vmsplice(2) through ctypes (which lets go of the GIL while it waits), or None."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).vmsplice
    except (AttributeError, OSError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]
    call.restype = ctypes.c_ssize_t
    return call


def _lent(vmsplice: Callable[..., int], fd: int, planes: Planes) -> bool:
    """Hand all of the planes' bytes to the pipe `fd`; False (nothing handed) when the call is
    refused outright. BrokenPipeError when the reader has gone, as a write would raise; a
    BackendError when the call fails halfway through a frame. The reader must copy the bytes
    out (read(2), as ffmpeg does), not splice them on."""
    import ctypes

    if not all(plane.flags.c_contiguous for plane in planes):
        raise ValueError("frame planes must be C-contiguous")
    pieces = [(plane.ctypes.data, plane.nbytes) for plane in planes]
    sent = 0
    while pieces:
        vectors = (ctypes.c_size_t * (2 * len(pieces)))(*(n for piece in pieces for n in piece))
        done = vmsplice(fd, vectors, len(pieces), 0)
        if done < 0:
            code = ctypes.get_errno()
            if code == errno.EINTR:
                continue  # a signal: its handler runs when this returns to Python
            if code == errno.EPIPE:
                raise BrokenPipeError(code, os.strerror(code))
            if sent == 0:
                return False  # refused (ENOSYS, EPERM, EINVAL, …): the frame goes by write()
            raise BackendError("video=ffmpeg", "handing a frame to ffmpeg failed after "
                               f"{sent} bytes: {os.strerror(code)}")
        sent += done
        while pieces and done >= pieces[0][1]:
            done -= pieces.pop(0)[1]
        if done:
            pieces[0] = (pieces[0][0] + done, pieces[0][1] - done)
    return True
