"""A hands-on tester's mistakes and interruptions: each is one line (no traceback), said once,
with whole paths however the output is read (issues #9 and #10)."""

from __future__ import annotations

import errno
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.files import explain_os_error
from tests.review_run import make_run

TINY = ["render.width=64", "render.height=48", "render.fps=4"]
STORY = 'title: Tiny\n\nscene hill\n  image: a green hill\n  "Hello, hill."\n'


def storyreel(*args: str, cwd: Path, stdout: int = subprocess.PIPE
              ) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it with its output in a pipe (no terminal, no COLUMNS)."""
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=env,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=240)


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tale.story").write_text(STORY)
    return tmp_path


@pytest.mark.parametrize("word", ["=3", "+=1", "~=x"])
def test_an_override_without_a_name_is_one_line(here: Path, word: str):
    done = storyreel("render", "tale.story", word, cwd=here)
    assert done.returncode == 2
    assert done.stderr == (f"storyreel render: cannot read the override '{word}': a setting's "
                           "name must come before the `=` (KEY=VALUE, e.g. seed=3)\n")
    assert not (here / "renders").exists()


EVEN = " (video frames are YUV 4:2:0: both sides even)"


@pytest.mark.parametrize(("words", "line"), [
    (["render.width=abc"], ("render.width=abc is not allowed: it must be an even whole number "
                           "from 2 to 16384" + EVEN)),
    (["seed="], "seed= (empty) is not allowed: it must be a whole number of 0 or more, or null"),
    (["render.fps=0"], "render.fps=0 is not allowed: it must be a whole number from 1 to 240"),
    (["render.width=-4"], ("render.width=-4 is not allowed: it must be an even whole number from "
                          "2 to 16384" + EVEN)),
    (["render.width=64", "render.height=0"], ("render.height=0 is not allowed: it must be an even "
                                             "whole number from 2 to 16384" + EVEN)),
    (["render.width=321"], ("render.width=321 is not allowed: it must be an even whole number "
                           "from 2 to 16384" + EVEN)),
    (["render.candidates=1.5"], ("render.candidates=1.5 is not allowed: it must be a whole number "
                                "from 1 to 64")),
])
def test_a_setting_out_of_range_is_named_before_anything_runs(
        here: Path, capsys: pytest.CaptureFixture[str], words: list[str], line: str):
    assert main(["render", "tale.story", *words]) == 2
    assert capsys.readouterr().err == f"storyreel render: {line}\n"
    assert not (here / "renders").exists()


def test_a_job_with_a_bad_setting_fails_before_any_stage(here: Path):
    from omegaconf import OmegaConf

    from engine.config import compose_config, settings_from
    from engine.errors import ConfigError

    cfg = compose_config(TINY, story=here / "tale.story")
    OmegaConf.update(cfg, "render.fps", 0)
    with pytest.raises(ConfigError, match=r"^render\.fps=0 is not allowed: it must be a whole "
                                          r"number from 1 to 240$"):
        settings_from(cfg, here / "run")


def test_a_failed_single_run_says_which_command_failed(here: Path):
    done = storyreel("render", "tale.story", *TINY, "render.auto_trainedness.identity_weight=3",
                     cwd=here)
    assert done.returncode == 1
    assert done.stderr.startswith("storyreel render: error: render.auto_trainedness: ")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.mark.slow
def test_a_sweep_prints_whole_paths_and_a_failed_job_once(here: Path):
    sweep = here / ("a-sweep-folder-with-a-long-name-" * 4).rstrip("-")
    done = storyreel("render", "-m", "tale.story", *TINY[:2], "render.fps=4",
                     "video.audio_bitrate=128k,lots", f"hydra.sweep.dir={sweep}", cwd=here)
    assert done.returncode == 1, done.stderr
    output = done.stdout + done.stderr
    assert f"video: {sweep}/0_tale/video.mp4\n" in output
    assert output.count("encoding the narration failed") == 1
    assert "Error executing job" not in output and "HYDRA_FULL_ERROR" not in output
    assert f"every job's outcome: {sweep}/sweep.html\n" in done.stderr


def test_a_closed_pipe_ends_any_command_quietly(here: Path):
    (here / ".git").mkdir()  # a story repository, whose cache `cache info` describes
    (here / ".storyreel" / "cache").mkdir(parents=True)
    for args in (["cache", "info"], ["render", "--help"], ["--help"]):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the first line, as `| head -0` leaves it
        try:
            done = storyreel(*args, cwd=here, stdout=write_end)
        finally:
            os.close(write_end)
        assert (done.returncode, done.stderr) == (141, ""), args


def test_a_folder_on_the_way_to_the_cache_names_the_setting_that_moves_it(tmp_path: Path):
    cache = tmp_path / ".storyreel" / "cache"
    places = {tmp_path / "run": ("the run folder", "choose another: hydra.run.dir=PATH"),
              cache: ("the cache", "choose another: cache.dir=PATH")}
    error = OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / ".storyreel"))
    line = explain_os_error(error, places)
    assert line.startswith(f"{tmp_path / '.storyreel'} (on the way to the cache {cache}): ")
    assert line.endswith("or choose another: cache.dir=PATH")


def test_an_unreachable_speech_service_reads_as_such():
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    from engine.backends.tts.edge import network_failure

    key = ConnectionKey("speech.platform.bing.com", 443, True, ssl.create_default_context(),
                        None, None, None)
    error = aiohttp.ClientConnectorError(key, OSError(-3, "Temporary failure in name resolution"))
    assert "SSLContext object" in str(error)
    assert network_failure(error) == ("cannot reach speech.platform.bing.com:443 (Temporary "
                                      "failure in name resolution)")


def test_an_empty_reviewer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    run = make_run(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["review", str(run), "--approve", "all", "--reviewer", " "]) == 2
    assert capsys.readouterr().err == ("storyreel review: error: --reviewer needs a name (leave "
                                       "it out to use git's user.name)\n")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_multirun_cannot_show_its_config(here: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["render", "-m", "tale.story", "--cfg", "job"]) == 2
    assert capsys.readouterr().err == ("storyreel render: --cfg and --info show one run's "
                                       "configuration: leave out -m (and any sweep)\n")
