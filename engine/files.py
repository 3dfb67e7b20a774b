"""Atomic file writes: nothing half-written ever sits where a finished file belongs."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def public_mode() -> int:
    """The mode a plain `open()` would give a new file (mkstemp's is owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _temp_beside(path: Path, data: bytes | str, mode: int) -> Path:
    """A fsynced temp file holding `data` in `path`'s folder, with `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def write_atomically(path: Path, data: bytes | str) -> Path:
    """Replace `path` in one step (temp file beside it, fsync, rename); str is written as UTF-8.

    A file that exists keeps its permissions; a new one gets the ones `open()` would give.
    """
    mode = path.stat().st_mode & 0o7777 if path.exists() else public_mode()
    temp = _temp_beside(path, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def create_exclusively(path: Path, data: bytes | str) -> Path:
    """Write a new file in one step; FileExistsError if one appeared meanwhile (never replaced)."""
    temp = _temp_beside(path, data, public_mode())
    try:
        os.link(temp, path)  # unlike os.replace, a link never replaces an existing file
    finally:
        temp.unlink(missing_ok=True)
    return path


def copy_atomically(source: Path, path: Path) -> None:
    """A copy of `source` at `path`, atomically (so editing the copy never changes the source)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.{os.getpid()}.part"
    temp.unlink(missing_ok=True)
    try:
        shutil.copyfile(source, temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def place_atomically(source: Path, path: Path) -> None:
    """Put a cached file at a final path, atomically: a hard link (instant, no extra space, and it
    outlives a `cache gc`), or a copy where the cache is on another file system. Entry files are
    read-only, so a program cannot change the cache by editing the output in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.{os.getpid()}.part"
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
    except OSError:
        copy_atomically(source, path)
        return
    try:
        os.replace(temp, path)
    finally:
        # rename() between two links of one file does nothing, leaving the temp name behind
        temp.unlink(missing_ok=True)
