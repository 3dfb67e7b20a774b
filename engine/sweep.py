"""A Hydra callback that records each multirun job's outcome and writes the sweep's sweep.html."""

from __future__ import annotations

import fcntl
import html
import json
import logging
import os
import re
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from engine.errors import counted
from engine.files import write_atomically
from engine.overrides import literal_value
from engine.secrets import mask
from engine.storyboard import link

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
PAGE = "sweep.html"
LOCK = ".sweep.lock"

_STYLE = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2rem;color:#222;background:#faf7f2}
table{border-collapse:collapse;width:100%}td,th{padding:.5rem;border-bottom:1px solid #ddd;
vertical-align:top;text-align:left}.strip{display:flex;gap:.25rem;flex-wrap:wrap;max-width:40rem}
.strip img{height:4.5rem;border-radius:4px}video{width:20rem}.ok{color:#2a7a3a;font-weight:600}
.failed{color:#b3261e;font-weight:600}.running{color:#946200}pre{white-space:pre-wrap;
max-width:30rem;font-size:.8rem;color:#b3261e;margin:.3rem 0}code{font-size:.8rem}
.counts{font-size:.8rem;color:#555}.logs{font-size:.8rem}.lost{color:#b3261e;font-weight:600}
.interrupted{color:#946200;font-weight:600}
"""
LOST = ("the job ended without reporting (killed, out of memory or past its time limit?); "
        "its log says how far it got")
INTERRUPTED = "the sweep was stopped (Ctrl-C, or its launcher failed) before this job finished"
_sweeps: list[Path] = []
"""The sweep folders this (driver) process started, for close_sweeps."""


class JobFailed(CompactHydraException):
    """A multirun job that failed cleanly: Hydra records it, runs the other jobs, and at the end
    prints the first failure's message (no traceback) and exits 1."""

    def __init__(self, reason: str, page: str | None = None):
        if page is None and HydraConfig.initialized():
            page = str(Path(str(HydraConfig.get().sweep.dir)).absolute() / PAGE)
        self.reason, self.page = reason, page
        super().__init__(f"{reason}\nevery job's outcome: {page}" if page else reason)

    def __reduce__(self) -> tuple[type[JobFailed], tuple[str, str | None]]:
        return JobFailed, (self.reason, self.page)  # joblib sends it back from its worker


def in_multirun() -> bool:
    """Whether this process is running a job of a Hydra multirun."""
    if not HydraConfig.initialized():
        return False
    return str(HydraConfig.get().mode) == "RunMode.MULTIRUN"


def _multirun(config: DictConfig) -> bool:
    return str(OmegaConf.select(config, "hydra.mode", default="")) == "RunMode.MULTIRUN"


def _job_dir(config: DictConfig) -> Path:
    return Path(str(config.hydra.runtime.output_dir))


def _sweep_dir(config: DictConfig) -> Path:
    return Path(str(config.hydra.sweep.dir)).absolute()


class SweepReport(Callback):
    """In a multirun: `job.json` in each job's folder, and `sweep.html` in the sweep folder,
    rewritten as each job ends (so it is complete even when Hydra stops on a failed job). The
    job callbacks run wherever the launcher runs the job (a joblib worker, a SLURM node, a Ray
    worker); the sweep folder is the only thing they share."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _sweeps.append(_sweep_dir(config))

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _multirun(config):
            return
        self._started = time.time()
        _write_job(config, {"status": "running", "host": socket.gethostname(),
                            "logs": _job_logs(config)})
        write_sweep_page(_sweep_dir(config))

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if not _multirun(config):
            return
        seconds = round(time.time() - getattr(self, "_started", time.time()), 3)
        if job_return.status == JobStatus.COMPLETED:
            _write_job(config, {"status": "ok", "seconds": seconds})
        else:
            error = job_return._return_value
            if isinstance(error, JobFailed):
                text = error.reason
            else:
                text = f"{type(error).__name__}: {error}" if error is not None else "failed"
            _write_job(config, {"status": "failed", "error": mask(text), "seconds": seconds})
            _log_to_job_file(config, f"job failed: {mask(text)}")
        write_sweep_page(_sweep_dir(config))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        page = write_sweep_page(_sweep_dir(config))
        log.info("sweep report: %s", page)


def _write_job(config: DictConfig, fields: dict[str, Any]) -> None:
    """(Re)write the job's job.json: what `on_job_start` recorded, updated with these fields."""
    overrides = [str(o) for o in OmegaConf.to_container(config.hydra.overrides.task) or []]
    job_dir = _job_dir(config)
    job_dir.mkdir(parents=True, exist_ok=True)
    body = {**_read_job(job_dir / JOB_FILE), **fields,
            "num": int(OmegaConf.select(config, "hydra.job.num", default=0) or 0),
            "overrides": overrides}
    if fields.get("status") == "running":  # a requeued job starts over
        body = {key: body[key] for key in ("num", "overrides", *fields)}
    write_atomically(job_dir / JOB_FILE, json.dumps(body, indent=1))


def _read_job(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _job_logs(config: DictConfig) -> dict[str, str]:
    """The job's log files by name: its own log (Hydra's file handler), and where the launcher
    sends its output (submitit's stdout and stderr files); paths relative to the sweep folder."""
    logs = {"log": str(_job_dir(config) / f"{config.hydra.job.name}.log")}
    if os.environ.get("SUBMITIT_EXECUTOR"):
        import submitit

        paths = submitit.JobEnvironment().paths
        logs |= {"stdout": str(paths.stdout), "stderr": str(paths.stderr)}
    sweep_dir = _sweep_dir(config)
    return {name: _relative(Path(path).absolute(), sweep_dir) for name, path in logs.items()}


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _log_to_job_file(config: DictConfig, message: str) -> None:
    """A line in the job's own log file only (the console has already shown the error)."""
    job_dir = _job_dir(config).absolute()
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and \
                Path(handler.baseFilename).parent == job_dir:
            handler.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, message, (), None))


def close_sweeps(*, stopped: bool = False) -> None:
    """After the launcher returns, or the sweep is stopped (Ctrl-C, a launcher failure): a job of
    this process's sweeps still `running` never reported (its process was killed) and is recorded
    as lost, or as interrupted when the sweep was stopped; the page is rewritten for the last
    time, and its lock file removed."""
    status, error = ("interrupted", INTERRUPTED) if stopped else ("lost", LOST)
    while _sweeps:
        sweep_dir = _sweeps.pop()
        for job_dir, job in read_jobs(sweep_dir):
            if job.get("status") == "running":
                write_atomically(job_dir / JOB_FILE,
                                 json.dumps({**job, "status": status, "error": error}, indent=1))
        if sweep_dir.is_dir():
            write_sweep_page(sweep_dir, last=True)


def read_jobs(sweep_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every job folder of a sweep with its job.json, in job order."""
    jobs = []
    for path in sweep_dir.glob(f"*/{JOB_FILE}"):
        try:
            jobs.append((path.parent, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return sorted(jobs, key=lambda job: (job[1].get("num", 0), job[0].name))


def _scene_images(job_dir: Path) -> list[Path]:
    """The job's scene pictures in story order (as its storyboard shows them)."""
    board = job_dir / "storyboard.html"
    if board.is_file():
        names = re.findall(r"<img class=main src='([^']+)'", board.read_text(encoding="utf-8"))
        found = [job_dir / unquote(html.unescape(n)) for n in names]
        found = [path for path in found if path.is_file()]
        if found:
            return found
    return sorted((job_dir / "scenes").glob("*.png"))


def _shown(override: str) -> str:
    """An override as the user typed it, not as Hydra escaped it for the job
    (`llm.base_url=http\\://h\\:8080/v1`); `story='/long/path/fox.story'` reads as
    `story=fox.story` (the file's literal name)."""
    key, value = literal_value(override)
    if key == "story":
        return f"story={Path(value).name}"
    return f"{key}={value}" if "=" in override else override


def _row(sweep_dir: Path, job_dir: Path, job: dict[str, Any]) -> str:
    esc = html.escape
    rel = job_dir.relative_to(sweep_dir).as_posix()
    status = str(job.get("status", "?"))
    overrides = "<br>".join(f"<code>{esc(_shown(o))}</code>" for o in job.get("overrides", []))
    strip = "".join(f"<img src='{link(p.relative_to(sweep_dir))}' "
                    f"alt='{esc(p.stem)}' title='{esc(p.stem)}'>" for p in _scene_images(job_dir))
    video = ""
    if (job_dir / "video.mp4").is_file():
        video = (f"<video controls preload=metadata src='{link(f'{rel}/video.mp4')}'></video>"
                 f"<br><a href='{link(f'{rel}/storyboard.html')}'>storyboard</a>")
    counts = ""
    manifest = job_dir / "manifest.json"
    if manifest.is_file():
        try:
            stages = json.loads(manifest.read_text(encoding="utf-8")).get("stages", {})
            counts = " · ".join(f"{esc(s)} {v.get('made', 0)} made, {v.get('reused', 0)} reused"
                                for s, v in stages.items())
        except (OSError, ValueError, AttributeError):
            counts = ""
    error = f"<pre>{esc(str(job['error']))}</pre>" if job.get("error") else ""
    seconds = f"{job['seconds']:.1f} s" if isinstance(job.get("seconds"), (int, float)) else ""
    host = f" on {esc(str(job['host']))}" if job.get("host") else ""
    return (f"<tr class=job data-status='{esc(status)}'><td>{esc(str(job.get('num', '')))}</td>"
            f"<td>{overrides}<div class=counts>{counts}</div></td>"
            f"<td><div class=strip>{strip}</div></td><td>{video}</td>"
            f"<td><span class='{esc(status)}'>{esc(status)}</span> {seconds}{host}{error}"
            f"{_log_links(sweep_dir, job)}</td></tr>")


def _log_links(sweep_dir: Path, job: dict[str, Any]) -> str:
    """Links to the job's log files that exist (a job killed early may have written none)."""
    logs = job.get("logs") if isinstance(job.get("logs"), dict) else {}
    links = [f"<a href='{link(Path(path))}'>{html.escape(str(name))}</a>"
             for name, path in logs.items() if (sweep_dir / str(path)).is_file()]
    return f"<div class=logs>{' · '.join(links)}</div>" if links else ""


def write_sweep_page(sweep_dir: Path, *, last: bool = False) -> Path:
    """(Re)write sweep.html from the job folders; a lock keeps parallel jobs from interleaving.
    The driver's `last` write removes the lock file (its jobs have ended, or were stopped)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(sweep_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        write_atomically(sweep_dir / PAGE, _page(sweep_dir, read_jobs(sweep_dir)))
        if last:
            (sweep_dir / LOCK).unlink(missing_ok=True)
    finally:
        os.close(fd)
    return sweep_dir / PAGE


def _page(sweep_dir: Path, jobs: list[tuple[Path, dict[str, Any]]]) -> str:
    statuses = [job.get("status") for _, job in jobs]
    failed = sum(status in ("failed", "lost") for status in statuses)
    done, stopped = statuses.count("ok"), statuses.count("interrupted")
    stopped_count = f"{stopped} interrupted, " if stopped else ""
    rows = "\n".join(_row(sweep_dir, d, j) for d, j in jobs)
    return (f"<!doctype html><meta charset=utf-8><title>sweep {esc_name(sweep_dir)}</title>"
            f"<style>{_STYLE}</style><h1>Sweep {esc_name(sweep_dir)}</h1>"
            f"<p>{counted(len(jobs), 'job')}: {done} ok, {failed} failed, {stopped_count}"
            f"{len(jobs) - done - failed - stopped} running</p>"
            "<table><tr><th>#</th><th>overrides</th><th>scenes</th><th>video</th>"
            f"<th>status</th></tr>\n{rows}\n</table>")


def esc_name(folder: Path) -> str:
    return html.escape(folder.name)
