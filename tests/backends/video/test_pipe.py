"""The frame pipe: widened where the system allows, frames arriving whole."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from engine.backends.video.pipe import PIPE_BYTES, widen, write_planes


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
