"""A story repository as a batch on real launchers: submitit's local executor (one subprocess a
job), a local Ray cluster, and the SLURM preset's sbatch script; the task function they ship."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.sweep import read_jobs

ROOT = Path(__file__).resolve().parents[1]
RAY_PYTHON = ROOT / ".venv-ray" / "bin" / "python"
TINY = ["render.width=64", "render.height=48", "render.fps=4"]
STORIES = {"hill": 'title: Hill\n\nscene hill\n  image: a green hill\n  "Hello, hill."\n',
           "pond": 'title: Pond\n\nscene pond\n  image: a blue pond\n  "Hello, pond."\n'}


def _repository(root: Path) -> Path:
    (root / "stories").mkdir(parents=True)
    for name, text in STORIES.items():
        (root / "stories" / f"{name}.story").write_text(text)
    return root


def _render(python: Path | str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"}
    return subprocess.run([str(python), "-m", "engine", "render", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=400)


FAILS = "video.caption_place=auto,nowhere"
"""A sweep whose second value fails in its job (as it builds its editor): every sweep value but
the first is composed in the job, not before the sweep."""
FAILED = "video.caption_place is one of auto, bottom, top, not 'nowhere'"


def _jobs_by_story(sweep: Path) -> dict[tuple[str, str], dict]:
    """(story file name, caption place override) → job.json, for every job folder."""
    found = {}
    for _, job in read_jobs(sweep):
        story = next(o for o in job["overrides"] if o.startswith("story="))
        seed = next((o for o in job["overrides"] if o.startswith("video.caption_place=")), "")
        found[Path(story.split("=", 1)[1].strip("'")).name, seed] = job
    return found


def test_the_task_function_is_import_clean_and_picklable():
    probe = """
import io, pickle, socket, sys, threading
import engine.commands.render as render
assert pickle.loads(pickle.dumps(render._task)) is render._task
held = [name for name, value in vars(render).items()
        if isinstance(value, (io.IOBase, socket.socket, type(threading.Lock())))]
heavy = sorted(m for m in ("engine.cache", "engine.locks", "openai", "torch", "transformers",
                          "diffusers", "cv2", "scipy", "moviepy", "PIL", "numpy", "submitit",
                          "ray") if m in sys.modules)
print(held, heavy)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "[]"]


def test_a_storyreel_process_ends_without_the_last_garbage_collection():
    """The interpreter's final collection walks every object a run made (0.2-0.6 s a process, on
    the path of every job): the CLI and the task function freeze them after every other exit
    handler, registered once however many commands or jobs one process runs."""
    probe = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))  # runs last
from engine.cli import main
main(["--help"])
once = atexit._ncallbacks()
main(["--help"])
print("handlers added again:", atexit._ncallbacks() - once, "frozen now:",
      gc.get_freeze_count() > 0)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["handlers added again: 0 frozen now: False",
                                             "frozen at exit: True"]


@pytest.mark.slow
def test_submitit_local_renders_a_batch_as_subprocess_jobs_and_reports_every_job(tmp_path: Path):
    repo = _repository(tmp_path)
    sweep = repo / "sweep"
    done = _render(sys.executable, "-m", "stories/*.story", FAILS, *TINY,
                   "hydra/launcher=submitit_local", f"hydra.sweep.dir={sweep}", cwd=repo)
    assert done.returncode == 1  # a failed job fails the command, after every job has run
    assert FAILED in done.stderr
    assert "Traceback" not in done.stderr
    jobs = _jobs_by_story(sweep)
    assert sorted(jobs) == [("hill.story", "video.caption_place=auto"),
                            ("hill.story", "video.caption_place=nowhere"),
                            ("pond.story", "video.caption_place=auto"),
                            ("pond.story", "video.caption_place=nowhere")]
    page = (sweep / "sweep.html").read_text()
    assert "4 jobs: 2 ok, 2 failed, 0 running" in page
    for (story, seed), job in jobs.items():
        assert job["status"] == ("ok" if seed.endswith("=auto") else "failed")
        assert set(job["logs"]) == {"log", "stdout", "stderr"}
        # each job ran in a submitit subprocess of its own, which wrote these files
        assert job["logs"]["stderr"].startswith(".submitit/")
        for path in job["logs"].values():
            assert (sweep / path).is_file()
            assert f"href='{path}'" in page
        job_log = (sweep / job["logs"]["log"]).read_text()
        if job["status"] == "failed":
            assert "job failed: " in job_log and FAILED in job_log
        else:
            folder = sweep / Path(job["logs"]["log"]).parent
            assert (folder / "video.mp4").stat().st_size > 0
    assert len({job["logs"]["stdout"] for job in jobs.values()}) == 4  # a process each


