"""Ctrl-C in a joblib sweep reaches only the driver: its workers start with SIGINT blocked."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

JOBLIB_LAUNCHER = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
_listener: threading.Event | None = None
"""Set while the main thread blocks SIGINT: a thread that leaves it unblocked waits on it."""
_previous_handler: Any = None
"""The SIGINT handler before the sweep's, put back by restore_ctrl_c."""
_spawning = 0
"""How deep the main thread is in starting loky workers: a Ctrl-C meanwhile waits until it is out."""
_deferred = False
"""Whether a Ctrl-C came while the main thread was starting workers."""


class QuietWorkers(Callback):
    """A terminal's Ctrl-C goes to every process of its foreground group, loky's workers too: each
    would print a KeyboardInterrupt traceback (mid-import or mid-job). Workers started with SIGINT
    blocked never see it; the driver alone raises KeyboardInterrupt, joblib then kills the workers
    with their children, and the command says `storyreel: interrupted` (engine/cli.py)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if str(config.hydra.launcher.get("_target_", "")) == JOBLIB_LAUNCHER:
            block_ctrl_c_for_new_processes()


def block_ctrl_c_for_new_processes() -> None:
    """Processes started from now on (from this thread, or threads it starts) begin with SIGINT
    blocked, as a blocked signal stays blocked through fork and exec; this process still raises
    KeyboardInterrupt in its main thread, through a thread that leaves SIGINT unblocked, though
    not while that thread is starting a loky worker (see _on_ctrl_c)."""
    global _listener, _previous_handler
    if _listener is not None or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import resource_tracker

    # CPython 3.11 starts multiprocessing's resource tracker with SIGINT blocked and then
    # unblocks it in the calling thread: started now, loky's spawns find it running.
    resource_tracker.ensure_running()
    _defer_ctrl_c_in_loky_spawns()
    _listener = threading.Event()
    threading.Thread(target=_listener.wait, name="ctrl-c", daemon=True).start()
    _previous_handler = signal.signal(signal.SIGINT, _on_ctrl_c)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def restore_ctrl_c() -> None:
    """SIGINT unblocked in the main thread again (after the sweep, however it ended)."""
    global _listener, _previous_handler
    if _listener is None or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _previous_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _listener.set()
    _listener = _previous_handler = None


def _on_ctrl_c(signum: int, frame: Any) -> None:
    """The sweep's SIGINT handler: the previous one's KeyboardInterrupt, held back while the main
    thread starts workers (raised there, a worker begun but not yet known to loky, its start-up
    data half-written, would outlive the sweep and print an EOFError traceback)."""
    global _deferred
    if _previous_handler == signal.SIG_IGN:
        return  # a process started with Ctrl-C ignored (in the background of a script) keeps it so
    if _spawning:
        _deferred = True
    elif callable(_previous_handler):
        _previous_handler(signum, frame)
    else:
        raise KeyboardInterrupt


@contextmanager
def spawning() -> Iterator[None]:
    """While in this block (main thread only), a Ctrl-C waits; it is raised when the block ends."""
    global _spawning, _deferred
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _spawning += 1
    try:
        yield
    finally:
        _spawning -= 1
    if not _spawning and _deferred:
        _deferred = False
        raise KeyboardInterrupt


def _defer_ctrl_c_in_loky_spawns() -> None:
    """loky's executor starts its workers (and the thread that watches them) within spawning()."""
    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    for name in ("_adjust_process_count", "_ensure_executor_running"):
        method = getattr(ProcessPoolExecutor, name)
        if not getattr(method, "_storyreel_spawning", False):
            setattr(ProcessPoolExecutor, name, _within_spawning(method))


def _within_spawning(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, run within spawning()."""
    @wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with spawning():
            return method(*args, **kwargs)
    wrapped._storyreel_spawning = True  # type: ignore[attr-defined]
    return wrapped
