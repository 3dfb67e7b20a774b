"""MP4 chapters: one per scene, from its first frame, named by its `title:` (else its name),
as an ffmetadata file the final mux reads (`-map_chapters`), and their track's language."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from engine.backends.video import Segment
from engine.files import write_atomically


def chapter_title(segment: Segment) -> str:
    """The chapter's name: the scene's `title:`, else its name (as the storyboard shows it)."""
    return " ".join((segment.title or "").split()) or segment.scene_id


def ffmetadata(segments: Sequence[Segment], fps: int) -> str:
    """The chapters in ffmpeg's metadata format, timed in frames: each scene's begins where its
    segment begins in the video (the frames before it) and ends where the next begins."""
    lines, first = [";FFMETADATA1"], 0
    for segment in segments:
        lines += ["[CHAPTER]", f"TIMEBASE=1/{fps}", f"START={first}",
                  f"END={first + segment.frames}", f"title={_escape(chapter_title(segment))}"]
        first += segment.frames
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    """A value as ffmetadata reads it: `=`, `;`, `#`, `\\` and line ends after a backslash."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def chapter_input(segments: Sequence[Segment], fps: int, folder: Path) -> list[str]:
    """ffmpeg's arguments for the chapters as one more input (`-i folder/chapters.txt`)."""
    path = write_atomically(folder / "chapters.txt", ffmetadata(segments, fps))
    return ["-f", "ffmetadata", "-i", str(path)]


def tag_chapter_track(video: Path, language: str) -> bool:
    """Set the language of the MP4's chapter track (`chap`-referenced) to `language` (ISO 639-2/T,
    `und` when unknown), in place: ffmpeg leaves its media header's code 0, which readers take
    for English. Two bytes change, nothing moves. Whether a chapter track was found."""
    code = _packed(language)
    with open(video, "r+b") as handle:
        moov = _child(handle, 0, video.stat().st_size, b"moov")
        if moov is None:
            return False
        traks = list(_children(handle, *moov, b"trak"))
        chapters = {number for trak in traks for number in _chap_references(handle, trak)}
        found = False
        for trak in traks:
            if _track_id(handle, trak) not in chapters:
                continue
            mdia = _child(handle, *trak, b"mdia")
            mdhd = mdia and _child(handle, *mdia, b"mdhd")
            if mdhd:
                handle.seek(mdhd[0])
                version = handle.read(1)[0]
                handle.seek(mdhd[0] + (32 if version == 1 else 20))
                handle.write(struct.pack(">H", code))
                found = True
        return found


def _packed(language: str) -> int:
    """An ISO 639-2/T code as an MP4 media header packs it (three 5-bit letters)."""
    letters = language.lower() if len(language) == 3 and language.isalpha() else "und"
    return sum((ord(c) - 0x60) << shift for c, shift in zip(letters, (10, 5, 0)))


def _children(handle: BinaryIO, start: int, end: int, kind: bytes
              ) -> Iterator[tuple[int, int]]:
    """(payload start, payload end) of each box of `kind` between `start` and `end`."""
    while start + 8 <= end:
        handle.seek(start)
        size, found = struct.unpack(">I4s", handle.read(8))
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", handle.read(8))[0], 16
        elif size == 0:
            size = end - start
        if size < head:
            return
        if found == kind:
            yield start + head, start + size
        start += size


def _child(handle: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(_children(handle, start, end, kind), None)


def _track_id(handle: BinaryIO, trak: tuple[int, int]) -> int | None:
    tkhd = _child(handle, *trak, b"tkhd")
    if tkhd is None:
        return None
    handle.seek(tkhd[0])
    version = handle.read(1)[0]
    handle.seek(tkhd[0] + (20 if version == 1 else 12))
    return struct.unpack(">I", handle.read(4))[0]


def _chap_references(handle: BinaryIO, trak: tuple[int, int]) -> list[int]:
    tref = _child(handle, *trak, b"tref")
    chap = tref and _child(handle, *tref, b"chap")
    if not chap:
        return []
    handle.seek(chap[0])
    data = handle.read(chap[1] - chap[0])
    return list(struct.unpack(f">{len(data) // 4}I", data[:len(data) // 4 * 4]))
