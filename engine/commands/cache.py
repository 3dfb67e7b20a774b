"""`storyreel cache info|gc`: what the artifact cache holds, and pruning what no run needs."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.cache import MANIFEST, Cache, Entry, cache_dir
from engine.errors import counted
from engine.files import find_root
from engine.locks import USERS, is_scratch, work_folder_alone
from engine.run_folder import (RUN_INDEX, registered_run_folders, remove_unfinished,
                               run_folders)

KEY_IN_TEXT = re.compile(r"\b[0-9a-f]{64}\b")
DAY = 86400.0


@dataclass
class StageTotals:
    entries: int = 0
    size: int = 0
    seconds: float = 0.0


@dataclass
class CacheSummary:
    entries: int = 0
    size: int = 0
    stages: dict[str, StageTotals] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)
    """Bytes in folders beside the entries (temp folders, an editor's work folder)."""


def summarize(cache: Cache) -> CacheSummary:
    summary = CacheSummary()
    for entry in cache.entries():
        size = sum(info.size for info in entry.files.values())
        totals = summary.stages.setdefault(entry.stage or "?", StageTotals())
        totals.entries += 1
        totals.size += size
        totals.seconds += entry.seconds
        summary.entries += 1
        summary.size += size
    if cache.root.is_dir():
        for folder in cache.root.iterdir():
            if folder.is_dir() and len(folder.name) != 2 and folder.name not in OWN_FOLDERS:
                size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                if size:
                    summary.other[folder.name] = size
    return summary


def run_manifests(folders: Iterable[Path]) -> Iterator[Path]:
    """Every run's manifest.json under the renders folders (cache entries are not runs)."""
    for folder in run_folders(folders):
        if (folder / MANIFEST).is_file():
            yield folder / MANIFEST


def referenced_keys(manifests: Iterable[Path]) -> set[str]:
    """Every cache key a run manifest names, wherever its schema puts them."""
    keys: set[str] = set()
    for path in manifests:
        try:
            keys.update(KEY_IN_TEXT.findall(path.read_text(encoding="utf-8")))
        except OSError:
            continue
    return keys


WORK_FILE_DAYS = 7.0
"""Files in work folders beside the entries (the editor's per-scene segments) go when unused
this long, unless `--older-than` says otherwise."""

OWN_FOLDERS = ("tmp", "locks", "runs", RUN_INDEX)
"""The cache's bookkeeping folders beside the entries' shards; any other folder is a work folder."""


@dataclass
class GcResult:
    removed: list[Entry] = field(default_factory=list)
    kept: int = 0
    in_use: int = 0
    """Entries kept only because a live process used or made them since it started."""
    live_runs: int = 0
    """Processes using the cache now, this gc included."""
    dead_marks: int = 0
    temp_removed: int = 0
    locks_removed: int = 0
    """Lock files of dead holders (a machine that died mid-render leaves its own)."""
    work_removed: int = 0
    work_freed: int = 0
    busy_folders: list[str] = field(default_factory=list)
    """Work folders left alone because a running cut uses them."""
    unfinished_runs: int = 0
    """Run folders where a stopped render left unfinished outputs, cleaned."""

    @property
    def freed(self) -> int:
        return sum(sum(i.size for i in e.files.values()) for e in self.removed)


def collect_garbage(cache: Cache, referenced: set[str], *, older_than_days: float | None = None,
                    dry_run: bool = False) -> GcResult:
    """Drop the entries no run references (with `older_than_days`, only those not used for that
    long); never one a live process has used or made since it started (its run manifest is not
    written yet). Then the temp folders and work files of dead processes."""
    result = GcResult()
    cutoff, result.live_runs, result.dead_marks = cache.in_use_since()
    now = time.time()
    for entry in list(cache.entries()):
        try:
            last_use = (entry.folder / MANIFEST).stat().st_mtime
        except FileNotFoundError:
            continue
        recent = older_than_days is not None and now - last_use <= older_than_days * DAY
        # a run manifest that lists only file hashes (an older one) still keeps the entries that
        # hold what it lists, every file of them: a file alike in many entries (the same captions
        # under another seed) keeps none of them
        named = entry.key in referenced or bool(entry.files) and all(
            i.sha256 in referenced for i in entry.files.values())
        if named or recent:
            result.kept += 1
        elif last_use >= cutoff:
            result.kept += 1
            result.in_use += 1
        elif dry_run or cache.remove(entry.key, unused_since=cutoff):
            result.removed.append(entry)
        else:  # used (or being made again) while gc looked
            result.kept += 1
            result.in_use += 1
    if not dry_run:
        result.temp_removed = cache.clean_temp()
        result.locks_removed = cache.clean_locks()
    days = WORK_FILE_DAYS if older_than_days is None else older_than_days
    _prune_work_folders(cache.root, min(now - days * DAY, cutoff), dry_run, result)
    return result


def _prune_work_folders(root: Path, unused_before: float, dry_run: bool,
                        result: GcResult) -> None:
    """In each folder beside the entries that no cut uses now: the scratch of dead processes,
    and files last used before `unused_before` (an editor's segments keep their last use as
    mtime); then the subfolders left empty."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or len(folder.name) == 2 or folder.name in OWN_FOLDERS:
            continue
        with work_folder_alone(folder) as alone:
            if not alone:
                result.busy_folders.append(folder.name)
                continue
            for path in sorted(folder.rglob("*"), reverse=True):
                if path.parent == folder and path.name.startswith(USERS):
                    continue  # its lock, and the marks of cuts starting now
                try:
                    info = path.lstat()
                    if path.is_dir():
                        if not dry_run and not any(path.iterdir()):
                            path.rmdir()
                        continue
                    scratch = is_scratch(path.relative_to(folder).parts[0])
                    if scratch or info.st_mtime < unused_before:
                        if not dry_run:
                            path.unlink()
                        result.work_removed += 1
                        result.work_freed += info.st_size
                except OSError:
                    continue


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storyreel cache",
        description="Inspect or prune the artifact cache (default: .storyreel/cache/ at the story "
                    "repository root, the nearest folder above with .git).")
    sub = parser.add_subparsers(dest="action", required=True)
    for name, text in (("info", "size, entries, and both by stage"),
                       ("gc", "drop entries that no run manifest references")):
        action = sub.add_parser(name, help=text, description=text)
        action.add_argument("place", nargs="?", type=Path, default=Path.cwd(),
                            help="a story file or folder inside the story repository (default: .)")
        action.add_argument("--dir", type=Path, help="the cache folder (like cache.dir=...)")
        action.add_argument("--json", action="store_true", help="print JSON")
        if name == "gc":
            action.add_argument("--older-than", metavar="DAYS",
                                help="drop only unreferenced entries not used for DAYS days")
            action.add_argument("--renders", type=Path, action="append",
                                help="where run folders are (repeatable; default: renders/ at "
                                     "the repository root and in the working directory)")
            action.add_argument("--dry-run", action="store_true", help="say what would go")
    return parser


def _split_overrides(argv: list[str]) -> tuple[list[str], str | None]:
    """Accept `cache.dir=PATH` as the Hydra-style spelling of `--dir PATH`."""
    rest, configured = [], None
    for arg in argv:
        if arg.startswith("cache.dir="):
            configured = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return rest, configured


def missing_cache(root: Path, place: Path, given: bool) -> str:
    """Why there is no cache at `root`, and where it looked."""
    if given:
        return f"no cache at {root} (the folder given does not exist)"
    folder = place.absolute() if place.is_dir() else place.absolute().parent
    repo = find_root(place)
    if (repo / ".git").exists():
        return (f"no cache at {root}: nothing was rendered in the story repository {repo} yet "
                "(or its cache is elsewhere: pass --dir DIR)")
    return (f"no cache at {root}: {folder} is not inside a story repository (no folder from it "
            "up holds .git); run this inside one, name a story in it, or pass --dir DIR")


def main(argv: list[str]) -> int:
    argv, configured = _split_overrides(argv)
    args = _parser().parse_args(argv)
    place: Path = args.place
    given = args.dir or configured
    root = cache_dir(given, place)
    if not root.is_dir():
        print(f"storyreel cache: {missing_cache(root, place, bool(given))}", file=sys.stderr)
        return 1
    cache = Cache(root)
    if args.action == "info":
        return _info(cache, args.json)
    renders = args.renders or sorted({find_root(place) / "renders", Path.cwd() / "renders"})
    if args.older_than is not None:
        args.older_than = _days(args.older_than)
        if args.older_than is None:
            print("storyreel cache: --older-than takes a number of days, 0 or more (--older-than "
                  "30)", file=sys.stderr)
            return 2
    return _gc(cache, renders, args)


def _days(text: str) -> float | None:
    """A number of days (0 or more, finite), or None."""
    try:
        days = float(text)
    except ValueError:
        return None
    return days if math.isfinite(days) and days >= 0 else None


def _info(cache: Cache, as_json: bool) -> int:
    summary = summarize(cache)
    if as_json:
        print(json.dumps({"dir": str(cache.root), "entries": summary.entries,
                          "size": summary.size,
                          "stages": {k: vars(v) for k, v in sorted(summary.stages.items())},
                          "other": summary.other}, indent=1))
        return 0
    print(f"cache {cache.root}")
    print(f"  {summary.entries} entries, {_human(summary.size)}")
    width = max([5, *map(len, summary.stages)])
    if summary.stages:
        print(f"  {'stage':<{width}}  {'entries':>7}  {'size':>10}  {'made in':>9}")
    for stage, totals in sorted(summary.stages.items()):
        print(f"  {stage:<{width}}  {totals.entries:>7}  {_human(totals.size):>10}  "
              f"{totals.seconds:>8.1f}s")
    for name, size in sorted(summary.other.items()):
        print(f"  {name + '/':<{width}}  {'':>7}  {_human(size):>10}  (not entries)")
    return 0


def _gc(cache: Cache, renders: list[Path], args: argparse.Namespace) -> int:
    elsewhere = registered_run_folders(cache.root, prune=not args.dry_run)
    manifests = {*run_manifests(renders), *(folder / MANIFEST for folder in elsewhere)}
    referenced = referenced_keys(sorted(manifests))
    result = collect_garbage(cache, referenced, older_than_days=args.older_than,
                             dry_run=args.dry_run)
    if not args.dry_run:
        result.unfinished_runs = remove_unfinished(renders)
    if args.json:
        print(json.dumps({"dir": str(cache.root), "removed": [e.key for e in result.removed],
                          "kept": result.kept, "in_use": result.in_use,
                          "live_runs": result.live_runs - 1, "freed": result.freed,
                          "temp_removed": result.temp_removed,
                          "locks_removed": result.locks_removed,
                          "work_removed": result.work_removed, "work_freed": result.work_freed,
                          "busy_folders": result.busy_folders, "dead_marks": result.dead_marks,
                          "unfinished_runs": result.unfinished_runs}, indent=1))
        return 0
    verb = "would drop" if args.dry_run else "dropped"
    print(f"cache {cache.root}: {verb} {counted(len(result.removed), 'entry', 'entries')} "
          f"({_human(result.freed)}), kept {result.kept} ({counted(len(referenced), 'key')} "
          f"referenced by runs under {', '.join(str(r) for r in renders)} and in "
          f"{counted(len(elsewhere), 'run folder')} that renders noted in the cache)")
    if result.in_use:
        print(f"  kept {counted(result.in_use, 'entry', 'entries')} that running renders use or "
              "just made")
    if result.work_removed:
        days = WORK_FILE_DAYS if args.older_than is None else args.older_than
        print(f"  {verb} {counted(result.work_removed, 'work file')} "
              f"({_human(result.work_freed)}): "
              f"scratch of stopped cuts and files unused for {days:g} days, such as the "
              "editor's scene segments")
    for name in result.busy_folders:
        print(f"  left {name}/ alone: a render is cutting with it now")
    if result.temp_removed:
        print(f"  removed {counted(result.temp_removed, 'temp folder')} of stopped renders")
    if result.locks_removed:
        print(f"  removed {counted(result.locks_removed, 'lock')} of stopped renders")
    if result.unfinished_runs:
        print("  removed the unfinished outputs of "
              f"{counted(result.unfinished_runs, 'stopped render')}")
    return 0
