"""The README's `storyreel new` example works when pasted into the project's own folder."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]


def readme_command(name: str) -> list[str]:
    """The words of the README's `storyreel NAME ...` example, its comment left out."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"storyreel {name} "):
            return shlex.split(line, comments=True)[1:]
    raise AssertionError(f"README shows no `storyreel {name}` example")


def test_the_new_example_writes_a_file_the_project_does_not_have(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = readme_command("new")
    target = words[words.index("-o") + 1]
    assert not (ROOT / target).exists()  # pasted in this folder, it is not "already exists"
    (tmp_path / ".git").mkdir()
    (tmp_path / "stories").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(words) == 0
    assert (tmp_path / target).read_text(encoding="utf-8").count("\nscene ") == 5
