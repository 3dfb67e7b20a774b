"""Ctrl-C during a joblib sweep: held back while the driver starts a loky worker, then raised."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import worker_signals

ROOT = Path(__file__).resolve().parents[1]

# A Ctrl-C that reaches the driver just after loky forked a worker, before the worker's start-up
# data is written to it (the window a sweep's Ctrl-C can hit while workers are starting).
CTRL_C_AFTER_FORK = """
import os, signal, sys, time
from joblib.externals.loky import get_reusable_executor
from joblib.externals.loky.backend import fork_exec as loky_fork
from engine import worker_signals

forked = loky_fork.fork_exec
pressed = []
def fork_then_ctrl_c(*args, **kwargs):
    pid = forked(*args, **kwargs)
    if not pressed:  # one Ctrl-C, after the first fork (a second one's handler could run late)
        pressed.append(pid)
        os.kill(os.getpid(), signal.SIGINT)
        while not worker_signals._deferred:  # the handler has run: the Ctrl-C waits
            time.sleep(0.001)  # (a bare loop may starve the handler: see below)
    return pid
loky_fork.fork_exec = fork_then_ctrl_c
worker_signals.block_ctrl_c_for_new_processes()
executor = get_reusable_executor(max_workers=2)
try:
    executor.submit(abs, -1).result()
except KeyboardInterrupt:
    executor.shutdown(kill_workers=True)
    sys.exit("interrupted")
sys.exit("not interrupted")
"""


def test_ctrl_c_while_a_worker_starts_waits_until_loky_knows_the_worker():
    run = subprocess.run([sys.executable, "-c", CTRL_C_AFTER_FORK], cwd=ROOT, timeout=120, check=False,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    # communicate() returned: no worker outlived the driver holding its stdout; none printed
    # loky's "failed with traceback" (EOFError at pickle.load: its start-up data cut short)
    assert (run.returncode, run.stdout, run.stderr) == (1, "", "interrupted\n")


def test_ctrl_c_in_a_spawning_block_is_raised_when_the_block_ends():
    reached = False
    worker_signals.block_ctrl_c_for_new_processes()
    try:
        with pytest.raises(KeyboardInterrupt), worker_signals.spawning():
            os.kill(os.getpid(), signal.SIGINT)
            while not worker_signals._deferred:  # the handler ran: the Ctrl-C waits
                time.sleep(0.001)  # a bare loop may never let the handler run (the signal
            reached = True         # lands in the side thread, which does not wake this one)
    finally:
        worker_signals.restore_ctrl_c()
    assert reached and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):  # outside a sweep, Ctrl-C is Python's own again
        os.kill(os.getpid(), signal.SIGINT)
        while True:
            time.sleep(0.001)


def test_a_process_that_ignores_ctrl_c_goes_on_ignoring_it():
    """A sweep started in the background of a script (SIGINT ignored) is not stopped by it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        worker_signals.block_ctrl_c_for_new_processes()
        try:
            with worker_signals.spawning():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            assert not worker_signals._deferred
        finally:
            worker_signals.restore_ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
