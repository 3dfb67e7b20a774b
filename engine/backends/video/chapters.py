"""MP4 chapters: one per scene, from its first frame, named by its `title:` (else its name),
as an ffmetadata file the final mux reads (`-map_chapters`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

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
