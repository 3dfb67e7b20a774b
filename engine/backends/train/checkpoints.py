"""Checkpoint folders: written whole or not at all, metadata beside them, resume state unpickled.

A checkpoint is `checkpoint-NNNNNN/` holding what `model:` loads (a LoRA file, or `unet/` and
`text_encoder/`) and `train.json`. The newest one also holds `state/`: the optimiser's tensors
(safetensors), the scheduler's and RNG's state (JSON and safetensors), so a run continues exactly
where it stopped. Nothing is ever unpickled: a model folder may come from anyone's repository.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.backends.train import CHECKPOINT_PREFIX, METADATA, METADATA_FORMAT
from engine.files import write_atomically

STATE = "state"
STATE_DONE = "state.json"  # written last: a state folder without it is not one to resume from


def name_of(step: int) -> str:
    return f"{CHECKPOINT_PREFIX}{step:06d}"


def step_of(folder: Path) -> int | None:
    """The step a checkpoint folder's name says, None for anything else."""
    digits = folder.name.removeprefix(CHECKPOINT_PREFIX)
    if folder.name.startswith(CHECKPOINT_PREFIX) and digits.isdigit() and folder.is_dir():
        return int(digits)
    return None


def checkpoints(out: Path) -> list[Path]:
    """The complete checkpoints in `out`, oldest first."""
    if not out.is_dir():
        return []
    found = [(step_of(p), p) for p in out.iterdir()]
    return [p for step, p in sorted((s, p) for s, p in found if s is not None)
            if (p / METADATA).is_file()]


def resumable(out: Path) -> Path | None:
    """The newest checkpoint that holds a whole resume state."""
    return next((p for p in reversed(checkpoints(out)) if (p / STATE / STATE_DONE).is_file()),
                None)


def read_metadata(folder: Path) -> dict[str, Any] | None:
    """A checkpoint's `train.json` (None when absent or not ours)."""
    try:
        data = json.loads((folder / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == METADATA_FORMAT else None


@contextmanager
def writing(out: Path, step: int) -> Iterator[Path]:
    """A scratch folder to fill; on success it becomes `checkpoint-NNNNNN` in one rename."""
    final = out / name_of(step)
    scratch = out / f".{final.name}.{os.getpid()}.part"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    if final.exists():  # the same step saved again (Ctrl-C just after a checkpoint): replace it
        shutil.rmtree(final)
    os.replace(scratch, final)


def write_metadata(folder: Path, metadata: dict[str, Any]) -> None:
    write_atomically(folder / METADATA, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")


def save_state(folder: Path, optimizer: Any, scheduler: Any, generator: Any, step: int,
               trainable: dict[str, Any] | None = None) -> None:
    """The optimiser (tensors to safetensors, hyper-parameters to JSON), the learning-rate
    scheduler, the RNGs and, where `model:` files cannot give them back exactly, the trainable
    tensors; `state.json` last."""
    import torch
    from safetensors.torch import save_file

    state = folder / STATE
    state.mkdir()
    optimizer_state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in optimizer_state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}/{key}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(index), {})[key] = value
    tensors["rng/generator"] = generator.get_state()
    tensors["rng/torch"] = torch.get_rng_state()
    save_file(tensors, str(state / "optimizer.safetensors"))
    if trainable:
        save_file({n: t.detach().contiguous().cpu() for n, t in trainable.items()},
                  str(state / "trainable.safetensors"))
    record = {"step": step, "param_groups": optimizer_state["param_groups"],
              "scalars": scalars, "scheduler": scheduler.state_dict()}
    write_atomically(state / STATE_DONE, json.dumps(record, indent=1))


def load_state(folder: Path, optimizer: Any, scheduler: Any, generator: Any) -> int:
    """Restores what `save_state` wrote; returns the step it holds."""
    import torch
    from safetensors.torch import load_file

    state = folder / STATE
    record = json.loads((state / STATE_DONE).read_text(encoding="utf-8"))
    tensors = load_file(str(state / "optimizer.safetensors"))
    generator.set_state(tensors.pop("rng/generator"))
    torch.set_rng_state(tensors.pop("rng/torch"))
    entries: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        index, key = name.split("/", 1)
        entries.setdefault(int(index), {})[key] = value
    for index, values in record["scalars"].items():
        entries.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": entries, "param_groups": record["param_groups"]})
    scheduler.load_state_dict(record["scheduler"])
    return int(record["step"])


def load_trainable(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / STATE / "trainable.safetensors"))


def retire(out: Path, newest: Path, keep: int | None) -> None:
    """Only the newest checkpoint keeps its resume state; with `keep`, only the last `keep`
    checkpoints are kept at all (by default every one is: they are what trainedness is
    calibrated against)."""
    every = checkpoints(out)
    for folder in every:
        if folder != newest:
            shutil.rmtree(folder / STATE, ignore_errors=True)
    if keep is not None:
        for folder in every[:-keep]:
            if folder != newest:
                shutil.rmtree(folder, ignore_errors=True)
