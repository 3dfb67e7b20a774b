"""Shared test set-up: one torch thread (a busy neighbour core makes two threads far slower)."""

from __future__ import annotations

import os
import signal

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

try:  # torch is an optional extra; only its tests need it
    import torch
except ImportError:
    pass
else:
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _ctrl_c_stays_ctrl_c():
    """A library that leaves SIGINT ignored in this process (a launcher, a worker pool) would
    make every later child process ignore Ctrl-C too (SIG_IGN survives exec): restore it."""
    yield
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
