"""Hostile places and interruptions: unwritable folders, Ctrl-C, `cache gc` beside a live render,
failed renders, and run folders that hold exactly one run."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine import cli
from engine.cache import Cache
from engine.commands import cache as cache_command
from engine.run_folder import remove_unfinished

ROOT = Path(__file__).resolve().parents[1]
TINY = ["render.width=160", "render.height=90", "render.fps=8"]


def story_text(*scenes: str) -> str:
    out = ["title: Fox and Owl", "", "character Fox", "  description: a small red fox",
           "  voice: child", ""]
    for scene in scenes:
        out += [f"scene {scene}", f"  setting: a quiet {scene}", "  with: Fox",
                f'  Fox: "Hello, {scene}!"', ""]
    return "\n".join(out)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "fox.story").write_text(story_text("meadow", "river"))
    (tmp_path / "owl.story").write_text(story_text("forest"))
    return tmp_path


def storyreel(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def render(story: Path, run: Path, cache: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return storyreel("render", str(story), f"hydra.run.dir={run}", f"cache.dir={cache}", *TINY,
                     *more)


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and ".hydra" not in p.parts and p.suffix != ".log"}


@contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """`folder` unwritable even for root (`chattr +i`); yields the reason the OS will give."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "permission denied"
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("needs `chattr +i` (root on a file system that supports it)")
    try:
        yield "not permitted"
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


# ---- unwritable places: one line, exit 1, nothing half-written ----------------------------------

def test_fmt_that_cannot_replace_its_file_says_so_in_one_line(repo: Path, monkeypatch, capsys):
    story = repo / "fox.story"
    story.write_text(story.read_text().replace("  voice: child", "  voice:    child"))
    before = story.read_bytes()

    def refuse(source, target):
        raise PermissionError(errno.EACCES, "Permission denied", str(source), str(target))

    monkeypatch.setattr(os, "replace", refuse)
    assert cli.main(["fmt", str(story)]) == 1
    assert capsys.readouterr().err == (f"storyreel fmt: error: {story}: permission denied; "
                                       "give yourself write access there\n")
    assert story.read_bytes() == before and sorted(p.name for p in repo.iterdir()) == [
        ".git", "fox.story", "owl.story"]  # no temp file left beside it


def test_fill_write_and_new_into_read_only_folders(repo: Path, capsys):
    story = repo / "premise.story"
    story.write_text("title: Rain\npremise: a snail who fears the rain\nscenes: 2\n")
    before = story.read_bytes()
    assert cli.main(["fill", str(story)]) == 0  # the cache is made (it is a writable subfolder)
    capsys.readouterr()
    with read_only(repo) as reason:
        assert cli.main(["fill", str(story), "--write"]) == 1
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"storyreel fill: error: {story}: {reason}; give yourself write access there")
        assert cli.main(["new", "a snail who fears the rain", "--scenes", "1",
                         "-o", str(repo / "snail.story")]) == 1
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"storyreel new: error: {repo / 'snail.story'}: {reason}; give yourself write "
            "access there")
    assert story.read_bytes() == before and not (repo / "snail.story").exists()
    assert not [p for p in repo.iterdir() if p.name.endswith(".part")]


def test_fmt_and_fill_write_leave_a_read_only_story_alone(repo: Path, monkeypatch, capsys):
    story = repo / "fox.story"
    story.write_text(story.read_text().replace("  voice: child", "  voice:    child") +
                     "scene end\n  \"The end.\"\n  Fox: ...\n")
    story.chmod(0o444)
    before = story.read_bytes()
    if os.geteuid() == 0:  # root may write any file: stand in for the owner its mode stops
        real = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: not (
            Path(path) == story and mode & os.W_OK) and real(path, mode, **kw))
    assert cli.main(["fmt", str(story)]) == 1
    assert capsys.readouterr().err == (f"storyreel fmt: error: {story}: permission denied; "
                                       "give yourself write access there\n")
    assert cli.main(["fill", str(story), "--write"]) == 1
    assert capsys.readouterr().err == (f"storyreel fill: error: {story}: permission denied; "
                                       "give yourself write access there\n")
    assert story.read_bytes() == before and story.stat().st_mode & 0o777 == 0o444
    assert not (repo / ".storyreel").exists()  # refused before the writer was asked


