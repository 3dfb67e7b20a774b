"""The frame pipe: widened where the system allows, frames arriving whole."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from engine.backends.video.pipe import PIPE_BYTES, FrameWriter, widen, write_planes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")
def test_a_frame_pipe_holds_a_mebibyte_where_allowed():
    import fcntl

    limit = int(open("/proc/sys/fs/pipe-max-size").read())
    reader, writer = os.pipe()
    with os.fdopen(reader, "rb") as inlet, os.fdopen(writer, "wb", buffering=0) as outlet:
        before = fcntl.fcntl(outlet.fileno(), fcntl.F_GETPIPE_SZ)
        widen(outlet)
        after = fcntl.fcntl(outlet.fileno(), fcntl.F_GETPIPE_SZ)
        assert after == (PIPE_BYTES if PIPE_BYTES <= limit or os.geteuid() == 0 else before)
        planes = (np.arange(64 * 36, dtype=np.uint8).reshape(36, 64),
                  np.full((18, 32), 7, np.uint8), np.full((18, 32), 9, np.uint8))
        write_planes(outlet, planes)  # fits in the pipe: no reader needed yet
        assert inlet.read(64 * 36 * 3 // 2) == b"".join(p.tobytes() for p in planes)


def test_a_pipe_that_cannot_grow_is_left_as_it_is(tmp_path):
    with open(tmp_path / "plain-file", "wb") as not_a_pipe:
        widen(not_a_pipe)  # F_SETPIPE_SZ fails on a file: nothing raised


def _frame(seed: int, width: int = 1280, height: int = 720):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (height, width), np.uint8),
            rng.integers(0, 256, (height // 2, width // 2), np.uint8),
            rng.integers(0, 256, (height // 2, width // 2), np.uint8))


def _read_all(reader: int, into: list[bytes]) -> None:
    while chunk := os.read(reader, 1 << 16):
        into.append(chunk)


@pytest.mark.parametrize("size", [(1280, 720), (64, 36)])
def test_frames_arrive_whole_though_their_arrays_are_dropped_at_once(size):
    """Lent pages are read after write() returns: the writer holds each frame until the reader
    must have taken it, so arrays dropped (and their memory reused) by the caller stay intact."""
    import threading

    expected = [b"".join(p.tobytes() for p in _frame(k, *size)) for k in range(12)]
    reader, writer = os.pipe()
    received: list[bytes] = []
    with os.fdopen(writer, "wb", buffering=0) as outlet:
        widen(outlet)
        frames = FrameWriter(outlet)
        thread = threading.Thread(target=_read_all, args=(reader, received))
        thread.start()
        for k in range(12):
            frames.write(_frame(k, *size))  # no reference kept here
            scribble = _frame(100 + k, *size)  # new arrays, likely in freed memory
            for plane in scribble:
                plane[:] = 0
        held = len(frames.held)
    thread.join()
    os.close(reader)
    frames.release()
    assert b"".join(received) == b"".join(expected)
    if sys.platform.startswith("linux") and frames.lend is not None and size[0] == 1280:
        assert held <= 2  # a 720p frame is more than the pipe holds: the last one or two


def test_frames_are_copied_where_the_pipe_refuses_lent_pages(monkeypatch):
    from engine.backends.video import pipe

    monkeypatch.setattr(pipe, "_lent", lambda *args: False)
    reader, writer = os.pipe()
    with os.fdopen(reader, "rb") as inlet, os.fdopen(writer, "wb", buffering=0) as outlet:
        frames = FrameWriter(outlet)
        planes = _frame(1, 64, 36)
        frames.write(planes)
        assert frames.lend is None and not frames.held
        assert inlet.read(64 * 36 * 3 // 2) == b"".join(p.tobytes() for p in planes)


def test_a_pipe_whose_reader_is_gone_raises_broken_pipe():
    reader, writer = os.pipe()
    os.close(reader)
    with os.fdopen(writer, "wb", buffering=0) as outlet:
        with pytest.raises(BrokenPipeError):
            FrameWriter(outlet).write(_frame(2, 64, 36))


def test_a_frame_refused_halfway_is_a_backend_error_not_a_traceback():
    import ctypes
    import errno

    from engine.backends.video import pipe
    from engine.errors import BackendError

    calls = []

    def half_then_fault(fd, vectors, count, flags):  # takes some bytes, then fails
        calls.append(count)
        if len(calls) == 1:
            return 100
        ctypes.set_errno(errno.EFAULT)
        return -1

    reader, writer = os.pipe()
    with os.fdopen(reader, "rb"), os.fdopen(writer, "wb", buffering=0) as outlet:
        with pytest.raises(BackendError, match="after 100 bytes"):
            pipe._lent(half_then_fault, outlet.fileno(), _frame(3, 64, 36))