def _launcher_targets(python: Path | str, choices: list[str]) -> dict[str, str]:
    """hydra/launcher=CHOICE → the class Hydra instantiates for it, composed in `python`'s
    environment as the render command composes (this checkout's conf/, every plugin scanned)."""
    probe = f"""
from hydra import compose, initialize_config_dir
from hydra.core.plugins import Plugins
from engine.config import CONF_DIR, register_resolvers
register_resolvers()
with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
    for choice in {choices!r}:
        cfg = compose("config", overrides=["story=x.story", "hydra/launcher=" + choice],
                      return_hydra_config=True)
        target = cfg.hydra.launcher._target_
        found = Plugins.instance().class_name_to_class[target]  # what instantiating it takes
        print(choice, f"{{found.__module__}}.{{found.__qualname__}}")
"""
    done = subprocess.run([str(python), "-W", "error::UserWarning", "-c", probe],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(line.split() for line in done.stdout.splitlines())


def test_the_submitit_names_choose_storyreels_launchers_which_wait_less():
    """A checkout's hydra_plugins/ comes first on the path, so Hydra's scan runs the plugin's
    own config module after ours: the names are still ours, with the plugin's settings."""
    assert _launcher_targets(sys.executable, ["submitit_local", "submitit_slurm", "slurm"]) == {
        "submitit_local": "hydra_plugins.storyreel_launchers._submitit.LocalLauncher",
        "submitit_slurm": "hydra_plugins.storyreel_launchers._submitit.SlurmLauncher",
        "slurm": "hydra_plugins.storyreel_launchers._submitit.SlurmLauncher"}


@pytest.mark.skipif(not RAY_PYTHON.is_file(),
                    reason="Ray lives in .venv-ray (scripts/setup.sh --dev builds it)")
def test_the_ray_names_choose_storyreels_launcher():
    assert _launcher_targets(RAY_PYTHON, ["ray", "ray_cluster"]) == {
        "ray": "hydra_plugins.storyreel_launchers._ray.RayLauncher",
        "ray_cluster": "hydra_plugins.storyreel_launchers._ray.RayLauncher"}


def test_a_job_is_waited_for_until_its_result_is_written_or_it_has_ended(tmp_path: Path):
    """The driver's wait (submitit's `Job.wait`, swapped while a launch waits) returns once the
    job's result is in place, though its processes are still ending, or once submitit says the
    job has ended without one; submitit's own wait is back afterwards, however the block ends."""
    from types import SimpleNamespace

    from submitit.core.core import Job

    from hydra_plugins.storyreel_launchers._submitit import polling_every

    class Running:
        """A job that writes its result at its `finishes_at`-th look and never ends by itself,
        or (without `finishes_at`) ends at its fourth look without a result."""

        def __init__(self, result: Path, finishes_at: int | None):
            self.paths = SimpleNamespace(result_pickle=result)
            self.looks, self.finishes_at = 0, finishes_at

        def done(self) -> bool:
            self.looks += 1
            if self.looks == self.finishes_at:
                self.paths.result_pickle.write_bytes(b"result")
            return self.finishes_at is None and self.looks == 4

    saved = Job.wait
    writes, dies = Running(tmp_path / "0_result.pkl", 3), Running(tmp_path / "1_result.pkl", None)
    with polling_every(0.05):
        Job.wait(writes)  # type: ignore[arg-type]
        Job.wait(dies)  # type: ignore[arg-type]
    assert (writes.looks, dies.looks) == (3, 4)
    assert not dies.paths.result_pickle.exists()
    assert Job.wait is saved
    with pytest.raises(KeyboardInterrupt), polling_every(0.05):
        raise KeyboardInterrupt  # Ctrl-C while waiting
    assert Job.wait is saved


WALK = "\n".join(["title: Walk", "", "character Mo", "  description: a small blue hedgehog", ""]
                 + [line for place in ("meadow", "forest", "beach") for line in (
                     f"scene {place}", f"  setting: a quiet {place}", f"  image: Mo in the {place}",
                     "  with: Mo", f'  "Mo walked through the {place}."', f'  Mo: "Hello, {place}!"',
                     "")])
SMALL = ["render.width=160", "render.height=90", "render.fps=8"]


def _job_process(sweep: Path) -> int | None:
    """The pid of the sweep's job process (`python -m submitit.core._submit SWEEP/...`)."""
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"submitit.core._submit" in words and any(str(sweep).encode() in w for w in words):
            return int(entry.name)
    return None


def _kill_job_mid_render(driver: subprocess.Popen[bytes], sweep: Path, cache: Path) -> bool:
    """SIGKILL the job process once some artifact is cached and the video is not yet written
    (then the driver too); False if the job finished first."""
    from engine.cache import Cache

    deadline = time.monotonic() + 300
    while driver.poll() is None and time.monotonic() < deadline:
        pid = _job_process(sweep)
        if pid and cache.is_dir() and any(Cache(cache).entries()) \
                and not (sweep / "0_walk" / "video.mp4").exists():
            os.kill(pid, signal.SIGKILL)
            driver.kill()
            driver.wait()
            return True
        time.sleep(0.005)
    driver.kill()
    driver.wait()
    return False


@pytest.mark.slow
def test_a_submitit_job_killed_mid_render_and_requeued_reaches_the_same_bytes(tmp_path: Path):
    """A SLURM requeue, with submitit's local executor standing in: the job process dies
    mid-render (SIGKILL: nothing to catch), then the same job id runs the same pickled call again
    (`python -m submitit.core._submit`, what the requeued sbatch script runs) and its job folder
    ends byte for byte as a clean render's, its finished work taken from the cache."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "walk.story").write_text(WALK)
    clean = _render(sys.executable, "walk.story", *SMALL, f"hydra.run.dir={tmp_path / 'clean'}",
                    f"cache.dir={tmp_path / 'clean-cache'}", cwd=repo)
    assert clean.returncode == 0, clean.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for attempt in range(3):  # until the kill lands mid-render
        sweep, cache = tmp_path / f"sweep-{attempt}", tmp_path / f"cache-{attempt}"
        driver = subprocess.Popen(
            [sys.executable, "-m", "engine", "render", "-m", "walk.story", *SMALL,
             "hydra/launcher=submitit_local", f"hydra.sweep.dir={sweep}", f"cache.dir={cache}"],
            cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _kill_job_mid_render(driver, sweep, cache):
            break
    else:
        pytest.fail("every job finished before it could be killed")
    [job_id] = [d.name for d in (sweep / ".submitit").iterdir() if d.name.isdigit()]
    requeued = subprocess.run(
        [sys.executable, "-m", "submitit.core._submit", str(sweep / ".submitit" / "%j")],
        check=False, cwd=repo, capture_output=True, text=True, timeout=300,
        env={**env, "SUBMITIT_EXECUTOR": "local", "SUBMITIT_LOCAL_JOB_ID": job_id,
             "SUBMITIT_LOCAL_NTASKS": "1", "SUBMITIT_LOCAL_JOB_NUM_NODES": "1",
             "SUBMITIT_LOCAL_NODEID": "0", "SUBMITIT_LOCAL_LOCALID": "0",
             "SUBMITIT_LOCAL_GLOBALID": "0"})
    assert requeued.returncode == 0, requeued.stderr[-3000:]
    job = sweep / "0_walk"
    for name in ("video.mp4", "captions.srt", "captions.vtt", "resolved.story"):
        assert (job / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name
    artifacts = json.loads((job / "manifest.json").read_text())["artifacts"]
    assert any(not a["made"] for a in artifacts)  # resumed: the killed job's work was reused


@pytest.mark.slow
def test_the_slurm_preset_submits_an_sbatch_array_and_a_refusal_is_one_line(tmp_path: Path):
    """`hydra/launcher=slurm` on a machine whose `sbatch` keeps the script and refuses it (as a
    cluster does for a wrong account): one array job, carrying the preset's settings."""
    repo = _repository(tmp_path / "repo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sbatch").write_text(
        f"#!/bin/sh\ncp \"$1\" {tmp_path / 'submitted.sh'}\n"
        "echo 'sbatch: error: Batch job submission failed: Invalid account' >&2\nexit 1\n")
    for tool in ("srun", "sbatch"):
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "engine", "render", "-m", "stories/*.story",
                           "seed=range(9)", "hydra/launcher=slurm", "hydra.launcher.account=my-lab",
                           f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == ("storyreel render: error: the launcher failed: "
                                            "sbatch: error: Batch job submission failed: "
                                            "Invalid account")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "sweep" / ".sweep.lock").exists()  # the failed sweep holds no lock
    script = (tmp_path / "submitted.sh").read_text()
    # 2 stories × 9 seeds in one array, at most 16 at once
    for line in ("#SBATCH --array=0-17%16", "#SBATCH --partition=gpu", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --time=120", "#SBATCH --cpus-per-task=4", "#SBATCH --mem=32GB",
                 "#SBATCH --account=my-lab", "#SBATCH --signal=USR2@120", "#SBATCH --requeue"):
        assert line in script
    assert "export SUBMITIT_EXECUTOR=slurm" in script


