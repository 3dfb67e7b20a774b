"""A story repository as a batch: each launcher's per-job overhead against a bare render of the
same story, and the throughput of an 8-story batch at 1 and 2 workers.

    .venv/bin/python benchmarks/batch.py [--stories 8] [--ray-python .venv-ray/bin/python]
                                         [--no-throughput] [--compile-every-run]

Every render is the real command (`python -m engine render ...`) in a fresh process, with compiled
bytecode kept between runs (a pycache of the benchmark's own: an installed storyreel has its .pyc
files, while a checkout under PYTHONDONTWRITEBYTECODE would compile every module in every process).
Overhead: one job through the launcher (`-m`, one story) minus a bare `render` of that story, both
with the cache warm, so what is left is what the launcher adds (submitting, a job process,
collecting the result; `collect` is the last part alone: from the job's end, recorded in its
job.json, to the driver's last sweep.html); then each further job of a warm batch of --batch
stories (the batch's wall less the one job's, per further story); the launchers take turns run
by run, best of --repeats. storyreel's launchers (hydra_plugins/storyreel_launchers) are
measured beside the plugins' own ones they replace (rows marked "plugin's"). Ray is measured on
a cluster started once (`ray start --head`), as a batch runs on one that is up. Throughput: the
8 stories cold (a cache of their own each time), one after another as bare renders (the
baseline), then as one batch on 1 and on 2 workers. The load average is printed with each part:
the numbers only compare within one run. Targets (issue 15): submitit_local ≤ 1.5 s per job, Ray
≤ 1 s per job after the cluster is up.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["render.width=256", "render.height=144", "render.fps=8"]
PLACES = ["a sunny meadow", "a dark forest", "a quiet village at night", "a sandy beach",
          "a cosy kitchen", "a snowy hill", "a rainy street", "a castle garden",
          "a riverbank at sunset", "a library", "a mountain path", "a lighthouse"]


def story_text(n: int) -> str:
    """A complete one-scene story (nothing for the writer to fill); no picture or line of it is
    in another story, so a batch sharing one cache does the same work as separate renders."""
    place = PLACES[n % len(PLACES)]
    return "\n".join([
        f"title: Walk {n}", "", "character Mo", "  description: a small blue hedgehog", "",
        "scene there", f"  setting: {place}", f"  image: Mo walking through {place}",
        "  with: Mo", f'  "Mo walked to {place}, story {n}."', f'  Mo: "How lovely, {n}!"',
        ""])


PLUGIN_TARGET = {
    "submitit_local": "hydra.launcher._target_="
                      "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher",
    "ray": "hydra.launcher._target_=hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"}
"""The plugins' own launchers, which storyreel's (hydra_plugins/storyreel_launchers) take the
names of: the rows marked "plugin's" measure them in the same run, as the baseline."""


RAY_ENV = {"RAY_AUTH_MODE": "token"}
"""`ray start` makes a cluster that wants the token in ~/.ray/auth_token from every client."""


KEEP_BYTECODE = [True]
"""False with --compile-every-run: this environment's PYTHONDONTWRITEBYTECODE left as it is."""


def child_env(pycache: Path) -> dict[str, str]:
    """The environment of every command and of the Ray head (whose workers inherit it): this
    checkout first, Ray's token, and bytecode compiled once into `pycache` and reused."""
    env = {**os.environ, **RAY_ENV, "PYTHONPATH": str(ROOT)}
    if KEEP_BYTECODE[0]:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def load() -> str:
    """The 1-minute load average, as the numbers printed next to it were measured."""
    return f"load {os.getloadavg()[0]:.1f}"


def folder_name(label: str) -> str:
    """A label (`ray, 2 workers`) as a folder name an override takes unquoted."""
    return "".join(c if c.isalnum() else "-" for c in label)


class Seconds(NamedTuple):
    wall: float
    cpu: float
    """user + system seconds of the command and of every process it waited for (submitit's job
    processes, loky workers; not a Ray worker, which the cluster's raylet started)"""


