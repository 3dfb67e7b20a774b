"""Model files by content: each file's sha256 read once, then remembered in the cache's index."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from engine.files import file_sha256
from engine.files import write_atomically

log = logging.getLogger(__name__)

INDEX_NAME = "fingerprints.json"
"""The index's file in the artifact cache's folder (beside the entries' two-letter shards)."""

INDEX_FORMAT = 1
HUB_BLOB = re.compile(r"^[0-9a-f]{64}$")
LARGE = 256 << 20  # files this big are worth a line in the log while they are read


def hub_blob_sha256(path: Path) -> str | None:
    """A Hugging Face cache snapshot links each large file to `blobs/<sha256 of its bytes>`:
    the name is the hash, so nothing need be read."""
    if not path.is_symlink():
        return None
    target = path.resolve()
    if target.parent.name == "blobs" and HUB_BLOB.match(target.name):
        return target.name
    return None


class FingerprintIndex:
    """sha256 of files, remembered by (real path, size, mtime, inode): a file changed in place,
    replaced or grown is read again; an unchanged one never is. `path` None: this process only.

    Several processes may share one index: an update is merged under a lock and written
    atomically; a lost or unreadable index only costs reading the files again."""

    def __init__(self, path: Path | None):
        self.path = path
        self._known: dict[str, list[int | str]] | None = None
        self._lock = threading.Lock()

    def sha256(self, file: Path) -> str:
        blob = hub_blob_sha256(file)
        if blob is not None:
            return blob
        real = file.resolve()
        stat = real.stat()
        stamp: list[int | str] = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        with self._lock:
            entry = self._entries().get(str(real))
        if entry is not None and entry[:3] == stamp:
            return str(entry[3])
        if stat.st_size >= LARGE:
            log.info("fingerprinting %s (%.1f GiB), once", real, stat.st_size / 2**30)
        digest = file_sha256(real)
        with self._lock:
            self._entries()[str(real)] = [*stamp, digest]
            self._store(str(real))
        return digest

    def _entries(self) -> dict[str, list[int | str]]:
        if self._known is None:
            self._known = self._read()
        return self._known

    def _read(self) -> dict[str, list[int | str]]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.debug("ignoring the unreadable fingerprint index %s: %s", self.path, error)
            return {}
        if not isinstance(stored, dict) or stored.get("format") != INDEX_FORMAT:
            return {}
        files = stored.get("files")
        return {str(k): v for k, v in files.items() if isinstance(v, list) and len(v) == 4} \
            if isinstance(files, dict) else {}

    def _store(self, changed: str) -> None:
        """Merges this process's new entry into the file on disk (others' entries kept)."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                merged = self._read()
                merged[changed] = self._entries()[changed]
                # forget files that are gone, so the index stays as small as the models in use
                merged = {name: entry for name, entry in merged.items() if os.path.exists(name)}
                write_atomically(self.path, json.dumps({"format": INDEX_FORMAT, "files": merged},
                                                       indent=0, sort_keys=True))
                self._known = {**merged, **self._entries()}
        except OSError as error:
            log.warning("cannot remember model fingerprints in %s (%s); they will be read "
                        "again next run", self.path, error)
            self.path = None


_PROCESS = FingerprintIndex(None)
_CURRENT: ContextVar[FingerprintIndex | None] = ContextVar("fingerprint_index", default=None)


@contextmanager
def remembered_in(index: FingerprintIndex) -> Iterator[None]:
    """Within this block (and this thread), content hashes use and fill `index`."""
    token = _CURRENT.set(index)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def content_sha256(path: Path) -> str:
    """The file's sha256, from the index in use (the render's cache) when it knows the file."""
    return (_CURRENT.get() or _PROCESS).sha256(path)