@pytest.mark.slow
def test_render_into_places_it_cannot_write(repo: Path):
    blocker = repo / "a-file"
    blocker.write_text("not a folder")
    done = render(repo / "fox.story", blocker / "run", repo / "cache")
    assert done.returncode == 1
    assert done.stderr == (f"storyreel render: error: the run folder {blocker / 'run'}: {blocker} "
                           "is a file, where a folder is needed; move it or choose another: "
                           "hydra.run.dir=PATH\n")
    done = render(repo / "fox.story", repo / "run", blocker)
    assert done.returncode == 1
    assert done.stderr == (f"storyreel render: error: {blocker / 'runs'} (in the cache "
                           f"{blocker}): {blocker} is a file, where a folder is needed; move it "
                           "or choose another: cache.dir=PATH\n")
    assert not (repo / "run").exists()  # a run that made nothing leaves no folder
    (repo / "mine").mkdir()
    assert render(repo / "fox.story", repo / "mine", blocker).returncode == 1
    assert list((repo / "mine").iterdir()) == []  # but a folder of the user's stays
    (repo / "locked").mkdir()
    with read_only(repo / "locked") as reason:
        done = render(repo / "fox.story", repo / "locked", repo / "cache")
    assert done.returncode == 1
    assert done.stderr == (f"storyreel render: error: the run folder {repo / 'locked'}: "
                           f"{reason}; give yourself write access there or choose another: "
                           "hydra.run.dir=PATH\n")
    assert (repo / "locked").is_dir()
    (repo / "locked-cache").mkdir()
    with read_only(repo / "locked-cache") as reason:
        done = render(repo / "fox.story", repo / "run", repo / "locked-cache")
    assert done.returncode == 1
    locked = repo / "locked-cache"
    assert done.stderr == (f"storyreel render: error: {locked / 'locks'} (in the cache {locked}): "
                           f"{reason}; give yourself write access there or choose another: "
                           "cache.dir=PATH\n")
    assert not (repo / "run").exists() and list((repo / "locked-cache").iterdir()) == []


@pytest.mark.slow
def test_review_and_publish_into_read_only_folders_name_the_file(repo: Path, capsys):
    run, cache = repo / "run", repo / "cache"
    assert render(repo / "owl.story", run, cache).returncode == 0
    (repo / "locked").mkdir()
    with read_only(repo) as reason:
        assert cli.main(["review", str(run), "--approve", "all"]) == 1
        assert capsys.readouterr().err == (f"storyreel review: error: {repo / 'owl.review.yaml'}: "
                                           f"{reason}; give yourself write access there\n")
    assert cli.main(["review", str(run), "--approve", "all"]) == 0
    capsys.readouterr()
    with read_only(repo / "locked") as reason:
        assert cli.main(["publish", str(run), "--to", str(repo / "locked" / "out")]) == 1
        assert capsys.readouterr().err == (f"storyreel publish: error: {repo / 'locked' / 'out'}: "
                                           f"{reason}; give yourself write access there\n")
        assert cli.main(["publish", str(run), "--to", str(repo / "locked")]) == 1
        assert capsys.readouterr().err == (f"storyreel publish: error: {repo / 'locked'}: "
                                           f"{reason}; give yourself write access there\n")
    assert list((repo / "locked").iterdir()) == []  # the read-only folder itself not replaced
    assert not [p for p in repo.iterdir() if ".locked." in p.name]


# ---- Ctrl-C ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ctrl_c_stops_a_render_with_one_line_and_no_partial_outputs(repo: Path):
    run, cache = repo / "run", repo / "cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "render", str(repo / "fox.story"),
         f"hydra.run.dir={run}", f"cache.dir={cache}", *TINY], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(cache.glob("??/*/manifest.json")):  # drawing and speaking have begun
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "storyreel: interrupted\n")
    assert not run.exists()
    assert list((cache / "tmp").iterdir()) == []  # no unfinished entry left behind