def command(python: str, *args: str, cwd: Path) -> Seconds:
    """Seconds of one `engine render` command; a failure stops the benchmark."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([python, "-m", "engine", "render", *args], check=False, cwd=cwd,
                          env=child_env(cwd / "pycache"), capture_output=True, text=True)
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"benchmark: render {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return Seconds(wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def best(runs: list[Seconds]) -> Seconds:
    return Seconds(min(r.wall for r in runs), min(r.cpu for r in runs))


def collecting(sweep: Path) -> float:
    """Seconds from the sweep's last job recording its end (its job.json) to the driver's last
    write of sweep.html, after the launcher has returned: the job process ending, and the
    launcher noticing it and reading its result."""
    ended = max(job.stat().st_mtime for job in sweep.glob("*/job.json"))
    return (sweep / "sweep.html").stat().st_mtime - ended


def overhead(repo: Path, stories: list[Path], launchers: dict[str, tuple[str, list[str]]],
             repeats: int) -> None:
    """Seconds each launcher adds to a bare render of one story (warm cache), and what each
    further job of a warm batch of `stories` costs, in wall and in CPU seconds; the launchers
    take turns, run by run, so a change in the machine's load falls on all of them alike."""
    cache = [f"cache.dir={repo / 'cache-warm'}", *SMALL]
    batch = ",".join(str(s) for s in stories)
    command(sys.executable, "-m", batch, *cache, "hydra/launcher=joblib", "hydra.launcher.n_jobs=1",
            f"hydra.sweep.dir={repo / 'warm'}", cwd=repo)  # the cache and the pycache warm
    bare = best([command(sys.executable, str(stories[0]), *cache,
                         f"hydra.run.dir={repo / 'bare'}", cwd=repo) for _ in range(repeats)])
    print(f"\nbare render, warm cache: {bare.wall:.2f} s, {bare.cpu:.2f} s CPU "
          f"(best of {repeats}; {load()})")
    ones: dict[str, list[Seconds]] = {name: [] for name in launchers}
    batches: dict[str, list[Seconds]] = {name: [] for name in launchers}
    collect: dict[str, list[float]] = {name: [] for name in launchers}
    for n in range(repeats):
        for name, (python, settings) in launchers.items():
            sweeps = repo / "sweeps" / folder_name(name)
            ones[name].append(command(python, "-m", str(stories[0]), *cache, *settings,
                                      f"hydra.sweep.dir={sweeps}-{n}", cwd=repo))
            collect[name].append(collecting(Path(f"{sweeps}-{n}")))
            batches[name].append(command(python, "-m", batch, *cache, *settings,
                                         f"hydra.sweep.dir={sweeps}-batch-{n}", cwd=repo))
    print(f"{'launcher':<26}{'one job':>9}{'overhead':>10}{'CPU':>7}{'CPU over':>10}"
          f"{f'{len(stories)} jobs':>9}{'each further':>14}{'CPU':>7}{'collect':>9}  (best of "
          f"{repeats}; {load()})")
    for name in launchers:
        one, several = best(ones[name]), best(batches[name])
        further = Seconds(*((a - b) / (len(stories) - 1) for a, b in zip(several, one)))
        print(f"{name:<26}{one.wall:>8.2f}s{one.wall - bare.wall:>9.2f}s{one.cpu:>6.2f}s"
              f"{one.cpu - bare.cpu:>9.2f}s{several.wall:>8.2f}s{further.wall:>13.2f}s"
              f"{further.cpu:>6.2f}s{min(collect[name]):>8.2f}s")


def throughput(repo: Path, stories: list[Path], batches: dict[str, tuple[str, list[str]]]) -> None:
    """The stories cold: one after another as bare renders, then as a batch per launcher."""
    def cold(name: str) -> list[str]:
        return [f"cache.dir={repo / 'cold' / folder_name(name)}", *SMALL]

    bare = sum(command(sys.executable, str(story), *cold("bare"),
                       f"hydra.run.dir={repo / 'bare-runs' / story.stem}", cwd=repo).wall
               for story in stories)
    count = len(stories)
    print(f"\n{count} stories cold, bare renders one after another: {bare:.1f} s "
          f"({count / bare * 60:.1f} stories/min; {load()})")
    print(f"{'batch':<22}{'wall':>9}{'stories/min':>13}{'vs bare':>9}")
    for name, (python, settings) in batches.items():
        wall = command(python, "-m", ",".join(str(s) for s in stories), *cold(name), *settings,
                       f"hydra.sweep.dir={repo / 'sweeps' / folder_name(name)}", cwd=repo).wall
        print(f"{name:<22}{wall:>8.1f}s{count / wall * 60:>13.1f}{bare / wall:>8.2f}×  ({load()})")


