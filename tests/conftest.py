"""Shared test set-up: one torch thread (a busy neighbour core makes two threads far slower)."""

from __future__ import annotations

import os

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
