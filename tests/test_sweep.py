"""sweep.html: one row per job with its overrides, scene strip, video and status."""

from __future__ import annotations

import json
from pathlib import Path

from engine.storyboard import link
from engine.sweep import PAGE, read_jobs, write_sweep_page


def _job(sweep: Path, name: str, body: dict, scenes: tuple[str, ...] = (), video: bool = False):
    job = sweep / name
    (job / "scenes").mkdir(parents=True)
    (job / "job.json").write_text(json.dumps(body))
    for scene in scenes:
        (job / "scenes" / f"{scene}.png").write_bytes(b"\x89PNG")
    if scenes:  # the storyboard's order is the story's order, not the alphabet's
        (job / "storyboard.html").write_text("".join(
            f"<img class=main src='scenes/{s}.png' alt='{s}'>" for s in scenes))
    if video:
        (job / "video.mp4").write_bytes(b"\x00")
        (job / "manifest.json").write_text(json.dumps(
            {"stages": {"draw": {"made": 2, "reused": 0}, "speak": {"made": 0, "reused": 3}}}))


def test_page_has_a_row_per_job_in_job_order(tmp_path: Path):
    sweep = tmp_path / "multirun" / "2026-01-01_00-00-00"
    _job(sweep, "10_b", {"num": 10, "overrides": ["story=/x/b.story"], "status": "running"})
    _job(sweep, "2_a", {"num": 2, "overrides": ["story=/x/a.story", "image=procedural"],
                        "status": "ok", "seconds": 3.25}, scenes=("zeta", "alpha"), video=True)
    _job(sweep, "3_a", {"num": 3, "overrides": ["story=/x/a.story", "render.width=161"],
                        "status": "failed", "error": "BackendError: <width> must be even"})
    page = write_sweep_page(sweep)
    assert page == sweep / PAGE
    text = page.read_text()
    assert [j["num"] for _, j in read_jobs(sweep)] == [2, 3, 10]
    assert text.count("<tr class=job") == 3
    assert "3 jobs: 1 ok, 1 failed, 1 running" in text
    assert text.index("2_a/scenes/zeta.png") < text.index("2_a/scenes/alpha.png")
    assert "<video controls preload=metadata src='2_a/video.mp4'>" in text
    assert "story=a.story" in text and "/x/a.story" not in text
    assert "BackendError: &lt;width&gt; must be even" in text
    assert "draw 2 made, 0 reused · speak 0 made, 3 reused" in text
    assert "3.2 s" in text


def test_story_overrides_show_the_literal_file_name(tmp_path: Path):
    sweep = tmp_path / "sweep"
    _job(sweep, "0_bedtime", {"num": 0, "overrides": ["story='/x/bedtime.story'"], "status": "ok"})
    _job(sweep, "1_a_{x}", {"num": 1, "overrides": [r"story='/x/a\${x}.story'"], "status": "ok"})
    _job(sweep, "2_O'Malley", {"num": 2, "overrides": [r"story='/x/O\'Malley.story'"],
                               "status": "ok"})
    text = write_sweep_page(sweep).read_text()
    assert "<code>story=bedtime.story</code>" in text and "bedtime.story'" not in text
    assert "<code>story=a${x}.story</code>" in text
    assert "<code>story=O&#x27;Malley.story</code>" in text


def test_every_override_shows_the_value_as_typed_not_as_hydra_escaped_it(tmp_path: Path):
    sweep = tmp_path / "sweep"
    _job(sweep, "0_a", {"num": 0, "overrides": [
        "story='/x/a.story'", r"llm.base_url=http\://127.0.0.1\:8080/v1",
        "video.font='Noto Sans'", "seed=3", "~tagger", "+extra.note=hi"], "status": "ok"})
    text = write_sweep_page(sweep).read_text()
    assert "<code>llm.base_url=http://127.0.0.1:8080/v1</code>" in text and "\\:" not in text
    assert "<code>video.font=Noto Sans</code>" in text and "<code>seed=3</code>" in text
    assert "<code>~tagger</code>" in text and "<code>+extra.note=hi</code>" in text