def start_ray(ray_python: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    """A Ray head with 2 CPUs on this machine (`ray start --block`, in a process group of its
    own), its workers started with `env`; returns it and the seconds until `ray status` finds it."""
    ray = str(Path(ray_python).parent / "ray")
    started = time.perf_counter()
    head = subprocess.Popen([ray, "start", "--head", "--block", "--num-cpus=2",
                             "--include-dashboard=false"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    while subprocess.run([ray, "status"], check=False, capture_output=True,
                         env=env).returncode != 0:
        if head.poll() is not None or time.perf_counter() - started > 300:
            stop_ray(head)
            sys.exit("benchmark: `ray start --head` did not come up")
        time.sleep(0.5)
    return head, time.perf_counter() - started


def stop_ray(head: subprocess.Popen[bytes]) -> None:
    """End the head and everything it started (its process group)."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(head.pid, sent)
            head.wait(timeout=30)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def ray_launcher(ray_python: str, workers: int) -> tuple[str, list[str]]:
    """hydra/launcher=ray_cluster on the started cluster, at most `workers` jobs at once."""
    return ray_python, ["hydra/launcher=ray_cluster", "hydra.launcher.ray.remote.num_gpus=0",
                        f"hydra.launcher.ray.remote.num_cpus={2 // workers}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4, help="stories in the warm batch")
    parser.add_argument("--no-throughput", action="store_true", help="the overheads only")
    parser.add_argument("--ray-python", default=str(ROOT / ".venv-ray" / "bin" / "python"))
    parser.add_argument("--compile-every-run", action="store_true",
                        help="no bytecode kept between runs (as under PYTHONDONTWRITEBYTECODE)")
    args = parser.parse_args()
    KEEP_BYTECODE[0] = not args.compile_every_run
    ray_python = args.ray_python if Path(args.ray_python).is_file() else None
    with tempfile.TemporaryDirectory(prefix="storyreel-batch-") as folder:
        repo = Path(folder)
        (repo / ".git").mkdir()  # a story repository's root
        stories = []
        for n in range(args.stories):
            stories.append(repo / "stories" / f"walk-{n}.story")
            stories[-1].parent.mkdir(exist_ok=True)
            stories[-1].write_text(story_text(n))
        launchers = {"joblib": (sys.executable, ["hydra/launcher=joblib"]),
                     "submitit_local": (sys.executable, ["hydra/launcher=submitit_local"]),
                     "submitit_local, plugin's": (sys.executable, [
                         "hydra/launcher=submitit_local", PLUGIN_TARGET["submitit_local"]])}
        batches = {"joblib, 1 worker": (sys.executable, ["hydra/launcher=joblib",
                                                         "hydra.launcher.n_jobs=1"]),
                   "joblib, 2 workers": (sys.executable, ["hydra/launcher=joblib",
                                                          "hydra.launcher.n_jobs=2"]),
                   "submitit_local, all": (sys.executable, ["hydra/launcher=submitit_local"])}
        head = None
        if ray_python:
            head, seconds = start_ray(ray_python, child_env(repo / "pycache"))
            print(f"ray start --head: {seconds:.1f} s")
            launchers["ray (cluster up)"] = ray_launcher(ray_python, 2)
            python, settings = ray_launcher(ray_python, 2)
            launchers["ray (cluster up), plugin's"] = (python, [*settings, PLUGIN_TARGET["ray"]])
            batches |= {"ray, 1 worker": ray_launcher(ray_python, 1),
                        "ray, 2 workers": ray_launcher(ray_python, 2)}
        else:
            print(f"no {args.ray_python}: Ray left out (scripts/setup.sh --dev builds it)")
        try:
            overhead(repo, stories[:max(args.batch, 2)], launchers, args.repeats)
            if not args.no_throughput:
                throughput(repo, stories, batches)
        finally:
            if head is not None:
                stop_ray(head)


if __name__ == "__main__":
    main()
