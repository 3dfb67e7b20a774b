"""`storyreel cache info|gc`: what the artifact cache holds, and pruning what no run needs."""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.cache import MANIFEST, Cache, Entry, cache_dir
from engine.dsl.load import find_root

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
            if folder.is_dir() and len(folder.name) != 2:
                size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                if size:
                    summary.other[folder.name] = size
    return summary


def run_manifests(folders: Iterable[Path]) -> Iterator[Path]:
    """Every run's manifest.json under the renders folders (cache entries are not runs)."""
    for folder in folders:
        if folder.is_dir():
            yield from sorted(folder.rglob(MANIFEST))


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


@dataclass
class GcResult:
    removed: list[Entry] = field(default_factory=list)
    kept: int = 0
    temp_removed: int = 0
    work_removed: int = 0
    work_freed: int = 0

    @property
    def freed(self) -> int:
        return sum(sum(i.size for i in e.files.values()) for e in self.removed)


def collect_garbage(cache: Cache, referenced: set[str], *, older_than_days: float | None = None,
                    grace_seconds: float = 3600.0, dry_run: bool = False) -> GcResult:
    """Drop entries no run references (unused for `grace_seconds`, so a render in progress, which
    has not written its manifest yet, keeps what it just made), and with `older_than_days` every
    entry not used for that long, referenced or not."""
    result = GcResult()
    now = time.time()
    for entry in list(cache.entries()):
        try:
            idle = now - (entry.folder / MANIFEST).stat().st_mtime
        except FileNotFoundError:
            continue
        too_old = older_than_days is not None and idle > older_than_days * DAY
        # a run manifest that lists only file hashes still keeps the entries holding them
        named = entry.key in referenced or any(i.sha256 in referenced for i in entry.files.values())
        unreferenced = not named and idle > grace_seconds
        if too_old or unreferenced:
            if not dry_run:
                cache.remove(entry.key)
            result.removed.append(entry)
        else:
            result.kept += 1
    if not dry_run:
        result.temp_removed = cache.clean_stale_temp()
    days = WORK_FILE_DAYS if older_than_days is None else older_than_days
    result.work_removed, result.work_freed = _prune_work_folders(cache.root, days * DAY, dry_run)
    return result


def _prune_work_folders(root: Path, idle_limit: float, dry_run: bool) -> tuple[int, int]:
    """Drop files unused for `idle_limit` seconds in folders that hold no entries (an editor's
    segments keep their last use as mtime), then the folders left empty."""
    removed = freed = 0
    if not root.is_dir():
        return 0, 0
    now = time.time()
    for folder in root.iterdir():
        if not folder.is_dir() or len(folder.name) == 2 or folder.name in ("tmp", "locks"):
            continue
        for path in sorted(folder.rglob("*"), reverse=True):
            try:
                info = path.lstat()
                if path.is_dir():
                    if not dry_run and not any(path.iterdir()):
                        path.rmdir()
                    continue
                if now - info.st_mtime > idle_limit:
                    if not dry_run:
                        path.unlink()
                    removed += 1
                    freed += info.st_size
            except OSError:
                continue
    return removed, freed


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
            action.add_argument("--older-than", type=float, metavar="DAYS",
                                help="also drop entries not used for DAYS days, even referenced")
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


def main(argv: list[str]) -> int:
    argv, configured = _split_overrides(argv)
    args = _parser().parse_args(argv)
    place: Path = args.place
    root = cache_dir(args.dir or configured, place)
    cache = Cache(root)
    if args.action == "info":
        summary = summarize(cache)
        if args.json:
            print(json.dumps({"dir": str(root), "entries": summary.entries, "size": summary.size,
                              "stages": {k: vars(v) for k, v in sorted(summary.stages.items())},
                              "other": summary.other},
                             indent=1))
            return 0
        print(f"cache {root}")
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
    renders = args.renders or sorted({find_root(place) / "renders", Path.cwd() / "renders"})
    referenced = referenced_keys(run_manifests(renders))
    result = collect_garbage(cache, referenced, older_than_days=args.older_than,
                             dry_run=args.dry_run)
    verb = "would drop" if args.dry_run else "dropped"
    if args.json:
        print(json.dumps({"dir": str(root), "removed": [e.key for e in result.removed],
                          "kept": result.kept, "freed": result.freed,
                          "temp_removed": result.temp_removed,
                          "work_removed": result.work_removed}, indent=1))
        return 0
    print(f"cache {root}: {verb} {len(result.removed)} entries ({_human(result.freed)}), "
          f"kept {result.kept} ({len(referenced)} keys referenced by runs under "
          f"{', '.join(str(r) for r in renders)})")
    if result.work_removed:
        days = args.older_than or WORK_FILE_DAYS
        print(f"  and {result.work_removed} work files unused for {days:g} "
              f"days ({_human(result.work_freed)}), such as the editor's scene segments")
    return 0
