"""Ctrl-C in a joblib sweep reaches only the driver: its workers start with SIGINT blocked."""

from __future__ import annotations

import signal
import threading
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

JOBLIB_LAUNCHER = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
_listener: threading.Event | None = None
"""Set while the main thread blocks SIGINT: a thread that leaves it unblocked waits on it."""


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
    KeyboardInterrupt in its main thread, through a thread that leaves SIGINT unblocked."""
    global _listener
    if _listener is not None or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import resource_tracker

    # CPython 3.11 starts multiprocessing's resource tracker with SIGINT blocked and then
    # unblocks it in the calling thread: started now, loky's spawns find it running.
    resource_tracker.ensure_running()
    _listener = threading.Event()
    threading.Thread(target=_listener.wait, name="ctrl-c", daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def restore_ctrl_c() -> None:
    """SIGINT unblocked in the main thread again (after the sweep, however it ended)."""
    global _listener
    if _listener is None or threading.current_thread() is not threading.main_thread():
        return
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _listener.set()
    _listener = None
