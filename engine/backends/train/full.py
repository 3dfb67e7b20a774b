"""`train=full`: every UNet weight (and the text encoder's) trains; folders `model:` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.backends.train.dreambooth import BACKEND, DreamBooth, Parts
from engine.errors import BackendError


class FullTrainer(DreamBooth):
    """DreamBooth proper: the UNet (and optionally the text encoder) fine-tuned whole."""

    method = "full"

    def attach(self, parts: Parts) -> dict[str, Any]:
        parts.vae.requires_grad_(False)
        parts.text_encoder.requires_grad_(self.text_encoder)
        parts.unet.requires_grad_(True)
        trained = {"unet": parts.unet}
        if self.text_encoder:
            trained["text_encoder"] = parts.text_encoder
        return trained

    def save_weights(self, folder: Path, trained: dict[str, Any]) -> None:
        for name, module in trained.items():
            module.save_pretrained(folder / name, safe_serialization=True)

    def restore(self, folder: Path, trained: dict[str, Any]) -> None:
        """The trained parts' weights from the checkpoint's own `unet/` (`text_encoder/`)."""
        import torch
        from safetensors.torch import load_file

        for name, module in trained.items():
            files = sorted((folder / name).glob("*.safetensors"))
            if not files:
                raise BackendError(BACKEND, f"{folder} has no {name}/ weights to continue from",
                                   hint="remove that checkpoint to continue from the one before")
            stored: dict[str, Any] = {}
            for file in files:
                stored.update(load_file(str(file)))
            params = dict(module.named_parameters())
            with torch.no_grad():
                for key, param in params.items():
                    param.copy_(stored[key])
