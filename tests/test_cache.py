"""The artifact cache: keys, atomic entries, cross-process locks, killed makers' leftovers, gc."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cache import Cache, cache_dir
from engine.canonical import canonical_json
from engine.files import copy_atomically, place_atomically, write_atomically
from engine.commands import cache as cache_command
from engine.ir import Span
from engine.run_folder import RUN_INDEX, register_run_folder

FORK = multiprocessing.get_context("fork")


@dataclass(frozen=True)
class Request:
    text: str
    rate: float
    voices: tuple[str, ...]
    span: Span = Span("a.story", 1, 1, 1, 5)


REQUEST = Request("Once upon a time", 1.25, ("narrator", "child"))
KEY_ARGS = dict(stage="speak", version=1, request=REQUEST, inputs=("ab" * 32,),
                backend={"name": "espeak", "rate": 1.0}, tools={"espeak-ng": "1.52"})


def write_text(name: str, text: str):
    def produce(folder: Path) -> dict:
        (folder / name).write_text(text)
        return {"chars": len(text)}
    return produce


# ---- keys ---------------------------------------------------------------------------------------

def test_key_is_sensitive_to_every_part():
    base = Cache.key(**KEY_ARGS)
    changed = [
        dict(KEY_ARGS, stage="draw"),
        dict(KEY_ARGS, version=2),
        dict(KEY_ARGS, request=Request("Once upon a time!", 1.25, ("narrator", "child"))),
        dict(KEY_ARGS, request=Request("Once upon a time", 1.2500001, ("narrator", "child"))),
        dict(KEY_ARGS, request=Request("Once upon a time", 1.25, ("child", "narrator"))),
        dict(KEY_ARGS, inputs=("cd" * 32,)),
        dict(KEY_ARGS, inputs=()),
        dict(KEY_ARGS, backend={"name": "espeak", "rate": 1.1}),
        dict(KEY_ARGS, tools={"espeak-ng": "1.51"}),
    ]
    keys = [Cache.key(**args) for args in changed]
    assert len(set(keys)) == len(keys) and base not in keys
    assert len(base) == 64 and int(base, 16) >= 0


def test_key_ignores_spans_container_kinds_and_mapping_order():
    moved = Request("Once upon a time", 1.25, ["narrator", "child"], Span("a.story", 9, 3, 9, 7))
    reordered = dict(KEY_ARGS, request=moved, backend={"rate": 1.0, "name": "espeak"},
                     inputs=["ab" * 32])
    assert Cache.key(**reordered) == Cache.key(**KEY_ARGS)


def test_canonical_json_handles_paths_bytes_nonfinite_and_rejects_unknown():
    text = canonical_json({"p": Path("/x/y"), "b": b"abc", "f": float("inf"), "s": {"b", "a"}})
    assert json.loads(text) == {"p": "/x/y", "b": {"__bytes__": json.loads(text)["b"]["__bytes__"]},
                                "f": "inf", "s": ["a", "b"]}
    with pytest.raises(TypeError, match="cannot hash a object"):
        canonical_json({"x": object()})


KEY_SCRIPT = """
import sys; sys.path.insert(0, {root!r})
from engine.cache import Cache
print(Cache.key("draw", 3, {{"tags": {{"red", "hat", "fox", "moon"}}, "size": (160, 90),
      "alpha": 0.1 + 0.2, "prompt": "a fox in a red hat"}}, backend={{"name": "procedural"}}))
