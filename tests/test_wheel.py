"""The wheel: built from the sources, installed in a fresh venv outside the checkout, used there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("engine", "hydra_plugins", "conf", "grammar", "pyproject.toml", "setup.py",
                "README.md")
"""What the build reads, copied out: no build/ or egg-info lands in (or leaks from) the checkout."""

STORY = "first-snow.story"


def run(command: list[str | Path], cwd: Path, timeout: int = 300) -> str:
    """Run without this checkout on PYTHONPATH; stdout, or a failure showing what went wrong."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{command[:3]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def setuptools_here() -> bool:
    """Whether this environment can build the wheel itself (no download of a build environment)."""
    try:
        return int(version("setuptools").split(".")[0]) >= 77
    except PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    isolation = ["--no-build-isolation"] if setuptools_here() else []
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q", source, "-w", dist],
        cwd=source)
    (built,) = dist.glob("storyreel-*.whl")
    return built


@pytest.fixture(scope="module")
def environment(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; the dependencies come from this venv's site-packages.

    A .pth line adds that folder to sys.path without processing the .pth files inside it, so
    this venv's editable `engine` (its finder is started by such a file) cannot leak in.
    """
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=home).strip())
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "storyreel-test-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", wheel], cwd=home)
    return home


def test_the_wheel_holds_the_grammar_every_config_and_the_code_but_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {f"engine/conf/{p.relative_to(ROOT / 'conf').as_posix()}"
               for p in (ROOT / "conf").rglob("*.yaml")}
    code = {p.relative_to(ROOT).as_posix() for folder in ("engine", "hydra_plugins")
            for p in (ROOT / folder).rglob("*.py")}
    assert "engine/conf/prompts/story.yaml" in configs
    assert configs <= names, sorted(configs - names)
    assert code <= names, sorted(code - names)
    assert {"engine/grammar/story.lark", "engine/py.typed",
            "engine/backends/safety_text/starter_deny.txt"} <= names  # read at run time
    assert not [n for n in names if n.startswith(("tests/", "conf/", "grammar/", "stories/"))]
    assert "hydra_plugins/__init__.py" not in names  # a namespace other plugins add to


def test_the_installed_wheel_checks_formats_and_renders_outside_the_checkout(
        environment: Path, tmp_path: Path) -> None:
    python, storyreel = environment / "bin" / "python", environment / "bin" / "storyreel"
    where = run([python, "-c", "import engine, engine.config as c, engine.dsl.parse as p; "
                 "print(engine.__file__, c.CONF_DIR, p.GRAMMAR_PATH, sep='\\n')"], cwd=tmp_path)
    for path in where.split():
        assert Path(path).exists() and Path(path).is_relative_to(environment), where

    shutil.copy2(ROOT / "stories" / STORY, tmp_path / STORY)
    # the story repository's own conf/ is still searched: a voice choice only it defines
    installed_conf = Path(where.split()[1])
    (tmp_path / "conf" / "tts").mkdir(parents=True)
    shutil.copy2(installed_conf / "tts" / "espeak.yaml",
                 tmp_path / "conf" / "tts" / "story-voice.yaml")

    assert "0 errors" in run([storyreel, "check", STORY], cwd=tmp_path)
    run([storyreel, "fmt", "--check", STORY], cwd=tmp_path)
    run([storyreel, "render", STORY, "tts=story-voice", "hydra.run.dir=out"], cwd=tmp_path,
        timeout=600)
    assert (tmp_path / "out" / "video.mp4").stat().st_size > 0


def test_the_installed_wheel_runs_a_batch_through_storyreels_submitit_launcher(
        environment: Path, tmp_path: Path) -> None:
    """Hydra finds the launchers in the installed wheel's hydra_plugins/ (beside the plugins'),
    and a job process, started from a pickle of the launcher, imports it from there."""
    storyreel = environment / "bin" / "storyreel"
    shutil.copy2(ROOT / "stories" / STORY, tmp_path / STORY)
    shown = run([storyreel, "render", STORY, "hydra/launcher=submitit_local", "--cfg", "hydra",
                 "--package", "hydra.launcher"], cwd=tmp_path)
    assert "_target_: hydra_plugins.storyreel_launchers._submitit.LocalLauncher" in shown
    run([storyreel, "render", "-m", STORY, "hydra/launcher=submitit_local",
         "render.width=128", "render.height=72", "hydra.sweep.dir=sweep"], cwd=tmp_path, timeout=600)
    job = next((tmp_path / "sweep").glob("0_*"))
    assert (job / "video.mp4").stat().st_size > 0
    [submitted] = (tmp_path / "sweep" / ".submitit").glob("*/*_submitted.pkl")
    assert b"hydra_plugins.storyreel_launchers._submitit" in submitted.read_bytes()
