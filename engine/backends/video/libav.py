"""PyAV's libavcodec in this process (it encodes the segments and the narration's pieces): its
version, the messages it gives when it refuses, and a heap that makes x264's bytes repeatable."""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@functools.cache
def libav_version() -> str:
    """PyAV's and its libavcodec's versions: they encode (and shape the bytes of) what is made
    in this process."""
    import av

    major, minor, micro = av.library_versions["libavcodec"]
    return f"pyav {av.__version__}, libavcodec {major}.{minor}.{micro}"


_level_lock = threading.Lock()
_listening = 0
_before: tuple[int | None, bool] = (None, True)
_elsewhere: Any = None


@contextmanager
def libav_messages() -> Iterator[list[tuple[int, str, str]]]:
    """libavcodec's error messages in this thread while the block runs: the reason an encoder
    gives for refusing to open or to encode.

    PyAV drops libav's messages unless a level is set, and then sends them to Python's logging
    (the console); so while any thread listens, the level is ERROR, every message is kept (not
    only the first of a repeated one) and messages from threads that do not listen (a decoder
    in the narration's thread, x264's own threads) go nowhere, as they did before."""
    import av.logging

    global _listening, _before, _elsewhere
    with _level_lock:
        if _listening == 0:
            _before = (av.logging.get_level(), av.logging.get_skip_repeated())
            _elsewhere = av.logging.Capture(local=False)
            _elsewhere.__enter__()
            av.logging.set_skip_repeated(False)
            av.logging.set_level(av.logging.ERROR)
        _listening += 1
    try:
        with av.logging.Capture(local=True) as messages:
            yield messages
    finally:
        with _level_lock:
            _listening -= 1
            if _listening == 0:
                av.logging.set_level(_before[0])
                av.logging.set_skip_repeated(_before[1])
                _elsewhere.__exit__(None, None, None)
                _elsewhere = None


def libav_reason(messages: list[tuple[int, str, str]], error: Exception) -> str:
    """What libav said in this thread, else the error without PyAV's "last error log" (which
    is the whole process's, so maybe another thread's)."""
    said = "; ".join(text.strip() for _, _, text in messages if text.strip())
    return said or str(error).split("; last error log:")[0]


PERTURB_BYTE = 0xA5
"""What glibc fills the memory it hands out with while an encoder runs (`repeatable_heap`)."""
M_PERTURB = -6
"""glibc's mallopt(3) parameter for that fill."""
_heap_lock = threading.Lock()
_encoding = 0


@contextmanager
def repeatable_heap() -> Iterator[None]:
    """While the block runs (in any thread), memory malloc hands out is filled with one byte.

    x264 (with B-frames and its lookahead) reads some memory it allocated and never wrote,
    and its bytes depend on what was there: in fresh processes under MALLOC_PERTURB_ 1 and 200
    one segment encodes to two files (tests/backends/video/test_segment_encoder.py), and a
    scene drawn and encoded again and again in one thread gave 4 to 9 files in 6 to 12 tries
    (benchmarks/RESULTS.md, session 8). An ffmpeg process starts with a heap whose garbage
    follows from its inputs, so its output repeats; in this process the garbage is whatever
    earlier work left. Filled memory makes the bytes repeat.
    glibc's mallopt(M_PERTURB) does it (it also fills freed memory, which costs a memset per
    large allocation, so it is on only while an encoder is; blocks of up to 1032 bytes from
    its per-thread cache are not filled, x264's buffers are far larger); with another C
    library nothing changes, and the bytes may not repeat (docs/backends.md)."""
    global _encoding
    perturb = _mallopt()
    with _heap_lock:
        if _encoding == 0 and perturb is not None:
            perturb(M_PERTURB, PERTURB_BYTE)
        _encoding += 1
    try:
        yield
    finally:
        with _heap_lock:
            _encoding -= 1
            if _encoding == 0 and perturb is not None:
                perturb(M_PERTURB, _perturb_at_start())


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's mallopt, or None (another C library)."""
    try:
        call = ctypes.CDLL(None).mallopt
        gnu = ctypes.CDLL(None).gnu_get_libc_version
    except (AttributeError, OSError):
        return None
    del gnu  # present only in glibc, whose mallopt knows M_PERTURB
    call.argtypes, call.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return call


def _perturb_at_start() -> int:
    """The fill glibc was started with (MALLOC_PERTURB_), which the block gives back."""
    try:
        return int(os.environ.get("MALLOC_PERTURB_", "0")) & 0xFF
    except ValueError:
        return 0
