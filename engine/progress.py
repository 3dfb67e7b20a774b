"""Rich progress bars per stage (with counts), the end-of-run summary table, and the consoles
and log handler that never hard-wrap output that is not a terminal."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.errors import shown
from engine.manifest import Recorder

STAGES = ("write", "screen", "design", "draw", "speak", "cut")


def output_console(stderr: bool = True) -> Console:
    """A console whose printed lines are never split (a path stays whole in a pipe or a log)."""
    return Console(stderr=stderr, soft_wrap=True)


class ConsoleLog(RichHandler):
    """Rich log lines on a terminal; elsewhere (a pipe, a file, a CI log) `LEVEL message` lines,
    unwrapped and unpadded (Rich would fold them at 80 columns). Control characters (a story
    file named with an escape sequence) are shown escaped. A record that says its own level
    (`extra={"says_its_level": True}`: a story's `file:line:col: warning: …` with its caret) is written
    as it is, everywhere."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the handler reports it below
            message = None
        if message is not None and shown(message) != message:
            record.msg, record.args = shown(message), None
        said_itself = getattr(record, "says_its_level", False)  # a story's diagnostic
        if self.console.is_terminal and not said_itself:
            super().emit(record)
            return
        try:
            level = "" if said_itself else f"{record.levelname} "
            self.console.file.write(f"{level}{self.format(record)}\n")
            self.console.file.flush()
        except Exception:  # noqa: BLE001 - logging's convention: report, never raise
            self.handleError(record)


class StageProgress:
    """One progress bar per stage; `stage(name, total)` yields a thread-safe `advance()`."""

    def __init__(self, console: Console):
        self.console = console
        self._progress = Progress(TextColumn("[bold]{task.description:<6}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                  transient=False, disable=not console.is_terminal)
        self._lock = threading.Lock()

    def __enter__(self) -> StageProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Callable[[], None]]:
        task = self._progress.add_task(name, total=max(total, 1))

        def advance() -> None:
            with self._lock:
                self._progress.advance(task)

        yield advance
        self._progress.update(task, completed=max(total, 1))


def summary_table(recorder: Recorder, video_seconds: float, wall_seconds: float) -> Table:
    """Per stage: made, reused, seconds; and the render-time to video-duration ratio."""
    table = Table(title="storyreel render", show_footer=True)
    table.add_column("stage", footer="total")
    table.add_column("made", justify="right")
    table.add_column("reused", justify="right")
    table.add_column("seconds", justify="right", footer=f"{wall_seconds:.1f}")
    counts = recorder.counts()
    for stage in STAGES:
        if stage not in counts and stage not in recorder.stage_seconds:
            continue
        made, reused = counts.get(stage, (0, 0))
        table.add_row(stage, str(made), str(reused),
                      f"{recorder.stage_seconds.get(stage, 0.0):.1f}")
    if video_seconds > 0:
        table.caption = (f"video {video_seconds:.1f} s; render/video = "
                         f"{wall_seconds / video_seconds:.2f}")
    return table
