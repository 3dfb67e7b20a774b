"""A step's record of each backend's identity: asked once a backend, never mixed up."""

from __future__ import annotations

from pathlib import Path

from engine.cache import Cache
from engine.manifest import Recorder
from engine.steps import Step


class Writer:
    def identity(self) -> dict[str, str]:
        return {"backend": "writer"}


class Checker:
    def identity(self) -> dict[str, str]:
        return {"backend": "checker"}


def test_a_backend_made_where_a_freed_one_was_gets_its_own_identity(tmp_path: Path):
    step = Step(Cache(tmp_path / "cache"), Recorder())
    for _ in range(50):  # CPython gives a freed object's address (its id) to the next one made
        assert step.identity(Writer())["backend"] == "writer"
        assert step.identity(Checker())["backend"] == "checker"


def test_a_backend_is_asked_its_identity_once(tmp_path: Path):
    asked = []

    class Counted:
        def identity(self) -> dict[str, str]:
            asked.append(1)
            return {"backend": "counted"}

    step, backend = Step(Cache(tmp_path / "cache"), Recorder()), Counted()
    assert step.identity(backend) == step.identity(backend) == {"backend": "counted"}
    assert len(asked) == 1
