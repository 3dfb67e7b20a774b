"""One cached unit of work: key the request, make it (or reuse it) in the cache, record it."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from engine.backends.weights import path_fingerprint
from engine.cache import KEY_PATTERN, Cache
from engine.canonical import canonical_json
from engine.files import file_sha256
from engine.errors import BackendError, ConfigError, StoryError, during_ctrl_c
from engine.fingerprints import INDEX_NAME, FingerprintIndex, remembered_in
from engine.manifest import Artifact, Recorder


def subject_sha256(subject: object) -> str:
    """A request as a pin compares it (the parts a setting may change left out by the stage)."""
    return hashlib.sha256(canonical_json(subject).encode("utf-8")).hexdigest()


def identity_of(backend: object) -> dict[str, Any]:
    """A backend's identity for cache keys; its class when it tells nothing more."""
    ident = getattr(backend, "identity", None)
    if callable(ident):
        return dict(ident())
    cls = type(backend)
    return {"backend": f"{cls.__module__}.{cls.__qualname__}"}


@dataclass
class Step:
    """Runs stage work through the shared cache and records what was made or reused."""

    cache: Cache
    recorder: Recorder
    _identities: dict[int, tuple[object, dict[str, Any]]] = field(default_factory=dict,
                                                                   repr=False)
    """By `id()`, with the backend itself: kept alive, its id cannot pass to another object."""
    _hashes: dict[str, str] = field(default_factory=dict, repr=False)
    _weights: dict[str, str] = field(default_factory=dict, repr=False)
    fingerprints: FingerprintIndex = field(init=False, repr=False)
    """Model files' hashes, remembered in the cache: a second run reads no weights to key them."""

    def __post_init__(self) -> None:
        self.fingerprints = FingerprintIndex(self.cache.root / INDEX_NAME)

    def digest(self, path: Path) -> str:
        """A file's sha256: known without reading it for this run's artifacts (the cache entry
        recorded it), read once for any other file."""
        key = str(path)
        if key not in self._hashes:
            self._hashes[key] = file_sha256(path)
        return self._hashes[key]

    def weights(self, model: Path) -> str:
        """Model weights (a folder or a file) by content, worked out once per run."""
        key = str(model)
        if key not in self._weights:
            with remembered_in(self.fingerprints):
                self._weights[key] = path_fingerprint(model)
        return self._weights[key]

    def identity(self, backend: object) -> dict[str, Any]:
        """The backend's identity, asked once per run (backends live as long as the run)."""
        known = self._identities.get(id(backend))
        if known is None or known[0] is not backend:
            with remembered_in(self.fingerprints):
                known = (backend, identity_of(backend))
            self._identities[id(backend)] = known
        return known[1]

    def run(self, stage: str, version: int, request: object, backend: object, filename: str,
            produce: Callable[[Path], object], *, label: str,
            inputs: Sequence[str] = (), record: str | None = None) -> Path:
        """The cached file for this request: made by `produce(path)` when the cache lacks it.

        `record` names a JSON file `produce` may write beside it; the manifest shows its
        contents with the artifact (e.g. the exact prompt a picture was drawn from)."""
        ident = self.identity(backend)
        key = self.cache.key(stage, version, request, inputs=inputs, backend=ident)
        started = time.perf_counter()

        def make(folder: Path) -> dict[str, Any]:
            try:
                produce(folder / filename)
            except BackendError as error:
                if error.where:
                    raise
                raise BackendError(error.backend, error.message, where=f"{stage} {label}",
                                   hint=error.hint) from error
            except (ConfigError, StoryError):
                raise
            except Exception as error:
                if during_ctrl_c(error):
                    raise KeyboardInterrupt from error
                raise BackendError(ident.get("backend", stage), f"{type(error).__name__}: {error}",
                                   where=f"{stage} {label}") from error
            return {"label": label}

        with remembered_in(self.fingerprints):  # a backend loading weights keys them too
            entry, made = self.cache.make(key, make, stage=stage, backend=ident)
        path = entry.path(filename)
        self._hashes[str(path)] = entry.files[filename].sha256
        details = (json.loads(entry.path(record).read_text(encoding="utf-8"))
                   if record and record in entry.files else None)
        self.recorder.add(Artifact(stage=stage, name=label, path=str(path),
                                   sha256=entry.files[filename].sha256, backend=ident,
                                   seconds=round(time.perf_counter() - started, 4), made=made,
                                   details=details))
        return path

    def entry_key(self, path: Path) -> str | None:
        """The key of the cache entry holding `path`, when it is one (what a pin names)."""
        folder = path.parent
        if folder.parent.parent != self.cache.root or not KEY_PATTERN.match(folder.name):
            return None
        return folder.name

    def kept(self, key: str, sha256: str, *, stage: str, label: str) -> Path | None:
        """The file with this sha256 in the entry `key`, recorded as reused, while the cache
        holds it (a `cache gc` may have dropped it: then None)."""
        if not KEY_PATTERN.match(key):
            return None
        entry = self.cache.get(key)
        name = next((n for n, info in (entry.files.items() if entry else ())
                     if info.sha256 == sha256), None)
        if entry is None or name is None:
            return None
        path = entry.path(name)
        self._hashes[str(path)] = sha256
        self.recorder.add(Artifact(stage=stage, name=label, path=str(path), sha256=sha256,
                                   backend=dict(entry.manifest.get("backend") or {}),
                                   seconds=0.0, made=False))
        return path
