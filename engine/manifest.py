"""What a run made or reused: artifact records, per-stage counts, and the run's manifest.json."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.files import write_atomically


@dataclass(frozen=True, slots=True)
class Artifact:
    """One thing a stage produced: where it is, its hash, who made it, and whether it was reused."""

    stage: str
    name: str
    path: str
    sha256: str
    backend: dict[str, Any]
    seconds: float
    made: bool
    details: dict[str, Any] | None = None
    """What the backend was handed to make it (a picture's prompts, tokens and size), if told."""


@dataclass
class Recorder:
    """Collects artifacts from the stages (thread-safe) and times each stage."""

    artifacts: list[Artifact] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, artifact: Artifact) -> None:
        with self._lock:
            self.artifacts.append(artifact)

    def timed(self, stage: str) -> _StageTimer:
        return _StageTimer(self, stage)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per stage: (made, reused)."""
        out: dict[str, tuple[int, int]] = {}
        for a in self.artifacts:
            made, reused = out.get(a.stage, (0, 0))
            out[a.stage] = (made + a.made, reused + (not a.made))
        return out


class _StageTimer:
    def __init__(self, recorder: Recorder, stage: str):
        self.recorder, self.stage = recorder, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        spent = time.perf_counter() - self.start
        with self.recorder._lock:
            self.recorder.stage_seconds[self.stage] = (
                self.recorder.stage_seconds.get(self.stage, 0.0) + spent)


def write_manifest(path: Path, recorder: Recorder, extra: dict[str, Any]) -> None:
    """manifest.json: every artifact, per-stage counts and times, and the run's facts.

    Each distinct backend identity (with every setting) is written once under `identities`;
    an artifact names its backend by that entry's id.
    """
    identities: dict[str, dict[str, Any]] = {}
    seen: dict[int, str] = {}  # id(identity dict) → its key: most artifacts share one dict
    artifacts = []
    for artifact in recorder.artifacts:
        key = seen.get(id(artifact.backend))
        if key is None:
            text = json.dumps(artifact.backend, sort_keys=True, default=str)
            key = hashlib.sha256(text.encode()).hexdigest()[:12]
            seen[id(artifact.backend)] = key
            identities[key] = artifact.backend
        record = {"stage": artifact.stage, "name": artifact.name, "path": artifact.path,
                  "sha256": artifact.sha256, "backend": key, "seconds": artifact.seconds,
                  "made": artifact.made}
        if artifact.details is not None:
            record["details"] = artifact.details
        artifacts.append(record)
    body = {
        **extra,
        "stages": {stage: {"made": made, "reused": reused,
                           "seconds": round(recorder.stage_seconds.get(stage, 0.0), 3)}
                   for stage, (made, reused) in recorder.counts().items()},
        "identities": identities,
        "artifacts": artifacts,
    }
    write_atomically(path, json.dumps(body, indent=2, ensure_ascii=False, default=str).encode())