def test_ctrl_c_in_fill_new_and_fmt_is_one_line_and_leaves_files_whole(repo: Path, monkeypatch,
                                                                       capsys):
    from engine.backends.llm.offline import OfflineWriter

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    story = repo / "premise.story"
    story.write_text("title: Rain\npremise: a snail who fears the rain\nscenes: 2\n")
    before = story.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(OfflineWriter, "write", interrupted)
        assert cli.main(["fill", str(story), "--write"]) == 130
        assert capsys.readouterr().err == "storyreel: interrupted\n"
        assert cli.main(["new", "a fox", "--scenes", "1", "-o", str(repo / "new.story")]) == 130
        assert capsys.readouterr().err == "storyreel: interrupted\n"
    fox = repo / "fox.story"
    fox.write_text(fox.read_text().replace("  voice: child", "  voice:    child"))
    unformatted = fox.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", interrupted)  # as the formatted text is put in place
        assert cli.main(["fmt", str(fox)]) == 130
    assert capsys.readouterr().err == "storyreel: interrupted\n"
    assert story.read_bytes() == before and fox.read_bytes() == unformatted
    assert sorted(p.name for p in repo.iterdir() if not p.name.startswith(".")) == [
        "fox.story", "owl.story", "premise.story"]  # no temp file, no half-written new story


def python_answers_ctrl_c_in_a_worker(pid: int) -> bool:
    """Whether a joblib (loky) worker that `pid` started is far enough in its start-up that Python
    has set its Ctrl-C handler (before that a SIGINT just ends it), and is still importing."""
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            if b"popen_loky_posix" not in Path(f"/proc/{child}/cmdline").read_bytes():
                continue
            status = Path(f"/proc/{child}/status").read_text()
        except FileNotFoundError:  # ended meanwhile
            continue
        caught = int(status.split("SigCgt:")[1].split()[0], 16)
        if caught & (1 << (signal.SIGINT - 1)):
            return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["workers starting", "jobs rendering"])
