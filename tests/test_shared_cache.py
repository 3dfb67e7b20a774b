"""One cache shared by several machines: leases that live holders renew and dead ones lose, gc
beside running jobs. Another machine is another $STORYREEL_HOST_ID, judged by its lease only."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cache import Cache
from engine.commands import cache as cache_command
from engine.errors import ConfigError
from engine.leases import HOST_ENV, LEASE_ENV, Holder, acquire_lease, host_id
from engine.locks import live_marks, place_mark, work_folder

ROOT = Path(__file__).resolve().parents[1]
LEASE = 0.5


@pytest.fixture(autouse=True)
def short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEASE_ENV, str(LEASE))
    monkeypatch.setenv(HOST_ENV, "node-here")


def node_env(host: str) -> dict[str, str]:
    return {**os.environ, HOST_ENV: host, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}


def plant_lease(path: Path, host: str, pid: int, lease: float, renewed: float) -> None:
    """A lease file as a holder elsewhere left it, last renewed at `renewed`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(Holder(host, pid, lease, renewed).text())
    os.utime(path, (renewed, renewed))


def writes(name: str, data: bytes):
    def produce(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return produce


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ---- leases -------------------------------------------------------------------------------------

def test_a_holder_renews_its_lease_so_another_node_sees_it_alive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    lease = acquire_lease(tmp_path / "k.lock", wait=False)
    assert lease is not None
    try:
        written = json.loads((tmp_path / "k.lock").read_text())
        assert (written["host"], written["pid"], written["lease"]) == ("node-here", os.getpid(),
                                                                       LEASE)
        time.sleep(3 * LEASE)  # three terms: only renewals keep it fresh
        age = time.time() - (tmp_path / "k.lock").stat().st_mtime
        assert age < LEASE / 2
        monkeypatch.setenv(HOST_ENV, "node-elsewhere")
        assert acquire_lease(tmp_path / "k.lock", wait=False) is None
    finally:
        lease.release()
    assert os.listdir(tmp_path) == []


def test_a_dead_nodes_lock_blocks_until_its_lease_expires_then_is_broken(tmp_path: Path):
    cache = Cache(tmp_path)
    key = Cache.key("draw", 1, "a picture")
    plant_lease(tmp_path / "locks" / f"{key}.lock", "node-dead", 4242, LEASE, time.time())
    with cache._lock(key, wait=False) as held:
        assert not held  # its lease runs: a live holder for all we know
    started = time.monotonic()
    entry, made = cache.make(key, writes("a.png", b"png"), stage="draw")
    waited = time.monotonic() - started
    assert made and entry.path("a.png").read_bytes() == b"png"
    assert LEASE * 0.8 <= waited < LEASE + 3
    assert os.listdir(tmp_path / "locks") == []


def test_a_dead_process_lock_on_this_node_is_broken_at_once(tmp_path: Path):
    key = Cache.key("draw", 1, "a picture")
    plant_lease(tmp_path / "locks" / f"{key}.lock", host_id(), dead_pid(), 3600.0, time.time())
    started = time.monotonic()
    with Cache(tmp_path)._lock(key, wait=False) as held:
        assert held  # nobody holds its flock: no need to wait for the lease
    assert time.monotonic() - started < LEASE


def test_a_stopped_holder_on_another_node_loses_its_lease_though_its_flock_is_held(
        tmp_path: Path):
    """Across machines flocks prove nothing: only renewals keep a lease."""
    code = ("import sys, time; from pathlib import Path; from engine.cache import Cache\n"
            "with Cache(sys.argv[1])._lock(sys.argv[2]):\n"
            "    Path(sys.argv[3]).write_text('held'); time.sleep(60)\n")
    key, held = Cache.key("draw", 1, "a picture"), tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "c"), key, str(held)],
                              env=node_env("node-b"), cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while not held.exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.02)
        time.sleep(2 * LEASE)
        with Cache(tmp_path / "c")._lock(key, wait=False) as taken:
            assert not taken  # renewed: alive
        holder.send_signal(signal.SIGSTOP)
        time.sleep(2 * LEASE)
        with Cache(tmp_path / "c")._lock(key, wait=False) as taken:
            assert taken  # not renewed for a whole lease: dead for this node
    finally:
        holder.kill()
        holder.wait()


def test_marks_of_other_nodes_live_while_renewed_and_go_once_expired(tmp_path: Path):
    runs = tmp_path / "runs"
    now = time.time()
    plant_lease(runs / "1-fresh.lease", "node-b", 1, LEASE, now)
    plant_lease(runs / "2-expired.lease", "node-c", 1, LEASE, now - 3 * LEASE)
    mark = place_mark(runs, "3-")
    starts, removed = live_marks(runs)
    assert (len(starts), removed) == (2, 1)  # node-b's and ours; node-c's is broken
    time.sleep(2 * LEASE)
    starts, removed = live_marks(runs)
    assert (len(starts), removed) == (1, 1)  # node-b stopped renewing; ours is renewed
    mark.release()
    assert os.listdir(runs) == []


def test_a_bad_lease_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(LEASE_ENV, "soon")
    with pytest.raises(ConfigError, match=r"^STORYREEL_LEASE_SECONDS='soon' is not a number"):
        Cache(tmp_path)


