"""Atomic file writes: nothing half-written ever sits where a finished file belongs."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def public_mode() -> int:
    """The mode a plain `open()` would give a new file (mkstemp's is owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def reserve_beside(path: Path, mode: int | None = None) -> Path:
    """An empty temp file in `path`'s folder (its name begins with '.', which marks scratch), with
    `mode` (default: what `open()` would give), for a program or library to write before it is
    renamed over `path`."""
    fd, name = _reserve(path, mode)
    os.close(fd)
    return Path(name)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """`with replacing(path) as temp:` write `temp` (ffmpeg, safetensors, ...); it is renamed
    over `path` when the block ends without error, and removed otherwise, so nothing
    half-written ever sits at `path`."""
    temp = reserve_beside(path)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _reserve(path: Path, mode: int | None) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as error:  # named after the file being written, not the temp file beside it
        raise OSError(error.errno, error.strerror, str(path)) from error
    os.fchmod(fd, public_mode() if mode is None else mode)
    return fd, name


def _temp_beside(path: Path, data: bytes | str, mode: int) -> Path:
    """A fsynced temp file holding `data` in `path`'s folder, with `mode`."""
    fd, name = _reserve(path, mode)
    try:
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

    A file that exists keeps its permissions; a new one gets the ones `open()` would give. A
    symbolic link stays one: the file it points at is replaced.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    mode = target.stat().st_mode & 0o7777 if target.exists() else public_mode()
    temp = _temp_beside(target, data, mode)
    try:
        os.replace(temp, target)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def refuse_read_only(path: Path) -> None:
    """PermissionError, as `open(path, "w")` would raise, for a user's file whose mode forbids
    writing it (`chmod a-w`): a command that rewrites a story (`fmt`, `fill --write`) leaves it
    alone instead of replacing it with a new, writable file."""
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


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
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename in (str(temp), temp):
            raise OSError(error.errno, error.strerror, str(path)) from error
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


_WHY = {
    errno.EACCES: ("permission denied", "give yourself write access there"),
    errno.EPERM: ("not permitted", "give yourself write access there"),
    errno.EROFS: ("read-only file system", "use a folder on a writable disk"),
    errno.ENOSPC: ("no space left on the device",
                   "free some space (`storyreel cache gc` drops unused cache entries)"),
    errno.EDQUOT: ("disk quota exceeded",
                   "free some space (`storyreel cache gc` drops unused cache entries)"),
    errno.ENOTDIR: ("a file is in the way where a folder is needed", "move that file"),
    errno.EEXIST: ("a file is in the way where a folder is needed", "move that file"),
    errno.EISDIR: ("a folder is in the way where a file is needed", "move that folder"),
    errno.ENOENT: ("no such file or folder", "check the path"),
}


def kept_arrays(path: Path, names: Sequence[str] | None = None) -> dict[str, Any] | None:
    """The numpy arrays kept at `path` by `keep_arrays` (only those `names`, when given: the
    others are not read), the file's time touched (its last use, for whoever cleans its folder);
    None when it is not there or unreadable."""
    import zipfile

    import numpy as np

    try:
        with np.load(path) as kept:
            arrays = {name: kept[name] for name in (kept.files if names is None else names)}
        os.utime(path)
        return arrays
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def keep_arrays(path: Path, **arrays: Any) -> None:
    """`arrays` kept at `path` as one .npz file, written atomically."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, buffer.getvalue())


def explain_os_error(error: OSError, places: dict[Path, tuple[str, str]] | None = None) -> str:
    """One line for a failed file operation: the path, what went wrong, what to do.

    `places` maps folders to (what the folder is, how to choose another): a path inside one is
    named with it, "/x/video.mp4 (in the run folder /x): …, or choose another: hydra.run.dir=PATH".
    """
    why, fix = _WHY.get(error.errno or 0, (error.strerror or type(error).__name__, ""))
    path = error.filename if error.filename is not None else error.filename2
    if path is None:
        return f"{why}; {fix}" if fix else why
    where, choose = f"{path}", ""
    absolute = Path(os.path.abspath(path))
    for folder, (what, another) in (places or {}).items():
        if absolute == folder or folder in absolute.parents or absolute in folder.parents:
            where = f"{what} {folder}" if absolute == folder else \
                f"{path} (in {what} {folder})" if folder in absolute.parents else \
                f"{path} (on the way to {what} {folder})"
            choose = another
            break
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        blocking = _file_in_the_way(absolute)
        if blocking is not None:
            why, fix = f"{blocking} is a file, where a folder is needed", "move it"
    todo = " or ".join(filter(None, (fix, choose)))
    return f"{where}: {why}; {todo}" if todo else f"{where}: {why}"


def quiet_broken_pipe() -> int:
    """The exit status after stdout's reader went away (`storyreel cache info | head -2`): 141,
    as a program killed by SIGPIPE, with nothing more written (stdout now goes nowhere, so
    Python's flush at exit cannot fail loudly either)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return 141


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest of `path` and its parents that exists and is not a folder."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """A file's sha256, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def find_root(story_file: str | Path) -> Path:
    """The story repository: the nearest folder holding `.git` at or above the file (or folder),
    else the file's own folder."""
    path = Path(os.path.abspath(story_file))
    folder = path if path.is_dir() else path.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder
