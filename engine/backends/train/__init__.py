"""The `train` role: a Trainer fine-tunes the base pipeline on a character's reference images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

CHECKPOINT_PREFIX = "checkpoint-"
METADATA = "train.json"
"""Beside every checkpoint's weights: the base it was trained on (and its fingerprint), the
settings, the images' hashes. `image=diffusers` refuses a Δ trained on another base."""
METADATA_FORMAT = "storyreel-train-1"


@dataclass(frozen=True, slots=True)
class StepReport:
    """After each optimisation step: where the run is, its loss, the checkpoint just written."""

    step: int
    steps: int
    loss: float
    checkpoint: str | None = None


class PictureStore(Protocol):
    """Where a trainer keeps the pictures it draws (prior preservation's class images): the
    artifact cache, keyed by `request` and the painter's `identity()`; `draw(path)` makes the
    picture when the store lacks it. Returns the picture's path."""

    def __call__(self, request: dict[str, Any], painter: Any, draw: Callable[[Path], None],
                 label: str) -> Path: ...


@dataclass(frozen=True, slots=True)
class TrainRequest:
    """One character's training run: the base, the images, the prompt, where checkpoints go."""

    character: str
    base: str                        # absolute path of the base pipeline folder (image.model)
    images: tuple[str, ...]          # absolute paths of the reference images
    instance_prompt: str             # the character's `token:` (a rare token and a class noun)
    out: str                         # the folder that holds checkpoint-NNNNNN/ folders
    on_step: Callable[[StepReport], None] | None = None
    pictures: PictureStore | None = None
    """Needed with prior preservation: where its class images are kept."""


@dataclass(frozen=True, slots=True)
class TrainResult:
    """The checkpoints the output folder holds now, the last one first to use as `model:`."""

    final: str
    checkpoints: tuple[str, ...]
    resumed_from: int = 0            # the step the run continued from (0: a fresh run)


class Trainer(Protocol):
    def train(self, request: TrainRequest) -> TrainResult: ...

    def identity(self) -> dict[str, Any]: ...


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training: the checkpoint saved on the way out, the step it holds (the
    command line reports it as it reports any Ctrl-C, with this message)."""

    def __init__(self, checkpoint: str, step: int):
        super().__init__(f"interrupted at step {step}; saved {checkpoint} "
                         "(run the same command again to continue)")
        self.checkpoint, self.step = checkpoint, step