# ---- two nodes making, a third collecting garbage -----------------------------------------------

MAKER = """
import hashlib, json, os, sys, time
from pathlib import Path
from engine.cache import Cache
from engine.commands import cache as cache_command
root, calls, count, order = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
done, release = Path(sys.argv[5]), Path(sys.argv[6])
cache = Cache(root)
def produce(i):
    def write(folder):
        (calls / f"{i}.{os.environ['STORYREEL_HOST_ID']}").write_text("made")
        time.sleep(0.15)
        (folder / "picture.png").write_bytes(hashlib.sha256(str(i).encode()).digest() * 512)
    return write
seen = {}
for i in (range(count) if order == "up" else reversed(range(count))):
    entry, _ = cache.make(Cache.key("draw", 1, f"picture {i}"), produce(i), stage="draw")
    seen[i] = hashlib.sha256(entry.path("picture.png").read_bytes()).hexdigest()
done.write_text(json.dumps(seen))
while not release.exists():  # still a live job, until the test has seen gc run beside it
    time.sleep(0.02)
"""

COLLECTOR = """
import json, sys
from pathlib import Path
from engine.commands import cache
from contextlib import redirect_stdout
from io import StringIO
root, stop = sys.argv[1], Path(sys.argv[2])
reports = []
while not stop.exists() or not reports:
    out = StringIO()
    with redirect_stdout(out):
        cache.main(["gc", "--dir", root, "--renders", root + "-none", "--json"])
    reports.append(json.loads(out.getvalue()))
print(json.dumps(reports))
"""


def test_two_nodes_share_a_cache_while_a_third_runs_gc(tmp_path: Path):
    root, calls, stop, release = (tmp_path / name for name in ("cache", "calls", "stop", "go"))
    calls.mkdir()
    old = Cache.key("draw", 1, "a picture nobody uses")
    entry, _ = Cache(root).make(old, writes("o.png", b"o"), stage="draw")
    month_ago = time.time() - 30 * 86400
    os.utime(entry.folder / "manifest.json", (month_ago, month_ago))
    count = 12
    nodes = {"node-a": "up", "node-b": "down"}
    done = [tmp_path / f"{node}.json" for node in nodes]
    makers = [subprocess.Popen([sys.executable, "-c", MAKER, str(root), str(calls), str(count),
                                order, str(result), str(release)], env=node_env(node), cwd=ROOT,
                               stderr=subprocess.PIPE, text=True)
              for (node, order), result in zip(nodes.items(), done)]
    collector = subprocess.Popen([sys.executable, "-c", COLLECTOR, str(root), str(stop)],
                                 env=node_env("node-c"), cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not all(result.exists() for result in done):
            assert time.monotonic() < deadline and all(m.poll() is None for m in makers), \
                [m.communicate()[1][-3000:] for m in makers if m.poll() is not None]
            time.sleep(0.05)
        stop.write_text("the makers are done, and still running")
        reports_out, reports_err = collector.communicate(timeout=60)
        release.write_text("go")
        errors = [maker.communicate(timeout=60)[1] for maker in makers]
    finally:
        for process in (*makers, collector):
            process.kill()
    for maker, err in zip(makers, errors):
        assert maker.returncode == 0, err[-3000:]
    assert collector.returncode == 0, reports_err[-3000:]
    seen = [json.loads(result.read_text()) for result in done]
    expected = {str(i): hashlib.sha256(hashlib.sha256(str(i).encode()).digest() * 512)
                .hexdigest() for i in range(count)}
    assert seen == [expected, expected]
    made = sorted(path.name.split(".")[0] for path in calls.iterdir())
    assert made == sorted(str(i) for i in range(count))  # each picture made once, by one node
    reports = json.loads(reports_out)
    removed = [key for report in reports for key in report["removed"]]
    assert len(reports) >= 2 and removed == [old]  # gc ran beside them and dropped only garbage
    assert max(report["live_runs"] for report in reports) == 2  # it saw both nodes at work
    cache = Cache(root)
    assert {e.key for e in cache.entries()} == {
        Cache.key("draw", 1, f"picture {i}") for i in range(count)}
    assert os.listdir(root / "tmp") == [] and os.listdir(root / "locks") == []


def test_a_work_folder_a_cut_on_another_node_uses_is_left_alone_until_its_lease_expires(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "cache"
    segments = root / "segments"
    segments.mkdir(parents=True)
    scratch = segments / ".narration.wav"
    scratch.write_bytes(b"being written by a cut on node-b")
    plant_lease(segments / ".in-use.node-b.lease", "node-b", 1, LEASE, time.time())
    with work_folder(segments):  # a cut here: node-b's scratch is alive
        assert scratch.exists()
    gc = ["gc", "--dir", str(root), "--renders", str(tmp_path / "none"), "--json"]
    assert cache_command.main(gc) == 0
    assert json.loads(capsys.readouterr().out)["busy_folders"] == ["segments"]
    assert scratch.exists()
    time.sleep(2 * LEASE)  # node-b died: its mark is no longer renewed
    assert cache_command.main(gc) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["busy_folders"], report["work_removed"]) == ([], 1)
    assert sorted(os.listdir(segments)) == [".in-use.lock"]
