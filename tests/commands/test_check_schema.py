"""`storyreel check --format json`: the schema editors and CI rely on, pinned key by key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.cli import main
from engine.commands.check import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = {"schema_version": int, "file": str, "line": int, "column": int, "end": dict,
          "severity": str, "code": str, "message": str, "hint": (str, type(None))}
"""Every key of a diagnostic and its JSON type; docs/editors.md describes each."""


def assert_follows_the_schema(diagnostic: dict[str, object]) -> None:
    assert list(diagnostic) == list(SCHEMA), "keys (and their order) are part of the schema"
    for key, kind in SCHEMA.items():
        assert isinstance(diagnostic[key], kind), (key, diagnostic[key])
    assert diagnostic["schema_version"] == SCHEMA_VERSION == 1
    end = diagnostic["end"]
    assert isinstance(end, dict) and list(end) == ["line", "column"]
    assert all(type(end[key]) is int for key in end)
    assert (end["line"], end["column"]) >= (diagnostic["line"], diagnostic["column"])
    assert diagnostic["severity"] in {"error", "warning"}
    assert re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", str(diagnostic["code"]))


def test_every_diagnostic_follows_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.story").write_text("character Zoë\n  model: nowhere\nscene a\n  with: Zoë\n"
                                      "  camera: zoom\n  zoe: \"hi\"\n")
    assert main(["check", "--format", "json", "w.story", "missing.story"]) == 2
    found = json.loads(capsys.readouterr().out)
    assert [(d["file"], d["severity"], d["code"]) for d in found] == [
        ("w.story", "warning", "missing-model"), ("w.story", "error", "unknown-camera"),
        ("w.story", "error", "unknown-speaker"), ("missing.story", "error", "missing-file")]
    for diagnostic in found:
        assert_follows_the_schema(diagnostic)
    speaker = found[2]
    assert (speaker["line"], speaker["column"], speaker["end"]) == \
        (6, 3, {"line": 6, "column": 6})
    assert speaker["hint"] == "did you mean 'Zoë'?"
    assert (found[3]["line"], found[3]["column"], found[3]["hint"]) == (0, 0, None)


def test_a_clean_story_is_an_empty_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", str(ROOT / "stories" / "first-snow.story")]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_documented_example_follows_the_schema() -> None:
    page = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", page, re.S)
    assert example, "docs/editors.md shows an example of `check --format json`"
    for diagnostic in json.loads(example.group(1)):
        assert_follows_the_schema(diagnostic)