def test_ctrl_c_stops_a_parallel_sweep_with_one_line_and_no_partial_outputs(repo: Path,
                                                                             moment: str):
    sweep, cache = repo / "sweep", repo / "cache"
    driver = subprocess.Popen(
        [sys.executable, "-m", "engine", "render", "-m", str(repo / "fox.story"),
         f"cache.dir={cache}", *TINY, "seed=607,617", "hydra/launcher=joblib",
         f"hydra.sweep.dir={sweep}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    begun = {"workers starting": lambda: python_answers_ctrl_c_in_a_worker(driver.pid),
             "jobs rendering": lambda: any(sweep.glob("*_fox/.storyreel-partial"))}[moment]
    deadline = time.monotonic() + 90
    while not begun():
        assert driver.poll() is None and time.monotonic() < deadline
        time.sleep(0.002)
    os.killpg(driver.pid, signal.SIGINT)  # a terminal's Ctrl-C: every process of its group
    out, err = driver.communicate(timeout=60)
    assert (driver.returncode, err) == (130, "storyreel: interrupted\n")
    assert "Traceback" not in out and "KeyboardInterrupt" not in out
    for job in sweep.glob("*_fox"):  # no output in place
        assert {p.name for p in job.iterdir()} <= {".hydra", ".storyreel-partial", "job.json",
                                                   "render.log"}
    _assert_report_says_interrupted(sweep)
    remove_unfinished([sweep])  # as `cache gc` does: no worker still holds its staging folder
    assert not list(sweep.glob("*/.storyreel-partial"))


def _assert_report_says_interrupted(sweep: Path) -> None:
    """The stopped sweep's report: every started job interrupted (none running), links only to
    files that exist, and no lock file left."""
    from engine.sweep import LOCK, PAGE, read_jobs

    jobs = read_jobs(sweep)
    assert {job["status"] for _, job in jobs} <= {"interrupted"}
    text = (sweep / PAGE).read_text()
    assert f"{len(jobs)} jobs: 0 ok, 0 failed, " in text and " 0 running</p>" in text
    assert text.count("<span class='interrupted'>interrupted</span>") == len(jobs)
    assert "<span class='running'>" not in text
    assert all((sweep / href).is_file() for href in re.findall(r"href='([^']+)'", text))
    assert not (sweep / LOCK).exists()

# ---- run folders ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_run_folder_holds_exactly_one_runs_outputs(repo: Path):
    run, cache = repo / "final", repo / "cache"
    assert render(repo / "fox.story", run, cache).returncode == 0
    (run / "notes.txt").write_text("mine")
    (run / "scenes" / "sketch.png").write_bytes(b"my own picture")
    assert render(repo / "owl.story", run, cache).returncode == 0
    owl = {"video.mp4", "captions.srt", "captions.vtt", "captions.words.vtt", "storyboard.html",
           "resolved.story", "scenes/forest.png", "audio/forest-01.wav"}
    assert files(run) == owl | {"manifest.json", "notes.txt", "scenes/sketch.png"}
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(manifest["outputs"]) == owl

    before = {name: (run / name).read_bytes() for name in files(run)}
    failed = render(repo / "fox.story", run, cache, "video.audio_bitrate=lots")  # fails at the cut
    assert failed.returncode == 1 and "encoding the narration failed" in failed.stderr
    assert {name: (run / name).read_bytes() for name in files(run)} == before  # the owl run, whole
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == [".hydra"]


def test_a_run_dir_that_is_empty_or_holds_the_users_own_files_is_refused(repo: Path):
    precious = repo / "precious"
    precious.mkdir()
    (precious / "storyboard.html").write_text("my own page")
    for value, problem in (
            ("", "hydra.run.dir is empty: name the folder for the outputs "
                 "(hydra.run.dir=out/final)"),
            (str(precious), f"{precious} holds files that are not a storyreel run (no "
                            "manifest.json): render into a new or empty folder, or one a render "
                            "made")):
        done = storyreel("render", "fox.story", f"hydra.run.dir={value}", cwd=repo)
        assert (done.returncode, done.stderr) == (2, f"storyreel render: {problem}\n")
    assert sorted(p.name for p in repo.iterdir()) == [".git", "fox.story", "owl.story",
                                                      "precious"]
    assert [p.name for p in precious.iterdir()] == ["storyboard.html"]
    assert (precious / "storyboard.html").read_text() == "my own page"


def everything(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


@pytest.mark.slow
def test_a_failed_or_interrupted_render_leaves_the_whole_run_folder_as_it_was(repo: Path):
    run, cache = repo / "final", repo / "cache"
    assert render(repo / "fox.story", run, cache, "seed=502").returncode == 0
    (run / "render.log").write_text("a line of an earlier run\n")
    before = everything(run)
    assert "- seed=502" in before[".hydra/overrides.yaml"].decode()
    failed = render(repo / "fox.story", run, cache, "seed=503", "video.audio_bitrate=lots")
    assert failed.returncode == 1 and everything(run) == before
    made = len(list(cache.glob("??/*/manifest.json")))
    # Larger pictures than TINY's, so that the second one is still being drawn when the Ctrl-C
    # comes (a Ctrl-C during the final renames waits for them: tests/test_run_folder.py).
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "render", str(repo / "fox.story"),
         f"hydra.run.dir={run}", f"cache.dir={cache}", "render.width=960", "render.height=540",
         "render.fps=8", "seed=503"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list(cache.glob("??/*/manifest.json"))) == made:  # seed 503's drawing began
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "storyreel: interrupted\n")
    assert everything(run) == before  # .hydra/ and render.log included
    assert render(repo / "fox.story", run, cache, "seed=502").returncode == 0  # all cached
    after = everything(run)
    assert "a line of an earlier run" not in after.get("render.log", b"").decode()
    assert "- seed=502" in after[".hydra/overrides.yaml"].decode()
    assert not any(p.name.startswith(".storyreel") for p in run.iterdir())
    assert (cache / "run-folders").is_dir() and [p.read_text() for p in (
        cache / "run-folders").iterdir()] == [f"{run}\n"]  # noted for `cache gc`


@pytest.mark.slow
def test_a_failed_render_leaves_no_run_folder(repo: Path):
    done = render(repo / "fox.story", repo / "run", repo / "cache", "video.audio_bitrate=lots")
    assert done.returncode == 1 and "encoding the narration failed" in done.stderr
    assert not (repo / "run").exists()


@pytest.mark.slow
def test_a_failed_render_leaves_an_empty_folder_of_the_users_however_it_is_spelled(repo: Path):
    """`sub/../mine` is the folder `mine` that was there before: a failure leaves it."""
    (repo / "mine").mkdir()
    (repo / "sub").mkdir()
    done = render(repo / "fox.story", repo / "sub" / ".." / "mine", repo / "cache",
                  "video.audio_bitrate=lots")
    assert done.returncode == 1 and "encoding the narration failed" in done.stderr
    assert (repo / "mine").is_dir() and not list((repo / "mine").iterdir())


# ---- cache gc beside a live render ---------------------------------------------------------------

