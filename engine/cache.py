"""The content-addressed artifact cache: key → folder of files, atomic, manifest last, shared."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.canonical import canonical, canonical_json
from engine.errors import ConfigError
from engine.files import file_sha256, find_root
from engine.leases import Lease, acquire_lease, lease_seconds, sweep_dead
from engine.locks import UNWRITABLE, live_marks, mark_run

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")
CACHE_FORMAT = 1
"""Bumped when the entry layout or the key recipe changes; part of every key."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A finished artifact: its folder, its files (name → hash, size) and the whole manifest."""

    key: str
    folder: Path
    files: Mapping[str, FileInfo]
    manifest: Mapping[str, Any]

    def path(self, name: str) -> Path:
        if name not in self.files:
            raise KeyError(f"cache entry {self.key[:12]} ({self.stage}) has no file '{name}'; "
                           f"it has {sorted(self.files)}")
        return self.folder / name

    @property
    def meta(self) -> Mapping[str, Any]:
        """What `produce` returned when the entry was made (durations, sizes, …)."""
        return self.manifest.get("meta", {})

    @property
    def stage(self) -> str:
        return str(self.manifest.get("stage", ""))

    @property
    def seconds(self) -> float:
        return float(self.manifest.get("seconds", 0.0))


class Cache:
    """A folder of entries `root/<2 hex>/<key>/`; safe for many processes at once.

    A process that reads or makes entries leaves a live mark in `root/runs/` (until `close()`,
    or its end): `cache gc` keeps every entry used since the oldest live mark was made. Locks
    and marks are leases (`engine/leases.py`), so machines sharing the folder over NFS respect
    each other's and break those of dead ones.
    """

    def __init__(self, root: Path | str):
        self.root = Path(root).absolute()
        try:
            lease_seconds()
        except ValueError as error:
            raise ConfigError(str(error)) from None
        self._cleaned_temp = False
        self._mark: Lease | None = None
        self._marked = False

    def close(self) -> None:
        """This process no longer uses the cache: its live mark goes."""
        if self._mark is not None:
            self._mark.release()

    def _mark_use(self) -> None:
        if not self._marked:
            self._marked = True
            self._mark = mark_run(self.root / "runs", self)

    def in_use_since(self) -> tuple[float, int, int]:
        """(when the oldest live process began using the cache, how many live ones, dead marks
        removed). This process counts as one: its mark is made now if it had none."""
        self._mark_use()
        starts, dead = live_marks(self.root / "runs")
        return min(starts, default=time.time()), len(starts), dead

    # ---- keys ---------------------------------------------------------------------------------
    @staticmethod
    def key(stage: str, version: int, request: object, inputs: Sequence[str] = (),
            backend: Mapping[str, Any] | None = None,
            tools: Mapping[str, Any] | None = None) -> str:
        """The sha256 of everything that shapes an artifact; computed before the work runs.

        `inputs` are the sha256 of the input artifacts (or their cache keys), in a meaningful order.
        """
        document = {"format": CACHE_FORMAT, "stage": stage, "version": version,
                    "request": request, "inputs": list(inputs), "backend": backend or {},
                    "tools": tools or {}}
        return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()

    # ---- reading ------------------------------------------------------------------------------
    def folder(self, key: str) -> Path:
        _check_key(key)
        return self.root / key[:2] / key

    def get(self, key: str) -> Entry | None:
        """The finished entry for `key`, its use recorded, or None (no manifest, or a file gone
        missing). Taken under the key's lock, so a `cache gc` never drops it meanwhile."""
        self._mark_use()
        with self._lock(key, optional=True):
            return self._use(key)

    def _use(self, key: str) -> Entry | None:
        folder = self.folder(key)
        entry = _read_entry(folder)
        if entry is None or entry.key != key:
            return None
        try:  # the manifest's mtime is the entry's last use, which `cache gc` reads
            os.utime(folder / MANIFEST)
        except FileNotFoundError:
            return None
        except OSError as error:  # someone else's cache, shared read-only: use it as it is
            if error.errno not in UNWRITABLE:
                raise
        return entry

    def entries(self) -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            for folder in sorted(shard.iterdir()):
                entry = _read_entry(folder)
                if entry is not None:
                    yield entry

    # ---- writing ------------------------------------------------------------------------------
    def make(self, key: str, produce: Callable[[Path], Mapping[str, Any] | None], *, stage: str,
             backend: Mapping[str, Any] | None = None) -> tuple[Entry, bool]:
        """The entry for `key`, made by `produce(folder)` unless it exists; (entry, made).

        `produce` writes its files into an empty temp folder and returns metadata kept in the
        manifest. One process makes a key while others wait on its lock and then reuse it.
        """
        self._mark_use()
        with self._lock(key):
            entry = self._use(key)
            if entry is not None:
                return entry, False
            self._clean_temp(key)
            return self._produce(key, produce, stage=stage, backend=backend or {})

    def _produce(self, key: str, produce: Callable[[Path], Mapping[str, Any] | None], *,
                 stage: str, backend: Mapping[str, Any]) -> tuple[Entry, bool]:
        temp_root = self.root / "tmp"
        temp_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=temp_root))
        os.chmod(work, 0o755)  # mkdtemp's 0700 would hide a shared cache's entries from others
        try:
            started = time.perf_counter()
            meta = produce(work) or {}
            seconds = time.perf_counter() - started
            files = _seal_files(work)
            manifest = {"format": CACHE_FORMAT, "key": key, "stage": stage,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "seconds": round(seconds, 6), "backend": canonical(backend),
                        "meta": canonical(meta),
                        "files": {n: {"sha256": f.sha256, "size": f.size}
                                  for n, f in files.items()}}
            _write_durably(work / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            _fsync_dir(work)
            final = self.folder(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(work, final)
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                theirs = self._use(key)
                if theirs is not None:  # another process (without our lock) finished first
                    shutil.rmtree(work, ignore_errors=True)
                    return theirs, False
                _discard(final, temp_root, key)  # a folder without a manifest is no entry
                os.rename(work, final)
            _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        log.debug("made %s %s in %.3fs", stage, key[:12], seconds)
        return Entry(key, final, files, manifest), True

    # ---- locks and leftovers ------------------------------------------------------------------
    @contextmanager
    def _lock(self, key: str, *, wait: bool = True, optional: bool = False) -> Iterator[bool]:
        """Hold the lease `locks/<key>.lock`; yields False when `wait` is off and someone alive
        holds it, or when `optional` and the cache cannot be written (a shared read-only cache).

        The lock file is unlinked on release so `locks/` stays small.
        """
        locks = self.root / "locks"
        try:
            locks.mkdir(parents=True, exist_ok=True)
            lease = acquire_lease(locks / f"{key}.lock", wait)
        except OSError as error:
            if optional and error.errno in UNWRITABLE:
                yield False
                return
            raise
        if lease is None:
            yield False
            return
        try:
            yield True
        finally:
            lease.release()

    def _clean_temp(self, key: str) -> None:
        """Remove what killed makers left: temp folders of `key` (we hold its lock) always, the
        unlocked keys' ones once per Cache object."""
        temp_root = self.root / "tmp"
        if not temp_root.is_dir():
            return
        for work in list(temp_root.glob(f"{key}.*")):
            log.info("removing a temp folder a killed render left: %s", work.name)
            _discard(work, temp_root, key)
        if not self._cleaned_temp:
            self._cleaned_temp = True
            self.clean_temp()

    def clean_temp(self) -> int:
        """Remove the temp folders whose key no live process holds: their maker died (a live
        maker, or remover, holds the key's lease for as long as its temp folder exists). Each is
        renamed aside before it is deleted, so a maker wrongly taken for dead (one that could not
        renew its lease) fails instead of sealing a folder with files missing."""
        temp_root = self.root / "tmp"
        removed = 0
        if not temp_root.is_dir():
            return 0
        for work in list(temp_root.iterdir()):
            owner = work.name.split(".", 1)[0]
            if not KEY_PATTERN.match(owner):  # not a name this cache makes
                continue
            with self._lock(owner, wait=False) as held:
                if held and work.exists():
                    _discard(work, temp_root, owner)
                    removed += 1
        return removed

    def clean_locks(self) -> int:
        """Remove the lock files of dead holders (a machine that died leaves its own behind)."""
        return sweep_dead(self.root / "locks")

    # ---- removal ------------------------------------------------------------------------------
    def remove(self, key: str, *, unused_since: float | None = None) -> bool:
        """Drop an entry (renamed out of place first, so a reader never sees half of it); True
        when it was dropped. Not while another process holds its key, nor, with `unused_since`,
        when it was used at or after that time (checked under the key's lock, which a reader
        holds while it records its use)."""
        folder = self.folder(key)
        if not folder.is_dir():
            return False
        with self._lock(key, wait=False) as held:
            if not held or not folder.is_dir():
                return False
            if unused_since is not None:
                try:
                    if (folder / MANIFEST).stat().st_mtime >= unused_since:
                        return False
                except FileNotFoundError:
                    pass  # no manifest: not an entry, only its leftovers
            temp_root = self.root / "tmp"
            temp_root.mkdir(parents=True, exist_ok=True)
            _discard(folder, temp_root, key)
        return True


def _check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise ValueError(f"not a cache key (64 lowercase hex digits): {key!r}")


def _read_entry(folder: Path) -> Entry | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = {name: FileInfo(info["sha256"], int(info["size"]))
                 for name, info in manifest["files"].items()}
        key = manifest["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for name, info in files.items():
        try:
            if (folder / name).stat().st_size != info.size:
                return None
        except OSError:
            return None
    return Entry(key, folder, files, manifest)


def _seal_files(work: Path) -> dict[str, FileInfo]:
    """Hash and fsync every file `produce` wrote (names relative, with `/`)."""
    files: dict[str, FileInfo] = {}
    for path in sorted(work.rglob("*")):
        name = path.relative_to(work).as_posix()
        if path.is_symlink():
            raise ValueError(f"cache entries hold plain files; '{name}' is a symbolic link")
        if path.is_dir():
            _fsync_dir(path)
            continue
        if name == MANIFEST:
            raise ValueError(f"'{MANIFEST}' is the cache's own file; name the artifact otherwise")
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
        path.chmod(0o444)  # a run's output may be a hard link to it: no editing in place
        files[name] = FileInfo(file_sha256(path), path.stat().st_size)
    if not files:
        raise ValueError("produce() wrote no file into its folder")
    return files


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(folder: Path, temp_root: Path, key: str) -> None:
    """Rename `folder` into the temp area and delete it there (the caller holds `key`'s lock)."""
    trash = Path(tempfile.mkdtemp(prefix=f"{key}.deleted.", dir=temp_root))
    try:
        os.rename(folder, trash / "entry")
    except FileNotFoundError:
        pass  # someone else removed it first
    shutil.rmtree(trash, ignore_errors=True)


def cache_dir(configured: str | os.PathLike[str] | None, story: Path) -> Path:
    """`cache.dir` when set (relative to the working directory), else `.storyreel/cache/` at the
    story repository's root."""
    if configured not in (None, ""):
        return Path(configured).expanduser().absolute()
    return find_root(story) / ".storyreel" / "cache"