def test_names_with_quotes_are_linked_url_quoted_and_escaped(tmp_path: Path):
    sweep = tmp_path / "sweep"
    job = sweep / "0_O'Malley"
    (job / "scenes").mkdir(parents=True)
    (job / "job.json").write_text(json.dumps({"num": 0, "overrides": [], "status": "ok"}))
    (job / "scenes" / "O'Malley & co.png").write_bytes(b"\x89PNG")
    (job / "video.mp4").write_bytes(b"\x00")
    picture = Path("scenes") / "O'Malley & co.png"
    (job / "storyboard.html").write_text(f"<img class=main src='{link(picture)}'>")
    text = write_sweep_page(sweep).read_text()
    assert "<img src='0_O%27Malley/scenes/O%27Malley%20%26%20co.png' " \
           "alt='O&#x27;Malley &amp; co' title='O&#x27;Malley &amp; co'>" in text
    assert "src='0_O%27Malley/video.mp4'" in text
    assert "<a href='0_O%27Malley/storyboard.html'>" in text


def test_a_row_links_the_job_logs_that_exist(tmp_path: Path):
    sweep = tmp_path / "sweep"
    _job(sweep, "0_a", {"num": 0, "overrides": [], "status": "failed", "error": "boom",
                        "host": "node-7", "logs": {"log": "0_a/render.log",
                                                   "stdout": ".submitit/12_0/12_0_0_log.out",
                                                   "stderr": ".submitit/12_0/12_0_0_log.err"}})
    (sweep / "0_a" / "render.log").write_text("job failed: boom\n")
    (sweep / ".submitit" / "12_0").mkdir(parents=True)
    (sweep / ".submitit" / "12_0" / "12_0_0_log.err").write_text("Traceback ...\n")
    text = write_sweep_page(sweep).read_text()
    assert "on node-7" in text
    assert "<a href='0_a/render.log'>log</a> · " \
           "<a href='.submitit/12_0/12_0_0_log.err'>stderr</a>" in text
    assert "12_0_0_log.out" not in text  # never written: no dead link


def _sweep_with_a_running_job(tmp_path: Path) -> Path:
    from omegaconf import OmegaConf

    from engine.sweep import SweepReport

    sweep = tmp_path / "sweep"
    SweepReport().on_multirun_start(OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}}))
    _job(sweep, "0_a", {"num": 0, "overrides": [], "status": "ok"})
    _job(sweep, "1_b", {"num": 1, "overrides": [], "status": "running", "host": "node-2",
                        "logs": {"log": "1_b/render.log"}})
    write_sweep_page(sweep)  # as a job does: the page's lock file is made
    return sweep


def test_jobs_that_never_reported_are_marked_lost_when_the_launcher_returns(tmp_path: Path):
    from engine.sweep import LOST, close_sweeps

    sweep = _sweep_with_a_running_job(tmp_path)
    close_sweeps()
    jobs = dict((folder.name, job) for folder, job in read_jobs(sweep))
    assert jobs["0_a"]["status"] == "ok"
    assert jobs["1_b"] == {"num": 1, "overrides": [], "status": "lost", "host": "node-2",
                           "logs": {"log": "1_b/render.log"}, "error": LOST}
    text = (sweep / PAGE).read_text()
    assert "2 jobs: 1 ok, 1 failed, 0 running" in text and "<span class='lost'>lost</span>" in text
    assert not (sweep / ".sweep.lock").exists()


def test_unfinished_jobs_of_a_stopped_sweep_are_interrupted_with_no_dead_log_link(
        tmp_path: Path):
    from engine.sweep import INTERRUPTED, close_sweeps

    sweep = _sweep_with_a_running_job(tmp_path)
    close_sweeps(stopped=True)
    jobs = dict((folder.name, job) for folder, job in read_jobs(sweep))
    assert jobs["0_a"]["status"] == "ok"
    assert (jobs["1_b"]["status"], jobs["1_b"]["error"]) == ("interrupted", INTERRUPTED)
    text = (sweep / PAGE).read_text()
    assert "2 jobs: 1 ok, 0 failed, 1 interrupted, 0 running" in text
    assert "<span class='interrupted'>interrupted</span>" in text
    assert "render.log" not in text  # never written: no link to it
    assert sorted(p.name for p in sweep.iterdir()) == ["0_a", "1_b", PAGE]
