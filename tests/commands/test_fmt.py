"""`storyreel fmt`: rewrites in place, `--check` lists, files with errors are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main

UGLY = "title:   Snow   # the title\nscene a\n    \"Hello.\"\n    title: First\n"
PRETTY = "title: Snow  # the title\n\nscene a\n  title: First\n  \"Hello.\"\n"


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_rewrites_in_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "s.story"
    path.write_text(UGLY)
    path.chmod(0o640)
    assert main(["fmt", "s.story"]) == 0
    assert path.read_text() == PRETTY
    assert path.stat().st_mode & 0o777 == 0o640
    assert capsys.readouterr().out == "formatted s.story\n"
    assert [p.name for p in repo.iterdir() if p.name != ".git"] == ["s.story"]  # no temp left
    assert main(["fmt", "s.story"]) == 0
    assert capsys.readouterr().out == ""


def test_check_lists_and_exits_1_without_writing(repo: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "ugly.story").write_text(UGLY)
    (repo / "pretty.story").write_text(PRETTY)
    assert main(["fmt", "--check", "ugly.story", "pretty.story"]) == 1
    assert capsys.readouterr().out == "would reformat ugly.story\n"
    assert (repo / "ugly.story").read_text() == UGLY
    assert main(["fmt", "--check", "pretty.story"]) == 0


def test_never_rewrites_a_file_with_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = 'scene a\n    Luna: "unclosed\n'
    (repo / "bad.story").write_text(broken)
    (repo / "ugly.story").write_text(UGLY)
    assert main(["fmt", "bad.story", "ugly.story"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("bad.story:2:11: error: this quote is never closed\n")
    assert out.endswith("formatted ugly.story\n")
    assert (repo / "bad.story").read_text() == broken


def test_missing_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "nope.story"]) == 2
    assert capsys.readouterr().out == "nope.story: error: no such file\n"


def test_keeps_utf8_and_drops_crlf(repo: Path) -> None:
    path = repo / "z.story"
    path.write_bytes("character Zoë\r\nscene 雪\r\n  Zoë: \"Ça va ?\"\r\n".encode())
    assert main(["fmt", "z.story"]) == 0
    assert path.read_bytes() == "character Zoë\n\nscene 雪\n  Zoë: \"Ça va ?\"\n".encode()


def test_diff_shows_the_change_without_writing(repo: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "s.story").write_text("premise:   Snow\n")
    assert main(["fmt", "--diff", "s.story"]) == 1
    assert capsys.readouterr().out == (
        "--- s.story\n+++ s.story (formatted)\n@@ -1 +1 @@\n-premise:   Snow\n+premise: Snow\n")
    assert (repo / "s.story").read_text() == "premise:   Snow\n"


def test_an_escaped_tab_stays_an_escape(repo: Path) -> None:
    path = repo / "t.story"
    path.write_text('scene a\n  "a \\t b"\n')
    assert main(["fmt", "t.story"]) == 0
    assert path.read_text() == 'scene a\n  "a \\t b"\n'
    assert "\t" not in path.read_text()


def test_a_linked_story_is_formatted_where_the_link_points(repo: Path,
                                                           capsys: pytest.CaptureFixture[str]):
    (repo / "stories").mkdir()
    target = repo / "stories" / "real.story"
    target.write_text(UGLY)
    (repo / "linked.story").symlink_to("stories/real.story")
    assert main(["fmt", "linked.story"]) == 0
    assert capsys.readouterr().out == "formatted linked.story\n"
    assert (repo / "linked.story").is_symlink() and target.read_text() == PRETTY
    assert sorted(p.name for p in (repo / "stories").iterdir()) == ["real.story"]


def test_a_file_name_with_control_characters_is_printed_escaped(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a\x1b[2Jb.story").write_text(UGLY)
    assert main(["fmt", "--check", "a\x1b[2Jb.story"]) == 1
    assert capsys.readouterr().out == "would reformat a\\x1b[2Jb.story\n"
    assert main(["fmt", "a\x1b[2Jb.story"]) == 0
    assert capsys.readouterr().out == "formatted a\\x1b[2Jb.story\n"