"""


def test_a_field_keyed_when_set_leaves_earlier_keys_as_they_were():
    """A write request's `wordless` (added later) is in its key only when a scene sets it: the
    requests of every story made before keep their keys, and their writers are not asked again."""
    from engine.backends.llm import SceneBrief

    before = ('{"__type__":"SceneBrief","characters":[],"id":"a","image":null,"lines":[],'
              '"rejected_lines":[],"setting":null,"title":null}')
    assert canonical_json(SceneBrief("a", None, None, (), (), None)) == before
    assert '"wordless":true' in canonical_json(SceneBrief("a", None, None, (), (), None,
                                                          wordless=True))


def test_keys_are_stable_across_processes_and_hash_seeds():
    script = KEY_SCRIPT.format(root=str(Path(__file__).resolve().parents[1]))
    keys = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, env=dict(os.environ, PYTHONHASHSEED=seed)).stdout.strip()
            for seed in ("1", "2", "3")}
    assert len(keys) == 1 and len(keys.pop()) == 64


# ---- entries ------------------------------------------------------------------------------------

def test_make_then_get_reuses(tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    key = Cache.key(**KEY_ARGS)
    assert cache.get(key) is None
    entry, made = cache.make(key, write_text("line.txt", "hello"), stage="speak",
                             backend={"name": "espeak"})
    assert made and entry.path("line.txt").read_text() == "hello"
    assert entry.meta == {"chars": 5} and entry.files["line.txt"].size == 5
    assert entry.folder == tmp_path / "cache" / key[:2] / key
    manifest = json.loads((entry.folder / "manifest.json").read_text())
    assert manifest["key"] == key and manifest["stage"] == "speak"
    assert manifest["backend"] == {"name": "espeak"} and manifest["seconds"] >= 0
    assert set(manifest["files"]) == {"line.txt"}
    again, made_again = cache.make(key, lambda folder: pytest.fail("must not run"), stage="speak")
    assert not made_again and again.files == entry.files
    assert cache.get(key).path("line.txt") == entry.path("line.txt")
    with pytest.raises(KeyError, match="has no file 'other'"):
        entry.path("other")


def test_a_failing_produce_leaves_nothing(tmp_path: Path):
    cache = Cache(tmp_path)
    key = Cache.key(**KEY_ARGS)

    def produce(folder: Path) -> dict:
        (folder / "half.wav").write_bytes(b"RIFF....")
        raise RuntimeError("the voice engine crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        cache.make(key, produce, stage="speak")
    assert cache.get(key) is None
    assert not cache.folder(key).exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list((tmp_path / "locks").iterdir()) == []
    entry, made = cache.make(key, write_text("line.txt", "ok"), stage="speak")
    assert made and entry.path("line.txt").read_text() == "ok"


def test_a_missing_manifest_or_file_means_not_done(tmp_path: Path):
    cache = Cache(tmp_path)
    key = Cache.key(**KEY_ARGS)
    entry, _ = cache.make(key, write_text("a.txt", "abc"), stage="speak")
    entry.path("a.txt").unlink()
    assert cache.get(key) is None
    (entry.folder / "manifest.json").unlink()
    assert cache.get(key) is None
    remade, made = cache.make(key, write_text("a.txt", "abc"), stage="speak")
    assert made and remade.path("a.txt").read_text() == "abc"


def test_produce_must_write_plain_files(tmp_path: Path):
    cache = Cache(tmp_path)
    with pytest.raises(ValueError, match="wrote no file"):
        cache.make(Cache.key(**KEY_ARGS), lambda folder: {}, stage="speak")
    with pytest.raises(ValueError, match="cache's own file"):
        cache.make(Cache.key(**KEY_ARGS), write_text("manifest.json", "{}"), stage="speak")


def test_subfolders_are_kept(tmp_path: Path):
    def produce(folder: Path) -> None:
        (folder / "candidates").mkdir()
        (folder / "candidates" / "0.png").write_bytes(b"png")

    entry, _ = Cache(tmp_path).make(Cache.key(**KEY_ARGS), produce, stage="draw")
    assert entry.path("candidates/0.png").read_bytes() == b"png"


# ---- several processes --------------------------------------------------------------------------

def _make_counting(root: str, key: str, calls: str, barrier) -> str:
    def produce(folder: Path) -> dict:
        Path(calls, f"{os.getpid()}").write_text("called")
        time.sleep(0.4)  # long enough that the other process is surely waiting
        (folder / "out.txt").write_text("made once")
        return {}

    barrier.wait()
    entry, _ = Cache(Path(root)).make(key, produce, stage="draw")
    return entry.path("out.txt").read_text()


def _worker(root: str, key: str, calls: str, barrier, results) -> None:
    results.put(_make_counting(root, key, calls, barrier))


def test_two_processes_making_one_key_produce_once(tmp_path: Path):
    calls = tmp_path / "calls"
    calls.mkdir()
    key = Cache.key(**KEY_ARGS)
    barrier, results = FORK.Barrier(2), FORK.Queue()
    workers = [FORK.Process(target=_worker, args=(str(tmp_path / "c"), key, str(calls), barrier,
                                                   results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outputs = [results.get(timeout=20) for _ in workers]
    for worker in workers:
        worker.join(timeout=20)
        assert worker.exitcode == 0
    assert outputs == ["made once", "made once"]
    assert len(list(calls.iterdir())) == 1


def _hang_in_produce(root: str, key: str, started: str) -> None:
    def produce(folder: Path) -> None:
        (folder / "video.mp4").write_bytes(b"\x00" * 4096)  # a partial artifact
        Path(started).write_text("in produce")
        time.sleep(60)

    Cache(Path(root)).make(key, produce, stage="cut")


def test_a_maker_killed_mid_produce_leaves_no_entry_and_releases_its_lock(tmp_path: Path):
    root, started = tmp_path / "cache", tmp_path / "started"
    key = Cache.key(**KEY_ARGS)
    maker = FORK.Process(target=_hang_in_produce, args=(str(root), key, str(started)))
    maker.start()
    deadline = time.monotonic() + 20
    while not started.exists():
        assert time.monotonic() < deadline and maker.is_alive()
        time.sleep(0.02)
    os.kill(maker.pid, signal.SIGKILL)
    maker.join(timeout=10)
    cache = Cache(root)
    assert cache.get(key) is None and not cache.folder(key).exists()
    assert len(list((root / "tmp").iterdir())) == 1  # its temp folder, not an entry
    entry, made = cache.make(key, write_text("video.mp4", "complete"), stage="cut")
    assert made and entry.path("video.mp4").read_text() == "complete"
    assert list((root / "tmp").iterdir()) == []  # the dead maker's temp folder is gone


def _hold_lock(root: str, key: str, held: str, release: str) -> None:
    with Cache(Path(root))._lock(key):
        Path(held).write_text("yes")
        while not Path(release).exists():
            time.sleep(0.02)


def test_temp_folders_go_unless_their_key_is_locked(tmp_path: Path):
    """Liveness, not age: a dead maker's fresh temp folder goes, a live maker's old one stays."""
    root = tmp_path / "cache"
    (root / "tmp").mkdir(parents=True)
    dead, alive = "1" * 64, "2" * 64
    for owner in (dead, alive):
        work = root / "tmp" / f"{owner}.abc"
        work.mkdir()
        (work / "part.png").write_bytes(b"x")
    old = time.time() - 3600
    os.utime(root / "tmp" / f"{alive}.abc", (old, old))
    held, release = tmp_path / "held", tmp_path / "release"
    holder = FORK.Process(target=_hold_lock, args=(str(root), alive, str(held), str(release)))
    holder.start()
    while not held.exists():
        time.sleep(0.02)
    try:
        Cache(root).make(Cache.key(**KEY_ARGS), write_text("a.txt", "a"), stage="speak")
        assert sorted(p.name for p in (root / "tmp").iterdir()) == [f"{alive}.abc"]
    finally:
        release.write_text("go")
        holder.join(timeout=10)
    assert Cache(root).clean_temp() == 1
    assert list((root / "tmp").iterdir()) == []


# ---- final outputs ------------------------------------------------------------------------------

def test_atomic_writes_replace_whole_files(tmp_path: Path):
    target = tmp_path / "run" / "captions.srt"
    write_atomically(target, "1\n")
    write_atomically(target, b"2\n")
    assert target.read_text() == "2\n"
    copy_atomically(target, tmp_path / "run" / "copy.srt")
    assert (tmp_path / "run" / "copy.srt").read_text() == "2\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["captions.srt", "copy.srt"]


def test_placed_outputs_are_links_to_read_only_entry_files(tmp_path: Path):
    entry, _ = Cache(tmp_path / "cache").make(Cache.key(**KEY_ARGS), write_text("v.mp4", "video"),
                                              stage="cut")
    target = tmp_path / "run" / "video.mp4"
    place_atomically(entry.path("v.mp4"), target)
    place_atomically(entry.path("v.mp4"), target)  # a re-run replaces it
    assert target.read_text() == "video"
    assert target.stat().st_ino == entry.path("v.mp4").stat().st_ino
    assert entry.path("v.mp4").stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in target.parent.iterdir()) == ["video.mp4"]
    Cache(tmp_path / "cache").remove(entry.key)  # gc never takes a run's file with it
    assert target.read_text() == "video"


def test_default_cache_dir_is_at_the_story_repository_root(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "stories" / "deep").mkdir(parents=True)
    story = repo / "stories" / "deep" / "fox.story"
    story.write_text("title: Fox\n")
    assert cache_dir(None, story) == repo.resolve() / ".storyreel" / "cache"
    loose = tmp_path / "loose" / "fox.story"
    loose.parent.mkdir()
    loose.write_text("title: Fox\n")
    assert cache_dir(None, loose) == loose.parent.resolve() / ".storyreel" / "cache"
    assert cache_dir(str(tmp_path / "elsewhere"), story) == tmp_path / "elsewhere"


# ---- the command --------------------------------------------------------------------------------

def test_cache_info_and_gc(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "cache"
    cache = Cache(root)
    keys = {}
    for stage, text in (("draw", "image"), ("speak", "audio-1"), ("speak", "audio-2")):
        key = Cache.key(stage, 1, text)
        keys[text] = key
        cache.make(key, write_text("out.bin", text), stage=stage)

    assert cache_command.main(["info", "--dir", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["entries"] == 3 and info["size"] == len("image") + 2 * len("audio-1")
    assert {s: v["entries"] for s, v in info["stages"].items()} == {"draw": 1, "speak": 2}
    assert cache_command.main(["info", f"cache.dir={root}"]) == 0
    assert "3 entries" in capsys.readouterr().out

    run = tmp_path / "renders" / "fox" / "2026-01-01_00-00-00"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps(
        {"artifacts": [{"stage": "draw", "key": keys["image"]},
                       {"stage": "speak", "key": keys["audio-1"]}]}))
    # this process still uses the cache, like a render that has not written its manifest yet:
    # what it made since it began is kept
    assert cache_command.main(["gc", "--dir", str(root), "--renders", str(tmp_path / "renders"),
                               "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == []
    past = time.time() - 2 * 3600
    for entry in cache.entries():
        os.utime(entry.folder / "manifest.json", (past, past))
    assert cache_command.main(["gc", "--dir", str(root), "--renders", str(tmp_path / "renders"),
                               "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == [keys["audio-2"]]
    assert cache.get(keys["audio-2"]) is None and cache.get(keys["image"]) is not None

    stale = time.time() - 10 * 86400
    os.utime(cache.folder(keys["image"]) / "manifest.json", (stale, stale))
    for text, when in (("audio-3", stale), ("audio-4", past)):  # unreferenced: old, and recent
        keys[text] = Cache.key("speak", 1, text)
        cache.make(keys[text], write_text("out.bin", text), stage="speak")
        os.utime(cache.folder(keys[text]) / "manifest.json", (when, when))
    (root / "segments").mkdir()
    for name, when in (("seg-old.mp4", stale), ("seg-new.mp4", time.time())):
        (root / "segments" / name).write_bytes(b"segment")
        os.utime(root / "segments" / name, (when, when))
    assert cache_command.main(["gc", "--dir", str(root), "--renders", str(tmp_path / "renders"),
                               "--older-than", "7"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"cache {root}: dropped 1 entry (7 B), kept 3 ")
    assert out[1] == ("  dropped 1 work file (7 B): scratch of stopped cuts and files unused for "
                      "7 days, such as the editor's scene segments")
    # referenced entries stay however old; an unreferenced one only once unused for 7 days
    assert {e.key for e in cache.entries()} == {keys["image"], keys["audio-1"], keys["audio-4"]}
    assert sorted(p.name for p in (root / "segments").iterdir()) == [".in-use.lock",
                                                                      "seg-new.mp4"]


def test_gc_drops_an_entry_whose_files_a_run_only_shares_in_part(tmp_path: Path, capsys):
    """The cut under another seed: its captions are the same bytes as the kept run's, its video
    is not. An older manifest that lists files by hash keeps an entry only when it lists them
    all."""
    import hashlib

    root, renders = tmp_path / "cache", tmp_path / "renders"
    cache = Cache(root)
    keys = {}
    for seed in (1, 2):
        keys[seed] = Cache.key("cut", 1, f"seed {seed}")
        def cut(folder: Path, seed: int = seed) -> dict:
            (folder / "captions.srt").write_text("1\nsame words\n")
            (folder / "video.mp4").write_text(f"video of seed {seed}")
            return {}
        cache.make(keys[seed], cut, stage="cut")
    hashes = [hashlib.sha256(data).hexdigest() for data in (b"1\nsame words\n", b"video of seed 1")]
    run = renders / "fox" / "seed-1"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"files": hashes}))  # by hash, no key
    past = time.time() - 2 * 3600
    for entry in cache.entries():
        os.utime(entry.folder / "manifest.json", (past, past))
    assert cache_command.main(["gc", "--dir", str(root), "--renders", str(renders)]) == 0
    assert {e.key for e in cache.entries()} == {keys[1]}
    assert "dropped 1 entry" in capsys.readouterr().out


def _use_and_wait(root: str, key: str, used: str, release: str) -> None:
    cache = Cache(Path(root))
    assert cache.get(key) is not None  # its use is recorded: the manifest's mtime is now
    Path(used).write_text("yes")
    while not Path(release).exists():
        time.sleep(0.02)


def test_gc_keeps_what_a_live_process_uses_and_drops_it_once_that_process_is_gone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "cache"
    key = Cache.key("draw", 1, "old picture")
    entry, _ = Cache(root).make(key, write_text("a.png", "png"), stage="draw")
    month_ago = time.time() - 30 * 86400
    os.utime(entry.folder / "manifest.json", (month_ago, month_ago))
    used, release = tmp_path / "used", tmp_path / "release"
    user = FORK.Process(target=_use_and_wait, args=(str(root), key, str(used), str(release)))
    user.start()
    try:
        while not used.exists():
            time.sleep(0.02)
        gc = ["gc", "--dir", str(root), "--renders", str(tmp_path / "none"), "--older-than", "0"]
        assert cache_command.main(gc) == 0
        assert capsys.readouterr().out.splitlines()[1] == (
            "  kept 1 entry that running renders use or just made")
        assert Cache(root).folder(key).is_dir()
    finally:
        release.write_text("go")
        user.join(timeout=10)
    assert cache_command.main([*gc, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["removed"], report["in_use"], report["live_runs"]) == ([key], 0, 0)
    assert not Cache(root).folder(key).exists() and os.listdir(root / "runs") == []


def test_gc_keeps_entries_of_run_folders_anywhere_that_renders_noted(tmp_path: Path, capsys):
    root = tmp_path / "cache"
    cache = Cache(root)
    keys = [Cache.key("speak", 1, text) for text in ("kept", "gone")]
    for key in keys:
        cache.make(key, write_text("out.bin", key), stage="speak")
    past = time.time() - 3600
    for entry in cache.entries():
        os.utime(entry.folder / "manifest.json", (past, past))
    final, moved = tmp_path / "out" / "final", tmp_path / "out" / "moved"
    for folder, key in ((final, keys[0]), (moved, keys[1])):
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps({"artifacts": [{"key": key}]}))
        register_run_folder(root, folder)
    shutil.rmtree(moved)  # the user removed that run: the index forgets it
    gc = ["gc", "--dir", str(root), "--renders", str(tmp_path / "renders"), "--json"]
    assert cache_command.main([*gc, "--older-than", "30"]) == 0  # both used an hour ago
    assert json.loads(capsys.readouterr().out)["removed"] == []
    assert cache_command.main(gc) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == [keys[1]]
    assert [p.read_text() for p in (root / RUN_INDEX).iterdir()] == [f"{final}\n"]


@pytest.mark.parametrize("days", ["-3", "abc", "nan", "inf"])
def test_gc_older_than_takes_a_number_of_days(tmp_path: Path, capsys, days: str):
    (tmp_path / "cache").mkdir()
    assert cache_command.main(["gc", "--dir", str(tmp_path / "cache"), "--older-than", days]) == 2
    assert capsys.readouterr().err == ("storyreel cache: --older-than takes a number of days, 0 "
                                       "or more (--older-than 30)\n")
