"""`train=lora`: low-rank adapters on the UNet's attention (and the text encoder's), one file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.backends.train import checkpoints as saved
from engine.backends.train.dreambooth import BACKEND, DreamBooth, Parts
from engine.errors import BackendError, ConfigError

LORA_FILE = "pytorch_lora_weights.safetensors"
"""The name diffusers' `load_lora_weights` looks for, so a checkpoint folder is a `model:`."""
ADAPTER = "default"


class LoraTrainer(DreamBooth):
    """DreamBooth with LoRA: the base stays frozen, one adapter per trained part."""

    method = "lora"

    def __init__(self, rank: int = 4, alpha: float | None = None,
                 target_modules: Sequence[str] = ("to_k", "to_q", "to_v", "to_out.0"),
                 text_encoder_target_modules: Sequence[str] = ("q_proj", "k_proj", "v_proj",
                                                                "out_proj"),
                 dropout: float = 0.0, steps: int = 800, checkpoint_every: int = 100,
                 learning_rate: float = 1e-4, batch: int = 1, resolution: int | None = None,
                 seed: int = 0, mixed_precision: str = "no", gradient_checkpointing: bool = False,
                 optimizer: str = "adamw", text_encoder: bool = False,
                 lr_scheduler: str = "constant", lr_warmup_steps: int = 0,
                 max_grad_norm: float = 1.0, keep_checkpoints: int | None = None,
                 device: str = "cpu", prior_preservation: bool = False,
                 class_prompt: str | None = None, class_images: int = 100,
                 class_steps: int = 25, prior_loss_weight: float = 1.0):
        # Every setting spelled out: the `train` node is exactly the constructor's arguments.
        super().__init__(steps=steps, checkpoint_every=checkpoint_every,
                         learning_rate=learning_rate, batch=batch, resolution=resolution,
                         seed=seed, mixed_precision=mixed_precision,
                         gradient_checkpointing=gradient_checkpointing, optimizer=optimizer,
                         text_encoder=text_encoder, lr_scheduler=lr_scheduler,
                         lr_warmup_steps=lr_warmup_steps, max_grad_norm=max_grad_norm,
                         keep_checkpoints=keep_checkpoints, device=device,
                         prior_preservation=prior_preservation, class_prompt=class_prompt,
                         class_images=class_images, class_steps=class_steps,
                         prior_loss_weight=prior_loss_weight)
        if rank < 1 or not target_modules:
            raise ConfigError("train.rank must be >= 1 and train.target_modules not empty")
        self.rank, self.alpha = int(rank), float(alpha if alpha is not None else rank)
        self.target_modules = list(target_modules)
        self.text_encoder_target_modules = list(text_encoder_target_modules)
        self.dropout = float(dropout)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "rank": self.rank, "alpha": self.alpha,
                "target_modules": self.target_modules,
                "text_encoder_target_modules": self.text_encoder_target_modules,
                "dropout": self.dropout}

    def _config(self, targets: list[str]) -> Any:
        from peft import LoraConfig

        return LoraConfig(r=self.rank, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          init_lora_weights="gaussian", target_modules=targets)

    def attach(self, parts: Parts) -> dict[str, Any]:
        from peft import inject_adapter_in_model

        for part in (parts.vae, parts.text_encoder, parts.unet):
            part.requires_grad_(False)
        parts.unet.add_adapter(self._config(self.target_modules), adapter_name=ADAPTER)
        trained = {"unet": parts.unet}
        if self.text_encoder:
            # peft itself, as transformers' add_adapter would (which asks for a newer peft
            # than diffusers does); it leaves the config in `text_encoder.peft_config`
            inject_adapter_in_model(self._config(self.text_encoder_target_modules),
                                    parts.text_encoder, adapter_name=ADAPTER)
            trained["text_encoder"] = parts.text_encoder
        return trained

    def save_weights(self, folder: Path, trained: dict[str, Any]) -> None:
        from diffusers import StableDiffusionPipeline
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft.utils import get_peft_model_state_dict

        layers = {f"{name}_lora_layers": convert_state_dict_to_diffusers(
            get_peft_model_state_dict(module, adapter_name=ADAPTER))
            for name, module in trained.items()}
        metadata = {f"{name}_lora_adapter_metadata": module.peft_config[ADAPTER].to_dict()
                    for name, module in trained.items()}
        StableDiffusionPipeline.save_lora_weights(str(folder), weight_name=LORA_FILE,
                                                  safe_serialization=True, **layers, **metadata)

    def state_tensors(self, trained: dict[str, Any]) -> dict[str, Any]:
        """The adapters' own parameters, by their names in the model (exactly as trained)."""
        return {f"{name}.{key}": param for name, module in trained.items()
                for key, param in module.named_parameters() if param.requires_grad}

    def restore(self, folder: Path, trained: dict[str, Any]) -> None:
        """Copies the saved adapter into the one `attach` made: never a second adapter."""
        import torch

        stored = saved.load_trainable(folder)
        params = self.state_tensors(trained)
        if set(stored) != set(params):
            raise BackendError(BACKEND, f"{folder} holds adapters of another shape than "
                               "train.rank / target modules make", hint="give --out another "
                               "folder, or remove its checkpoints to start over")
        with torch.no_grad():
            for name, param in params.items():
                param.copy_(stored[name])
