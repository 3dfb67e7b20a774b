"""Exclusive flocks, live marks of processes (leases), and work folders in shared use."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.leases import (
    HEARTBEAT,
    FsClock,
    Lease,
    break_stale,
    judge,
    new_lease_file,
    try_flock,
)

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


# ---- marks of live processes -------------------------------------------------------------------

def place_mark(folder: Path, prefix: str) -> Lease:
    """A live mark of this process in `folder`: a lease file named `prefix…` that names this
    machine and process and when it began, flocked while it lives and renewed for other machines."""
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        fd, path = new_lease_file(folder, prefix)
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return Lease(path, fd, os.getpid())
        except FileNotFoundError:  # a gc took it for dead in the instant before its flock
            pass
        HEARTBEAT.discard(fd)
        os.close(fd)


def mark_run(folder: Path, owner: object) -> Lease | None:
    """Put a live mark in `folder` until `owner` is collected (or the process dies); None where
    the folder cannot be written (a shared read-only cache, which nobody here prunes)."""
    try:
        mark = place_mark(folder, f"{os.getpid()}-")
    except OSError as error:
        if error.errno in UNWRITABLE:
            return None
        raise
    weakref.finalize(owner, mark.release)
    return mark


def live_marks(folder: Path, names: str = "*") -> tuple[list[float], int]:
    """When each live mark in `folder` (those matching `names`) began, and how many dead ones
    were removed: those of processes gone on this machine, and those whose lease expired on
    another."""
    starts: list[float] = []
    removed = 0
    if not folder.is_dir():
        return starts, removed
    clock = FsClock(folder)
    for path in folder.glob(names):
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

USERS = ".in-use."
"""Names of a work folder's own files begin so: its lock (`IN_USE`) and the live marks of the
processes using it (`USER_MARKS`), which other machines see."""
USER_MARKS = f"{USERS}*.lease"


def is_scratch(name: str) -> bool:
    """In a work folder, names beginning with '.' are one process's scratch (temp files, temp
    folders); everything else is kept for reuse."""
    return name.startswith(".") and not name.startswith(USERS)


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
    """Use `folder` (made if missing) while holding its lock shared and a live mark in it, so
    `cache gc` on this machine or another leaves it alone; when no other process uses it, first
    remove the scratch a killed one left."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / IN_USE, os.O_RDWR | os.O_CREAT, 0o644)
    mark = place_mark(folder, USERS)
    try:
        alone_here = try_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB) is not False
        if alone_here and len(live_marks(folder, USER_MARKS)[0]) == 1:  # our own mark
            remove_scratch(folder)
        try_flock(fd, fcntl.LOCK_SH)
        yield folder
    finally:
        mark.release()
        os.close(fd)


@contextmanager
def work_folder_alone(folder: Path) -> Iterator[bool]:
    """Hold `folder`'s lock exclusively if no process here or elsewhere uses it now: yields
    whether it is held."""
    try:
        fd = os.open(folder / IN_USE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        if error.errno in UNWRITABLE:
            yield False
            return
        raise
    try:
        if try_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB) is False \
                or live_marks(folder, USER_MARKS)[0]:
            yield False
            return
        yield True
    finally:
        os.close(fd)
