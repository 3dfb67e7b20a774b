"""Cross-process flocks: exclusive locks, marks of live runs, and work folders in shared use."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.leases import (HEARTBEAT, FsClock, Lease, break_stale, judge, lease_seconds,
                           new_lease_file)

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

def mark_run(folder: Path, owner: object) -> Lease | None:
    """Put a live mark in `folder` until `owner` is collected (or the process dies): a lease
    file naming this machine and process and when it began to use what the folder belongs to.
    None where the folder cannot be written (a shared read-only cache, which nobody here prunes)."""
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, temp = new_lease_file(folder, ".")
        except OSError as error:
            if error.errno in UNWRITABLE:
                return None
            raise
        path = folder / f"{os.getpid()}-{temp.name[1:]}"
        try:
            os.rename(temp, path)
            break
        except FileNotFoundError:  # a gc took it for dead in the instant before the flock
            HEARTBEAT.discard(fd)
            os.close(fd)
    HEARTBEAT.add(fd, path, lease_seconds())
    mark = Lease(path, fd, os.getpid())
    weakref.finalize(owner, mark.release)
    return mark


def live_marks(folder: Path) -> tuple[list[float], int]:
    """When each live mark in `folder` began, and how many dead ones were removed: those of
    processes gone on this machine, and those whose lease expired on another."""
    starts: list[float] = []
    removed = 0
    if not folder.is_dir():
        return starts, removed
    clock = FsClock(folder)
    for path in folder.iterdir():
        if path.name.startswith(".clock."):
            continue
        try:
            verdict = judge(path, clock)
        except PermissionError:  # another user's run: count it as live
            starts.append(path.stat().st_mtime)
            continue
        if verdict is None:  # its run just ended
            continue
        fd, holder, alive = verdict
        try:
            if alive:
                starts.append(holder.started if holder else os.fstat(fd).st_mtime)
            elif break_stale(path, fd):
                removed += 1
        finally:
            os.close(fd)
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
