"""A Hydra callback: the run's (or sweep's) folder is made before Hydra writes into it, so a
place that cannot be written is one clear line instead of a traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from engine.files import explain_os_error
from engine.run_folder import FOUND_FOLDERS, discard_record, remove_if_empty

_made: list[Path] = []


class OutputFolder(Callback):
    """Makes `hydra.run.dir` (with Hydra's record folder in it), or `hydra.sweep.dir`."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _make(config, "run")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _make(config, "sweep")


def _make(config: DictConfig, mode: str) -> None:
    # As Hydra names it (`runtime.output_dir`): `..` taken out, so `a/../mine` is `mine`.
    folder = Path(os.path.abspath(str(config.hydra[mode].dir)))
    record = config.hydra.output_subdir
    if mode == "run":
        _made.append(folder)
        if folder.exists():
            FOUND_FOLDERS.add(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if mode == "run" and record is not None:
            try:
                (folder / str(record)).mkdir(exist_ok=True)
            except OSError as error:  # named as the folder: the record's name is Hydra's (or ours)
                error.filename = str(folder)
                raise
    except OSError as error:
        what = "the run folder" if mode == "run" else "the sweep folder"
        line = explain_os_error(error, {folder: (what, f"choose another: hydra.{mode}.dir=PATH")})
        print(f"storyreel render: error: {line}", file=sys.stderr)
        # not an Exception: Hydra turns those from a callback into a warning and goes on
        raise SystemExit(1) from None


def remove_unused_folders() -> None:
    """Remove this process's staged Hydra record from the run folders (the run's commit has put
    it in place, or the run failed), then the folders this run made that hold nothing but
    Hydra's record of a run that failed, or was interrupted, before it had outputs (a folder
    that was there before stays)."""
    while _made:
        folder = _made.pop()
        discard_record(folder)  # a run that failed before its run folder was opened
        remove_if_empty(folder)