def test_a_launcher_plugin_not_installed_names_the_extra():
    from engine.overrides import composition_problem
    from engine.config import CONF_DIR

    for choice in ("ray", "ray_cluster"):
        problem = composition_problem(CONF_DIR, ["story=x.story", f"hydra/launcher={choice}"])
        if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher"):  # in .venv-ray
            assert problem is None
        else:
            assert problem == ("hydra/launcher=ray needs its Hydra plugin: pip install "
                               "'storyreel[ray]' in an environment of its own (docs/cluster.md)")


@pytest.mark.slow
@pytest.mark.skipif(not RAY_PYTHON.is_file(),
                    reason="Ray lives in .venv-ray (scripts/setup.sh --dev builds it)")
def test_a_local_ray_cluster_renders_the_batch(tmp_path: Path):
    repo = _repository(tmp_path)
    sweep = repo / "sweep"
    done = _render(RAY_PYTHON, "-m", "stories/*.story", FAILS, *TINY, "hydra/launcher=ray",
                   "++hydra.launcher.ray.init.address=local",  # a new cluster, never one running
                   "++hydra.launcher.ray.init._node_ip_address=127.0.0.1",
                   "++hydra.launcher.ray.init.num_cpus=2",
                   "++hydra.launcher.ray.init.include_dashboard=false",
                   f"hydra.sweep.dir={sweep}", cwd=repo)
    assert done.returncode == 1, done.stderr[-3000:]  # a failed job fails the command
    assert FAILED in done.stderr
    jobs = _jobs_by_story(sweep)
    assert sorted(jobs) == [("hill.story", "video.caption_place=auto"),
                            ("hill.story", "video.caption_place=nowhere"),
                            ("pond.story", "video.caption_place=auto"),
                            ("pond.story", "video.caption_place=nowhere")]
    folders = {key: sweep / Path(job["logs"]["log"]).parent for key, job in jobs.items()}
    # each worker composed its job's config: its number (hydra.job.num) names its folder
    assert sorted(int(f.name.split("_")[0]) for f in folders.values()) == [0, 1, 2, 3]
    for (story, seed), job in jobs.items():
        folder = folders[story, seed]
        assert folder.name.endswith(f"_{Path(story).stem}")
        if seed.endswith("=auto"):
            assert job["status"] == "ok"
            assert (folder / "video.mp4").stat().st_size > 0
        else:
            assert job["status"] == "failed"
            assert FAILED in (folder / "render.log").read_text()
    assert "4 jobs: 2 ok, 2 failed, 0 running" in (sweep / "sweep.html").read_text()
