"""Media files a story names (`music:`, `reference:`): readable and of the kind they claim.

A `reference:` may name a folder: every file in it must then be an image.

Probed before a render starts, cheaply and in bounded time: the file's type from `stat` (a FIFO
is never opened: reading one waits forever), then the header (Pillow's `verify` for an image;
PyAV opens the container and decodes its first audio frame, never the whole file).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.dsl.vocabulary import IMAGE_SUFFIXES

PROBE_BYTES = 1 << 20
"""How far FFmpeg may read to find an audio file's streams."""


def problem(path: Path, kind: str, folder: bool = False) -> str | None:
    """Why `path` cannot serve as `kind` ("audio" or "image") media, or None when it can.
    With `folder`, a folder of such files serves too (see `image_folder_problem`)."""
    if folder and kind == "image" and path.is_dir():
        return image_folder_problem(path)
    why = file_problem(path)
    if why is not None:
        return why
    return _probe_audio(path) if kind == "audio" else _probe_image(path)


def file_problem(path: Path) -> str | None:
    """Why `path` is not a file to read (a folder, a FIFO, a device, unreadable), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return f"cannot read it: {error.strerror}"
    if stat.S_ISDIR(mode):
        return "it is a folder, not a file"
    if not stat.S_ISREG(mode):
        return f"it is {_special(mode)}, not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot read it: permission denied"
    return None


def image_folder_problem(folder: Path) -> str | None:
    """Why a folder cannot serve as images: it holds none, or a file in it (hidden files and
    subfolders aside) is not an image by its suffix or does not decode as one."""
    try:
        files = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and not p.is_dir())
    except OSError as error:
        return f"cannot read the folder: {error.strerror}"
    suffixes = ", ".join(IMAGE_SUFFIXES)
    strays = [p.name for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if strays:
        verb = "is not an image" if len(strays) == 1 else "are not images"
        return f"{_names(strays)} in it {verb} ({suffixes})"
    if not files:
        return f"the folder holds no images ({suffixes})"
    for path in files:
        why = problem(path, "image")
        if why is not None:
            return f"'{path.name}' in it: {why}"
    return None


def _names(names: list[str], shown: int = 3) -> str:
    quoted = ", ".join(f"'{n}'" for n in names[:shown])
    return quoted + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _probe_image(path: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except UnidentifiedImageError:
        return "it is not an image Pillow can read (PNG, JPEG, WebP, …)"
    except (OSError, SyntaxError, ValueError) as error:  # Pillow reports broken files so
        return f"the image is damaged: {error}"
    return None


def _probe_audio(path: Path) -> str | None:
    import av

    try:
        with av.open(str(path), options={"probesize": str(PROBE_BYTES)}) as container:
            if not container.streams.audio:
                return "it holds no audio stream"
            next(container.decode(audio=0), None)
    except av.FFmpegError as error:
        return f"it is not audio FFmpeg can read ({_reason(error)})"
    return None


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(":")[0].strip() or type(error).__name__
