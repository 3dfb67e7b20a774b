"""`.pre-commit-hooks.yaml`: each hook runs a real storyreel command on .story files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from engine.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


def hooks() -> dict[str, dict[str, object]]:
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml")
                                                        .read_text(encoding="utf-8"))}


def test_the_hooks_name_storyreel_commands_for_story_files() -> None:
    found = hooks()
    assert {id_: shlex.split(str(hook["entry"])) for id_, hook in found.items()} == {
        "storyreel-check": ["storyreel", "check"],
        "storyreel-fmt": ["storyreel", "fmt", "--check"]}
    for hook in found.values():
        assert hook["language"] == "python"
        assert shlex.split(str(hook["entry"]))[1] in COMMANDS
        files = re.compile(str(hook["files"]))
        assert files.search("stories/moon-glow.story") and files.search("cast/a b.story")
        assert not files.search("stories/moon-glow.story.bak")


@pytest.mark.parametrize("hook_id", ["storyreel-check", "storyreel-fmt"])
def test_each_hook_passes_a_clean_story_and_fails_a_broken_one(
        hook_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.story").write_text((ROOT / "stories" / "first-snow.story").read_text())
    (tmp_path / "bad.story").write_text('scene a\n  "unclosed\n')
    command = shlex.split(str(hooks()[hook_id]["entry"]))[1:]
    assert main([*command, "good.story"]) == 0  # pre-commit appends the changed files
    assert main([*command, "bad.story"]) != 0
