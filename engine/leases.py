"""Leases: lock files and live marks that hold across machines sharing a folder, and expire."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import math
import os
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

HOST_ENV = "STORYREEL_HOST_ID"
"""Names this machine among those sharing a cache (default: its host name)."""
LEASE_ENV = "STORYREEL_LEASE_SECONDS"
"""How long a lease of this process counts after each renewal (default 60)."""
DEFAULT_LEASE = 60.0
RENEWALS_PER_LEASE = 4
NO_FLOCK = (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)
"""flock's answers on a file system that does not lock (an NFS mount with `nolock`)."""


def host_id() -> str:
    return os.environ.get(HOST_ENV, "").strip() or socket.gethostname()


def lease_seconds() -> float:
    """$STORYREEL_LEASE_SECONDS, or the default; ValueError naming the variable if it is bad."""
    text = os.environ.get(LEASE_ENV, "").strip()
    if not text:
        return DEFAULT_LEASE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{LEASE_ENV}={text!r} is not a number of seconds above 0")
    return value


@dataclass(frozen=True, slots=True)
class Holder:
    """What a lease file says: who holds it, how long each renewal counts, since when (by the
    file system's clock)."""

    host: str
    pid: int
    lease: float
    started: float

    def text(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "lease": self.lease,
                           "started": self.started, "token": secrets.token_hex(8)}) + "\n"


def read_holder(fd: int) -> Holder | None:
    """The holder written in the open lease file (None: none written, as in the files that
    plain flocks used)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0))
        return Holder(str(data["host"]), int(data["pid"]), float(data["lease"]),
                      float(data["started"]))
    except (ValueError, KeyError, TypeError):
        return None


def try_flock(fd: int, flags: int) -> bool | None:
    """flock(fd, flags): True when taken, False when someone holds it (with LOCK_NB), None where
    the file system cannot lock."""
    try:
        fcntl.flock(fd, flags)
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno in NO_FLOCK:
            return None
        raise
    return True


def _pid_lives(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FsClock:
    """The time by the file system's clock (its server's, on NFS), in which lease files' mtimes
    are written: read once from a new file's mtime, so machines' clocks need not agree."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._offset: float | None = None

    def now(self) -> float:
        if self._offset is None:
            fd, name = tempfile.mkstemp(prefix=".clock.", dir=self.folder)
            try:
                self._offset = os.fstat(fd).st_mtime - time.time()
            finally:
                os.close(fd)
                Path(name).unlink(missing_ok=True)
        return time.time() + self._offset


def holder_lives(fd: int, holder: Holder | None, clock: FsClock) -> bool:
    """Whether the holder of the open lease file `fd` is alive. On this machine its flock says
    so, at once (or its PID, where nothing locks); a holder on another machine lives while its
    lease runs: renewed less than `lease` seconds ago."""
    if holder is None or holder.host == host_id():
        free = try_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if free:
            fcntl.flock(fd, fcntl.LOCK_UN)
        if free is None:
            return holder is not None and _pid_lives(holder.pid)
        return not free
    return clock.now() - os.fstat(fd).st_mtime <= holder.lease


