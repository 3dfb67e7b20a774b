"""A run folder holds one run's outputs: staged aside, put in place together, the manifest last."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from engine.files import write_atomically
from engine.locks import UNWRITABLE, acquire, release

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
STAGING = ".storyreel-partial"
"""Where a run's outputs wait until all are made; a killed run's is removed by the next run into
the same folder, or by `cache gc`."""
LOCK = ".lock"
HYDRA_RECORD = ".hydra"
"""Hydra's own record of a run (its config); with `*.log` files it is not an output of ours."""
RECORD_PREFIX = ".storyreel-record-"
"""Where a single run's Hydra record and log wait (one folder a process) until the commit puts
them in place as `.hydra/` and `render.log`; a failed run's is removed."""
JOB_LOG = "render.log"
LEGACY_OUTPUTS = ("video.mp4", "captions.srt", "captions.vtt", "storyboard.html",
                  "resolved.story")
"""What a run wrote before manifests listed their outputs (with `scenes/*.png`, `audio/*.wav`)."""
RUN_INDEX = "run-folders"
"""The cache's index of the run folders whose manifests reference its entries, wherever they are
(`hydra.run.dir=out/final` included): one file a folder, holding its absolute path."""


class RunFolder:
    """`with RunFolder(path) as folder:` write every output under `folder.staging`, then `commit`.

    Until the commit the folder keeps the previous run whole, manifest included; the commit moves
    the new outputs in, removes the previous run's outputs this run did not make (the previous
    manifest says which; any other file is left alone) and writes the manifest last. A run that
    fails leaves no output behind, and no folder when it made the folder and nothing else is in it.
    Two runs into one folder take turns.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.staging = folder / STAGING
        self._fd: int | None = None
        self._committed = False

    def __enter__(self) -> RunFolder:
        while self._fd is None:
            try:  # the folder too: a cleanup may remove an empty run folder at any moment
                self.staging.mkdir(parents=True, exist_ok=True)
                self._fd = acquire(self.staging / LOCK, wait=True)
            except FileNotFoundError:  # a gc removed a dead run's staging meanwhile
                continue
        for leftover in self.staging.iterdir():  # a killed run's
            if leftover.name != LOCK:
                _remove(leftover)
        for record in self.folder.glob(f"{RECORD_PREFIX}*"):
            if not _alive(record.name.removeprefix(RECORD_PREFIX)):  # a killed run's
                _remove(record)
        return self

    def commit(self, write_manifest: Callable[[Path, list[str]], None]) -> None:
        """Put the staged outputs in place; `write_manifest(path, outputs)` writes the manifest.
        A Ctrl-C meanwhile waits until the run is whole in the folder, then interrupts."""
        with _ctrl_c_waits():
            self._commit(write_manifest)

    def _commit(self, write_manifest: Callable[[Path, list[str]], None]) -> None:
        previous = previous_outputs(self.folder)
        outputs = sorted(str(p.relative_to(self.staging).as_posix())
                         for p in self.staging.rglob("*")
                         if p.is_file() and not any(part.startswith(".") for part in
                                                    p.relative_to(self.staging).parts))
        (self.folder / MANIFEST).unlink(missing_ok=True)  # no stale manifest describes a mix
        for name in outputs:
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / name, target)
        for name in sorted(previous - set(outputs), reverse=True):
            _remove_output(self.folder, name)
        self._put_record_in_place()
        write_manifest(self.folder / MANIFEST, outputs)
        self._committed = True

    def _put_record_in_place(self) -> None:
        """This run's Hydra record and log replace the previous run's (a sweep's job, or a run
        with its own `hydra.output_subdir`, has written them in place already)."""
        record = self.folder / record_name()
        if not record.is_dir():
            return
        log, target = record / JOB_LOG, self.folder / JOB_LOG
        if log.exists():
            os.replace(log, target)
        else:  # nothing logged yet: the previous run's log is not this run's
            target.unlink(missing_ok=True)
        _follow_log(log, target)
        _remove(self.folder / HYDRA_RECORD)
        os.replace(record, self.folder / HYDRA_RECORD)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            if self._fd is not None:
                release(self._fd, self.staging / LOCK)
                self._fd = None
        if not self._committed:
            discard_record(self.folder)
            remove_if_empty(self.folder)


@contextmanager
def _ctrl_c_waits() -> Iterator[None]:
    """In the main thread: a Ctrl-C during the block is raised when it ends (the renames that
    put a run in place take milliseconds; half of them would leave a mix of two runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: pressed.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        if callable(previous):
            previous(signal.SIGINT, pressed[0])
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


FOUND_FOLDERS: set[Path] = set()
"""Run folders that were there before this process's run began (a `hydra.run.dir` of the
user's own): a run that fails leaves them, only its own record taken out."""


def record_name() -> str:
    """The folder, inside the run folder, where this process's Hydra record waits."""
    return f"{RECORD_PREFIX}{os.getpid()}"


def record_overrides() -> list[str]:
    """Hydra overrides that stage a single run's record and log until the run's commit."""
    name = record_name()
    return [f"hydra.output_subdir={name}",
            f"hydra.job_logging.handlers.file.filename=${{hydra.runtime.output_dir}}/{name}/"
            f"{JOB_LOG}"]


def discard_record(folder: Path) -> None:
    """Remove this process's staged record of a run that failed (its log's later lines go
    nowhere): the folder keeps the previous run's `.hydra/` and log."""
    record = folder / record_name()
    if record.is_dir():
        _follow_log(record / JOB_LOG, Path(os.devnull))
        _remove(record)


def _follow_log(old: Path, new: Path) -> None:
    """Point this process's log file handlers writing `old` at `new` (an open file follows its
    move; one not opened yet opens `new`)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == old:
            handler.baseFilename = str(new)


def _alive(pid: str) -> bool:
    """Whether the process `pid` (on this machine) runs."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def is_run_folder(folder: Path) -> bool:
    """Whether a render may write into `folder`: new, empty, or one a render made (its manifest,
    a stopped run's staging, or only Hydra's record of a run that made nothing)."""
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:  # not a folder (yet): making it says what is wrong, if anything
        return True
    return MANIFEST in names or STAGING in names or all(map(_record_or_log, names))


def _record_or_log(name: str) -> bool:
    return name == HYDRA_RECORD or name.startswith(RECORD_PREFIX) or name.endswith(".log")


def previous_outputs(folder: Path) -> set[str]:
    """The outputs the folder's manifest names (relative paths inside the folder, checked)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    listed = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(listed, list):  # written before manifests listed their outputs
        listed = [*LEGACY_OUTPUTS, *(p.relative_to(folder).as_posix() for pattern in
                                     ("scenes/*.png", "audio/*.wav") for p in folder.glob(pattern))]
    return {name for name in listed if isinstance(name, str) and _inside(name)}


def _inside(name: str) -> bool:
    """A relative path that stays inside the folder and is not ours to keep (manifest, staging)."""
    path = PurePosixPath(name)
    return bool(path.parts) and not path.is_absolute() and ".." not in path.parts \
        and name != MANIFEST and not any(part.startswith(".") for part in path.parts)


def _remove_output(folder: Path, name: str) -> None:
    """Unlink an earlier run's output, then the subfolders it leaves empty."""
    path = folder / name
    if path.is_symlink() or path.is_file():
        path.unlink()
    for parent in path.parents:
        if parent == folder:
            break
        try:
            parent.rmdir()
        except OSError:  # not empty (or gone): leave it
            break


def remove_if_empty(folder: Path) -> bool:
    """Remove a run folder that holds nothing but Hydra's record of a run that made no output
    (and none of a live process: a `cache gc` may look in just as a render starts), unless it
    was there before this process's run (FOUND_FOLDERS)."""
    if Path(os.path.abspath(folder)) in FOUND_FOLDERS:
        return False
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return False
    if not all(map(_record_or_log, names)):
        return False
    if any(name.startswith(RECORD_PREFIX) and _alive(name.removeprefix(RECORD_PREFIX))
           for name in names):  # a run starting here (its record and log made, no staging yet)
        return False
    for name in names:
        _remove(folder / name)
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


def register_run_folder(cache_root: Path, folder: Path) -> None:
    """Note in the cache's index that `folder` holds a finished run (a shared read-only cache,
    which nobody here prunes, is left as it is)."""
    folder = folder.absolute()
    name = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:32]
    try:
        (cache_root / RUN_INDEX).mkdir(exist_ok=True)
        write_atomically(cache_root / RUN_INDEX / name, f"{folder}\n")
    except OSError as error:
        if error.errno not in UNWRITABLE:
            raise


