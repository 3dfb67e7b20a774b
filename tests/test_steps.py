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


def test_an_error_raised_while_a_ctrl_c_was_handled_is_that_ctrl_c(tmp_path: Path):
    """Python 3.11's thread join can turn a KeyboardInterrupt into "RuntimeError: release
    unlocked lock": a stopped render, not a backend's failure, and nothing is kept."""
    import pytest

    from engine.errors import BackendError

    def joined_under_ctrl_c(path: Path) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("release unlocked lock")

    def failed(path: Path) -> None:
        raise RuntimeError("a real failure")

    step = Step(Cache(tmp_path / "cache"), Recorder())
    with pytest.raises(KeyboardInterrupt):
        step.run("cut", 1, {"n": 1}, Writer(), "video.mp4", joined_under_ctrl_c, label="video")
    with pytest.raises(BackendError, match="RuntimeError: a real failure"):
        step.run("cut", 1, {"n": 2}, Writer(), "video.mp4", failed, label="video")
    assert list(Cache(tmp_path / "cache").entries()) == []
