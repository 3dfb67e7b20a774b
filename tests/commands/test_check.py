"""`storyreel check`: exit codes, gcc-style text with a summary, JSON for editors and CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

STORIES = Path(__file__).resolve().parents[2] / "stories"


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_example_stories_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in sorted(STORIES.rglob("*.story"))]
    assert main(["check", *files]) == 0
    out = capsys.readouterr().out
    assert "error:" not in out
    assert f"checked {len(files)} files: 0 errors, " in out.splitlines()[-1]


def test_errors_exit_2_with_source_caret_and_summary(repo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "bad.story").write_text('character Zoë\nscene a\n  zoe: "hi"\n  Zoë: ...\n')
    assert main(["check", "bad.story"]) == 2
    assert capsys.readouterr().out == """\
bad.story:3:3: error: unknown speaker 'zoe'
     3 |   zoe: "hi"
       |   ^^^
  hint: did you mean 'Zoë'?
checked 1 file: 1 error, 0 warnings
"""


def test_warnings_alone_exit_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "w.story").write_text("character Luna\n  model: nowhere\nscene a\n  with: Luna\n")
    assert main(["check", "w.story"]) == 0
    out = capsys.readouterr().out
    assert "w.story:2:10: warning: 'nowhere' does not exist yet" in out
    assert out.endswith("checked 1 file: 0 errors, 1 warning\n")


def test_json_format(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "bad.story").write_text("scene a\n  camera: zoom\n")
    assert main(["check", "--format", "json", "bad.story"]) == 2
    assert json.loads(capsys.readouterr().out) == [{
        "schema_version": 1,
        "file": "bad.story", "line": 2, "column": 11, "end": {"line": 2, "column": 15},
        "severity": "error", "code": "unknown-camera", "message": "unknown camera 'zoom'",
        "hint": "cameras: still, slow zoom in, slow zoom out, pan left, pan right"}]


def test_missing_file_is_a_message_not_a_traceback(repo: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "nope.story"]) == 2
    assert capsys.readouterr().out == "nope.story: error: no such file\n" \
                                      "checked 1 file: 1 error, 0 warnings\n"


def test_a_folder_is_a_message_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "dir.story").mkdir()
    assert main(["check", "dir.story"]) == 2
    assert "dir.story: error: this is a folder, not a story file" in capsys.readouterr().out


def test_a_shared_cast_file_reports_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "cast.story").write_text("character Owl\n  model: missing-model\n")
    for name in ("a", "b"):
        (repo / f"{name}.story").write_text("use: cast.story\nscene s\n  with: Owl\n")
    assert main(["check", "a.story", "b.story"]) == 0
    assert capsys.readouterr().out.count("missing-model' does not exist yet") == 1


def test_no_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["check"])
    assert stop.value.code == 2
    assert "usage: storyreel check" in capsys.readouterr().err


def test_a_folder_means_its_story_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(STORIES)]) == 0
    count = len(list(STORIES.rglob("*.story")))
    assert f"checked {count} files: 0 errors, " in capsys.readouterr().out.splitlines()[-1]


def test_the_stop_after_50_syntax_errors_is_said_in_text_and_json(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "bad.story").write_text("".join(f'scene s{i}\n  "open {i}\n' for i in range(80)))
    assert main(["check", "bad.story"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[-5:] == [
        "bad.story:101:1: error: stopped after 50 syntax errors: the rest of the file is not "
        "checked", "   101 | scene s50", "       | ^", "  hint: fix these and run check again",
        "checked 1 file: 50 errors, 0 warnings (stopped early in 1 file)"]
    assert main(["check", "--format", "json", "bad.story"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert len(report) == 51 and report[-1]["code"] == "too-many-errors"
    assert report[-1]["line"] == 101 and report[-1]["severity"] == "error"


def test_a_binary_file_is_one_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "b.story").write_bytes(b"\x7fELF\x02\x01" + bytes(range(256)) * 20_000)
    assert main(["check", "b.story"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("b.story:2:118: error: this file is not UTF-8 (byte 0x80 at offset 134)")
    assert out.count("error:") == 1 and out.endswith("checked 1 file: 1 error, 0 warnings\n")
    assert len(out) < 1_000


def test_a_fifo_or_a_device_named_as_the_story_is_never_read(repo: Path) -> None:
    os.mkfifo(repo / "pipe.story")  # opening it would wait for a writer forever
    (repo / "zero.story").symlink_to("/dev/zero")  # reading it would never end
    for command, summary in (("check", "checked 2 files: 2 errors, 0 warnings\n"), ("fmt", "")):
        done = subprocess.run([sys.executable, "-m", "engine", command, "pipe.story",
                               "zero.story"], cwd=repo, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert done.stdout + done.stderr == (
            "pipe.story: error: not a story file: it is a named pipe (FIFO), not a regular file\n"
            "zero.story: error: not a story file: it is a device, not a regular file\n" + summary)
    done = subprocess.run([sys.executable, "-m", "engine", "render", "pipe.story"], cwd=repo,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (2, "pipe.story: error: not a story file: it is a "
                                                 "named pipe (FIFO), not a regular file\n")
