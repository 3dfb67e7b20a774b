"""A segment's frames encoded into an mp4 in this process by PyAV's libavcodec (libx264 or
h264_nvenc): no encoder process to start per scene and no pipe between us and the encoder.

The encoder gets every frame of the scene; a picture that holds (a still scene between caption
changes) is one frame handed over again with the next frame number, never drawn or copied again.
libavcodec lets go of the GIL while it encodes, so several segments encode at once on threads.
"""

from __future__ import annotations

import errno
import fractions
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.backends.video.libav import libav_messages, libav_reason, repeatable_heap
from engine.backends.video.transitions import Planes
from engine.errors import BackendError

if TYPE_CHECKING:
    from av import VideoFrame

BT709 = 1
"""libavutil's number for BT.709 primaries, transfer and matrix alike."""
LIMITED_RANGE = 1
"""AVCOL_RANGE_MPEG: 16-235 luma, as the frames are drawn (`yuv.py`)."""
FULL_OR_LOCKED = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES))
"""Errors writing the segment that are the folder's, not the encoder's."""


def encode_segment(pictures: Iterable[tuple[int, Planes]], frames: int, output: Path, *,
                   codec: str, options: dict[str, str], threads: int, fps: int, width: int,
                   height: int, what: str, where: str, named: Path | None = None) -> None:
    """Encode `frames` frames into the mp4 `output`: each picture of `pictures` (its first frame
    number, its planes, in order, the first at frame 0) shows until the next one's number. A
    BackendError with libavcodec's words when the encoder refuses or fails; an OSError naming
    `named` (the file `output` becomes; else `output`) when the folder is full or locked."""
    import av

    with libav_messages() as messages, repeatable_heap():
        try:
            with av.open(str(output), "w", format="mp4", options={"fflags": "+bitexact"}) as sink:
                stream = sink.add_stream(codec, rate=fps, options=options)
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                context = stream.codec_context
                context.thread_count = threads  # x264's bytes depend on it: fixed, not "auto"
                context.flags |= av.codec.context.Flags.bitexact  # no version strings
                context.color_range = LIMITED_RANGE
                context.colorspace = context.color_primaries = context.color_trc = BT709
                context.time_base = fractions.Fraction(1, fps)
                stream.time_base = fractions.Fraction(1, fps * 512)  # as ffmpeg's mp4 writes it
                for frame_number, frame in _held(pictures, frames, width, height,
                                                 reuse=codec == "libx264"):
                    frame.pts = frame_number
                    for packet in stream.encode(frame):
                        sink.mux(packet)
                for packet in stream.encode(None):
                    sink.mux(packet)
        except av.FFmpegError as error:
            if isinstance(error, OSError) and error.errno in FULL_OR_LOCKED:
                # the folder's fault, not the encoder's: said as any file error is (where, what to do)
                raise OSError(error.errno, os.strerror(error.errno), str(named or output)
                              ) from error
            raise BackendError("video=ffmpeg", f"encoding {what} failed ({codec}): "
                               f"{libav_reason(messages, error)}"[:900], where=where) from error


def _held(pictures: Iterable[tuple[int, Planes]], frames: int, width: int, height: int, *,
          reuse: bool) -> Iterator[tuple[int, VideoFrame]]:
    """Every frame number with the AVFrame that shows then: each picture in an AVFrame, handed
    again while the picture holds. With `reuse`, one AVFrame filled with each picture in turn:
    x264 has copied a frame once `encode` returns, so the next picture may overwrite it (an
    encoder that may keep a reference to it, such as NVENC waiting for a free input surface,
    gets a new AVFrame for each picture)."""
    import av

    frame = views = None
    shown = None
    for start, planes in pictures:
        if shown is not None:
            yield from ((number, frame) for number in range(shown, start))
        if frame is None or not reuse:
            frame = av.VideoFrame(width, height, "yuv420p")
            views = [np.ndarray((plane.height, plane.width), np.uint8, buffer=plane,
                                strides=(plane.line_size, 1)) for plane in frame.planes]
        for view, source in zip(views, planes):
            np.copyto(view, source)
        shown = start
    if shown is not None:
        yield from ((number, frame) for number in range(shown, frames))
