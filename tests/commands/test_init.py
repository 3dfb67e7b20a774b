"""`storyreel init`: a story repository that checks clean, composes its presets and renders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from engine.cli import main
from engine.commands.init import EXAMPLE, template_files
from engine.config import story_search_path
from engine.config import CONF_DIR, register_resolvers

EXPECTED = {".gitignore", "README.md", EXAMPLE, "cast/friends.story", "conf/video/draft.yaml",
            "conf/experiment/preview.yaml", "conf/safety_text/own-lists.yaml", "safety/allow.txt",
            "safety/deny.txt"}


@pytest.fixture()
def made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    repo = tmp_path / "tales"
    assert main(["init", str(repo)]) == 0
    out = capsys.readouterr().out
    assert f"storyreel render {EXAMPLE}" in out and "new git repository" in out
    return repo


def test_the_template_holds_every_part() -> None:
    assert {str(place) for place in template_files()} == EXPECTED


def test_a_new_repository_checks_clean_and_is_formatted(made: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert (made / ".git").is_dir()
    assert {str(p.relative_to(made)) for p in made.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(made).parts} == EXPECTED
    monkeypatch.chdir(made)
    assert main(["check", "stories", "cast"]) == 0
    assert capsys.readouterr().out == "checked 2 files: 0 errors, 0 warnings\n"
    assert main(["fmt", "--check", "stories", "cast"]) == 0
    assert "use: ../cast/friends.story" in (made / EXAMPLE).read_text()
    ignored = (made / ".gitignore").read_text().split()
    assert {"renders/", "out/", "multirun/", ".storyreel/"} <= set(ignored)


def test_the_presets_compose_with_the_engine_config(made: Path) -> None:
    register_resolvers()
    search = story_search_path([made / EXAMPLE])
    assert search == [f"file://{(made / 'conf').resolve()}"]
    overrides = [f"story={made / EXAMPLE}", f"hydra.searchpath=[{search[0]}]"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        draft = compose("config", overrides=[*overrides, "video=draft"])
        preview = compose("config", overrides=[*overrides, "+experiment=preview"])
    assert (draft.render.width, draft.render.height, draft.render.fps, draft.video.crf) == (640, 360, 12, 28)
    assert draft.video._target_ == "engine.backends.video.ffmpeg.FFmpegEditor"
    assert preview.video == draft.video
    assert preview.seed == 3 and preview.timeline.gap == 0.25
    assert preview.tts._target_.startswith("engine.backends.tts.")


def test_the_repositorys_deny_list_is_its_own_to_edit(made: Path) -> None:
    """The starter list is copied for editing; with `own-lists`, a word taken out is allowed."""
    from hydra.utils import instantiate

    from engine.backends.safety_text import TextCheckRequest

    register_resolvers()
    overrides = [f"story={made / EXAMPLE}",
                 f"hydra.searchpath=[{story_search_path([made / EXAMPLE])[0]}]"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        shipped = compose("config", overrides=overrides).safety_text
        own = compose("config", overrides=[*overrides, "safety_text=own-lists"]).safety_text
    assert (shipped.starter, own.starter) == (True, False)
    line = TextCheckRequest("The knight drew his dagger.")
    assert instantiate(own).check(line)  # the copy flags what the starter list flags
    deny = made / "safety" / "deny.txt"
    deny.write_text("\n".join(w for w in deny.read_text().splitlines() if w != "dagger*"))
    assert not instantiate(own).check(line)  # taken out: no longer flagged
    assert instantiate(shipped).check(line)  # the shipped list still has it


def test_existing_files_are_never_overwritten(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"storyreel init: {tmp_path / 'README.md'} already exists; nothing written " \
                  "(--force replaces the template's files, keeping changed ones as " \
                  "NAME.before-init)\n"
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_force_replaces_the_template_files_only(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("mine\n")
    (tmp_path / "notes.txt").write_text("keep\n")
    assert main(["init", "--force"]) == 0
    assert (tmp_path / "README.md").read_text().startswith("# Stories")
    assert (tmp_path / "README.md.before-init").read_text() == "mine\n"
    assert (tmp_path / "notes.txt").read_text() == "keep\n"
    assert (tmp_path / EXAMPLE).is_file()
    assert capsys.readouterr().err == (
        "storyreel init: replaced 1 file that differed from the template; your versions are "
        "beside them as NAME.before-init: README.md\n")


def test_force_keeps_every_edited_file_and_only_those(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """An author's edits to the example, the deny list and the cast are never lost."""
    assert main(["init", str(tmp_path)]) == 0
    edited = {EXAMPLE: "title: Mine\n", "safety/deny.txt": "[insult]\nstupid\n"}
    for place, text in edited.items():
        (tmp_path / place).write_text(text)
    capsys.readouterr()
    for round_ in ("", ".2"):
        assert main(["init", "--force", str(tmp_path)]) == 0
        assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob(f"*.before-init{round_}")) \
            == sorted(f"{place}.before-init{round_}" for place in edited)
        for place, text in edited.items():
            assert (tmp_path / f"{place}.before-init{round_}").read_text() == text
            (tmp_path / place).write_text(text)  # edited again before the next --force
        assert "replaced 2 files that differed" in capsys.readouterr().err
    for place in edited:  # a file as the template has it is replaced without a copy
        (tmp_path / place).unlink()
    assert main(["init", "--force", str(tmp_path)]) == 0
    assert main(["init", "--force", str(tmp_path)]) == 0
    assert not list(tmp_path.rglob("*.before-init.3")) and "replaced" not in capsys.readouterr().err


def test_a_folder_in_the_way_is_one_line_even_with_force(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    (tmp_path / "stories").write_text("a file where a folder goes\n")
    assert main(["init", "--force", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"storyreel init: {tmp_path / 'stories'} is in the way " \
                                      "(a folder where a file goes, or the reverse)\n"


def test_inside_a_repository_no_second_one_is_made(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    assert main(["init", str(tmp_path / "tales")]) == 0
    assert not (tmp_path / "tales" / ".git").exists()
    assert f"inside the git repository {tmp_path}" in capsys.readouterr().out


@pytest.mark.slow
def test_the_example_renders_offline(made: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "engine", "render", EXAMPLE, "+experiment=preview",
                           "render.width=320", "render.height=180", "hydra.run.dir=renders/out"],
                          cwd=made, env={**os.environ, "COLUMNS": "120"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (made / "renders" / "out" / "video.mp4").stat().st_size > 0
    assert (made / ".storyreel" / "cache").is_dir()