def break_stale(path: Path, fd: int) -> bool:
    """Remove the lease file at `path` that `fd` is open on and was judged dead. It is renamed
    aside first and removed only if it still is that file; a lease someone took meanwhile is
    put back. True when the dead lease is gone."""
    trash = path.with_name(f".{path.name}.broken-{secrets.token_hex(4)}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return True
    mine, theirs = os.fstat(fd), os.stat(trash)
    if (mine.st_ino, mine.st_dev) == (theirs.st_ino, theirs.st_dev):
        trash.unlink(missing_ok=True)
        log.info("broke the expired lease %s", path)
        return True
    try:
        os.link(trash, path)
    except FileExistsError:
        log.warning("a live lease was lost while breaking a dead one: %s", path)
    trash.unlink(missing_ok=True)
    return False


def judge(path: Path, clock: FsClock) -> tuple[int, Holder | None, bool] | None:
    """(an open descriptor, its holder, whether they live) for the lease file at `path`, or None
    if it is gone; the caller closes the descriptor."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        holder = read_holder(fd)
        return fd, holder, holder_lives(fd, holder, clock)
    except BaseException:
        os.close(fd)
        raise


def sweep_dead(folder: Path) -> int:
    """Remove the lease files in `folder` whose holders are dead; how many went."""
    if not folder.is_dir():
        return 0
    clock, removed = FsClock(folder), 0
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".clock."):
            continue  # another process reading the clock
        verdict = judge(path, clock)
        if verdict is None:
            continue
        fd, _, alive = verdict
        try:
            if not alive and break_stale(path, fd):
                removed += 1
        finally:
            os.close(fd)
    return removed


# ---- holding ------------------------------------------------------------------------------------

class _Heartbeat:
    """One daemon thread per process that renews (touches) every lease file it holds, a few
    times per lease; it stops when none is held and starts again with the next one."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Hold nothing (also in a forked child: the parent's leases are the parent's to renew)."""
        self._lock = threading.Lock()
        self._held: dict[int, tuple[Path, float]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._interval = math.inf

    def add(self, fd: int, path: Path, lease: float) -> None:
        with self._lock:
            self._held[fd] = (path, lease)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="storyreel-leases",
                                                daemon=True)
                self._thread.start()
            elif lease / RENEWALS_PER_LEASE < self._interval:
                self._wake.set()  # renew it sooner than the thread meant to wake

    def discard(self, fd: int) -> None:
        """Stop renewing `fd` (before it is closed: the lock keeps a renewal off a reused fd)."""
        with self._lock:
            self._held.pop(fd, None)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                interval = min(lease for _, lease in self._held.values()) / RENEWALS_PER_LEASE
                self._interval = interval
                for fd, (path, _) in list(self._held.items()):
                    try:
                        os.utime(fd)
                    except OSError as error:
                        log.warning("cannot renew the lease %s: %s", path, error)
            self._wake.wait(interval)
            self._wake.clear()


HEARTBEAT = _Heartbeat()
os.register_at_fork(after_in_child=HEARTBEAT.forget)


@dataclass
class Lease:
    """A lease file this process holds: flocked (for this machine) and renewed (for others)."""

    path: Path
    fd: int
    pid: int

    def release(self) -> None:
        """Unlink the file (if it still is ours) and let go; nothing in a forked child."""
        if self.fd < 0 or os.getpid() != self.pid:
            return
        HEARTBEAT.discard(self.fd)
        try:
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = -1


def new_lease_file(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new file of this process in `folder` under a temp name, flocked, its holder written and
    renewed from now on."""
    path = folder / f"{prefix}{secrets.token_hex(6)}.lease"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lease = lease_seconds()
        holder = Holder(host_id(), os.getpid(), lease, os.fstat(fd).st_mtime)
        os.write(fd, holder.text().encode())
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    HEARTBEAT.add(fd, path, lease)
    return fd, path


def acquire_lease(path: Path, wait: bool) -> Lease | None:
    """Hold the lease file `path` (made by a hard link, which no two machines both win), or None
    when someone alive holds it and `wait` is off. A dead holder's lease is broken: on this
    machine at once, from another once it expires. Waiting for a holder on this machine blocks
    on its flock; for one elsewhere it polls."""
    clock = FsClock(path.parent)
    while True:
        fd, temp = new_lease_file(path.parent, f".{path.name}.")
        claimed: bool | None = False
        try:
            claimed = _contend(temp, path, fd, clock, wait)
        finally:
            temp.unlink(missing_ok=True)
            if not claimed:
                HEARTBEAT.discard(fd)
                os.close(fd)
        if claimed is not None:
            break
    if not claimed:
        return None
    HEARTBEAT.add(fd, path, lease_seconds())
    return Lease(path, fd, os.getpid())


def _contend(temp: Path, path: Path, fd: int, clock: FsClock, wait: bool) -> bool | None:
    """Claim `path` with our file `temp`, dealing with its holder meanwhile: True when it is
    ours, False when someone alive holds it and we do not wait, None when our file went."""
    while (claimed := _claim(temp, path, fd)) is False:
        if not _settle(path, clock, wait):
            return False
    return claimed


def _claim(temp: Path, path: Path, fd: int) -> bool | None:
    """Link our file to `path`: True when it is ours, False when someone else's is there, None
    when our file is gone (taken for dead in the instant before its flock: make another)."""
    try:
        os.link(temp, path)
    except FileExistsError:  # on NFS, also what a retried link that did succeed answers
        return os.fstat(fd).st_nlink == 2
    except FileNotFoundError:
        if path.parent.is_dir():
            return None
        raise
    return True


def _settle(path: Path, clock: FsClock, wait: bool) -> bool:
    """Deal with the holder of `path`: break its lease if it is dead, else wait for it to let go
    (False at once when not `wait`). True: try to claim it again."""
    verdict = judge(path, clock)
    if verdict is None:
        return True
    fd, holder, alive = verdict
    try:
        if not alive:
            break_stale(path, fd)
            return True
        if not wait:
            return False
        here = holder is None or holder.host == host_id()
        if not here or try_flock(fd, fcntl.LOCK_EX) is None:
            time.sleep(min(1.0, (holder.lease if holder else DEFAULT_LEASE) / 8))
        return True
    finally:
        os.close(fd)
