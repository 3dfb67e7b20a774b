"""Cross-process flocks: exclusive locks, marks of live runs, and work folders in shared use."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import socket
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

IN_USE = ".in-use.lock"
"""The lock file of a work folder: held shared by each process using the folder."""

UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def acquire(path: Path, wait: bool) -> int | None:
    """A descriptor holding an exclusive flock on the file now at `path` (None: busy, no wait).

    A holder may unlink the file as it lets go; a waiter that then wakes on the unlinked file
    sees the path now names another inode (or none) and locks the file there instead.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def release(fd: int, path: Path) -> None:
    """Unlink a lock file taken with `acquire` and let go of it."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.close(fd)


# ---- marks of live runs -------------------------------------------------------------------------

@dataclass
class RunMark:
    """This process's file in a `runs/` folder, flocked while it lives; its mtime is when the
    process began to use what the folder belongs to."""

    path: Path
    fd: int
    pid: int

    def close(self) -> None:
        if self.fd < 0 or os.getpid() != self.pid:  # a forked child leaves its parent's mark
            return
        release(self.fd, self.path)
        self.fd = -1


def mark_run(folder: Path, owner: object) -> RunMark | None:
    """Put a live mark in `folder` until `owner` is collected (or the process dies); None where
    the folder cannot be written (a shared read-only cache, which nobody here prunes)."""
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".", suffix=".run", dir=folder)
        except OSError as error:
            if error.errno in UNWRITABLE:
                return None
            raise
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        path = folder / f"{os.getpid()}-{Path(temp).name[1:]}"
        try:
            os.rename(temp, path)
            break
        except FileNotFoundError:  # a gc took it for dead in the instant before the flock
            os.close(fd)
    mark = RunMark(path, fd, os.getpid())
    weakref.finalize(owner, mark.close)
    return mark


def live_marks(folder: Path) -> tuple[list[float], int]:
    """The start times (mtimes) of the live marks in `folder`, and how many dead ones (their
    process gone) were removed."""
    starts: list[float] = []
    removed = 0
    if not folder.is_dir():
        return starts, removed
    for path in folder.iterdir():
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:  # its run just ended
            continue
        except PermissionError:  # another user's run: count it as live
            starts.append(path.stat().st_mtime)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            starts.append(os.fstat(fd).st_mtime)
            os.close(fd)
            continue
        release(fd, path)  # nobody holds it: its process died without cleaning up
        removed += 1
    return starts, removed


# ---- work folders -------------------------------------------------------------------------------

def is_scratch(name: str) -> bool:
    """In a work folder, names beginning with '.' are one process's scratch (temp files, temp
    folders); everything else is kept for reuse."""
    return name.startswith(".") and name != IN_USE


def remove_scratch(folder: Path) -> None:
    """Remove every scratch item in `folder` (only while nobody else uses it)."""
    for path in folder.iterdir():
        if not is_scratch(path.name):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextmanager
def work_folder(folder: Path) -> Iterator[Path]:
    """Use `folder` (made if missing) while holding its lock shared, so `cache gc` leaves it
    alone; when no other process uses it, first remove the scratch a killed one left."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / IN_USE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # others use it now: their scratch is alive
        else:
            remove_scratch(folder)
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield folder
    finally:
        os.close(fd)


@contextmanager
def work_folder_alone(folder: Path) -> Iterator[bool]:
    """Hold `folder`'s lock exclusively if nobody uses it now: yields whether it is held."""
    try:
        fd = os.open(folder / IN_USE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        if error.errno in UNWRITABLE:
            yield False
            return
        raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