def registered_run_folders(cache_root: Path, prune: bool) -> list[Path]:
    """The run folders in the cache's index that still hold a manifest; with `prune`, the index
    forgets the others (removed or moved by the user)."""
    index = cache_root / RUN_INDEX
    folders: list[Path] = []
    for note in sorted(index.iterdir()) if index.is_dir() else ():
        try:
            folder = Path(note.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            continue
        if folder.is_absolute() and (folder / MANIFEST).is_file():
            folders.append(folder)
        elif prune:
            note.unlink(missing_ok=True)
    return folders


def run_folders(renders: Iterable[Path]) -> Iterator[Path]:
    """Every folder under the renders folders, not looking into runs' staging or Hydra records
    (a live run changes its staging folder while it is walked)."""
    for root in renders:
        for folder, subfolders, _ in os.walk(root):
            subfolders[:] = sorted(s for s in subfolders if s not in (STAGING, HYDRA_RECORD))
            yield Path(folder)


def remove_unfinished(renders: Iterable[Path]) -> int:
    """Remove what stopped (killed) runs left under the renders folders; how many runs."""
    removed = 0
    for folder in run_folders(renders):
        staging = folder / STAGING
        if not staging.is_dir():
            continue
        try:
            fd = acquire(staging / LOCK, wait=False)
        except OSError:
            continue
        if fd is None:  # its run is alive
            continue
        shutil.rmtree(staging, ignore_errors=True)
        release(fd, staging / LOCK)
        if not (folder / MANIFEST).exists():
            remove_if_empty(folder)
        removed += 1
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