@pytest.mark.slow
def test_gc_while_a_render_runs_removes_nothing_it_uses(repo: Path, capsys):
    run, cache = repo / "renders" / "fox", repo / "cache"
    assert render(repo / "owl.story", repo / "renders" / "owl", cache).returncode == 0
    shutil.rmtree(repo / "renders" / "owl")  # the old run is gone: its entries are garbage
    past = time.time() - 30 * 86400
    for entry in Cache(cache).entries():  # an old run's entries, long unused
        os.utime(entry.folder / "manifest.json", (past, past))
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "render", str(repo / "fox.story"),
         f"hydra.run.dir={run}", f"cache.dir={cache}", *TINY], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    removed: set[str] = set()
    while process.poll() is None:
        assert cache_command.main(["gc", "--dir", str(cache), "--older-than", "0", "--renders",
                                   str(repo / "renders"), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        gone = set(report["removed"])
        assert all(Cache(cache).folder(key).exists() is False for key in gone)  # truthful
        removed |= gone
    _, err = process.communicate()
    assert process.returncode == 0, err[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    assert {a["stage"] for a in manifest["artifacts"]} >= {"write", "draw", "speak", "cut"}
    assert removed  # the owl run's old entries went; nothing the live render used or made did
    assert set(manifest["outputs"]) <= files(run)  # whole, even with the cache now emptied


def test_gc_finds_what_killed_runs_and_cuts_left(repo: Path, capsys):
    cache, renders = repo / ".storyreel" / "cache", repo / "renders"
    Cache(cache).make(Cache.key("speak", 1, "hello"), lambda f: (f / "a.wav").write_bytes(b"a"),
                      stage="speak")
    scratch = cache / "segments" / ".cut-k1ll3d"
    scratch.mkdir(parents=True)
    (scratch / "narration.wav").write_bytes(b"RIFF" + b"\0" * 2_000_000)
    killed = renders / "fox" / "2026-01-01_00-00-00"
    (killed / ".hydra").mkdir(parents=True)
    (killed / ".storyreel-partial").mkdir()
    (killed / ".storyreel-partial" / "resolved.story").write_text("title: Fox\n")
    (cache / "runs" / "4242-dead.run").write_text("a killed process's mark\n")
    assert cache_command.main(["gc", str(repo), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["work_removed"], report["work_freed"]) == (1, 2_000_004)
    assert report["unfinished_runs"] == 1 and len(report["removed"]) == 1  # its maker is gone
    assert not scratch.exists() and not killed.exists() and (renders / "fox").is_dir()
    assert not (cache / "runs" / "4242-dead.run").exists()


# ---- cache info where there is no cache ---------------------------------------------------------

def test_cache_info_where_there_is_no_cache(tmp_path: Path, capsys):
    loose = tmp_path / "loose"
    loose.mkdir()
    assert cache_command.main(["info", str(loose)]) == 1
    assert capsys.readouterr().err == (
        f"storyreel cache: no cache at {loose / '.storyreel' / 'cache'}: {loose} is not inside a "
        "story repository (no folder from it up holds .git); run this inside one, name a story "
        "in it, or pass --dir DIR\n")
    (loose / ".git").mkdir()
    assert cache_command.main(["gc", str(loose)]) == 1
    assert capsys.readouterr().err == (
        f"storyreel cache: no cache at {loose / '.storyreel' / 'cache'}: nothing was rendered in "
        f"the story repository {loose} yet (or its cache is elsewhere: pass --dir DIR)\n")
    assert cache_command.main(["info", "--dir", str(loose / "none")]) == 1
    assert capsys.readouterr().err == (
        f"storyreel cache: no cache at {loose / 'none'} (the folder given does not exist)\n")
    assert not (loose / ".storyreel").exists()


def test_gc_leaves_the_record_of_a_render_that_is_starting(tmp_path: Path):
    from engine.run_folder import RECORD_PREFIX, STAGING

    starting, stopped = tmp_path / "renders" / "fox", tmp_path / "renders" / "owl"
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    for folder, pid in ((starting, os.getpid()), (stopped, ended)):
        (folder / f"{RECORD_PREFIX}{pid}").mkdir(parents=True)
        (folder / f"{RECORD_PREFIX}{pid}" / "render.log").write_text("started\n")
        (folder / STAGING).mkdir()  # made, not yet locked: what a gc can meet
    assert remove_unfinished([tmp_path / "renders"]) == 2  # both stagings look stopped
    assert [p.name for p in starting.iterdir()] == [f"{RECORD_PREFIX}{os.getpid()}"]
    assert (starting / f"{RECORD_PREFIX}{os.getpid()}" / "render.log").read_text() == "started\n"
    assert not stopped.exists()  # a dead process's record, and the folder it alone was in
