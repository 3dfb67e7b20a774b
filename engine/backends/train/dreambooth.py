"""The DreamBooth loop both `train` choices share: diffusers parts, accelerate, exact resume."""

from __future__ import annotations

import importlib.util
import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.backends.train import (METADATA_FORMAT, Interrupted, StepReport, TrainRequest,
                                   TrainResult)
from engine.backends.train import checkpoints as saved
from engine.backends.train.images import image_hashes, pixel_batch
from engine.backends.weights import package_versions, path_fingerprint
from engine.errors import BackendError, ConfigError, MissingDependency

BACKEND = "train"
INSTALL = "pip install 'storyreel[diffusers]' (and torch, as the README's set-up does)"
OPTIMIZERS = ("adamw", "adamw8bit")
PRECISIONS = {"no": "float32", "fp16": "float16", "bf16": "bfloat16"}
DEVICES = ("cpu", "cuda")
RUN_ONLY = ("steps", "checkpoint_every", "keep_checkpoints", "device")
"""Settings a run may change when it continues another (the rest must match to resume)."""
STEP_FREE_SCHEDULES = ("constant", "constant_with_warmup")


@dataclass
class Parts:
    """The base pipeline's parts that training uses."""

    tokenizer: Any
    text_encoder: Any
    vae: Any
    unet: Any
    noise_scheduler: Any


def load_parts(base: Path) -> Parts:
    """The tokenizer, text encoder, VAE, UNet and a DDPM noise scheduler of a Stable Diffusion
    1.x/2.x folder (safetensors only)."""
    from engine.backends.image.diffusers import check_pipeline_folder

    check_pipeline_folder(base)
    index = json.loads((base / "model_index.json").read_text())
    if "unet" not in index or "text_encoder_2" in index or "text_encoder" not in index:
        raise BackendError(BACKEND, f"{base} is a {index.get('_class_name', 'pipeline')}; "
                           "train fine-tunes Stable Diffusion 1.x/2.x pipelines (one text "
                           "encoder and a UNet)", hint="pick such a base with image.model")
    try:
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        from transformers import AutoTokenizer, CLIPTextModel
    except ImportError as error:
        raise MissingDependency(BACKEND, error.name or "diffusers", INSTALL) from None
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()  # our own bar says how training goes
    transformers_logging.disable_progress_bar()
    options = {"use_safetensors": True, "local_files_only": True}
    try:
        return Parts(AutoTokenizer.from_pretrained(base / "tokenizer", use_fast=False),
                     CLIPTextModel.from_pretrained(base / "text_encoder", **options),
                     AutoencoderKL.from_pretrained(base / "vae", **options),
                     UNet2DConditionModel.from_pretrained(base / "unet", **options),
                     DDPMScheduler.from_pretrained(base / "scheduler"))
    except (OSError, ValueError) as error:
        raise BackendError(BACKEND, f"cannot load the base pipeline in {base}: {error}") from None


def native_resolution(parts: Parts) -> int:
    """The side of the square the base was trained at: the UNet's sample size in pixels."""
    return int(parts.unet.config.sample_size) * 2 ** (len(parts.vae.config.block_out_channels) - 1)


class StopFlag:
    requested = False


@contextmanager
def ctrl_c_saves() -> Iterator[StopFlag]:
    """The first Ctrl-C asks the loop to stop after its step (it then saves); a second one
    stops at once."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def request(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True

    previous = signal.signal(signal.SIGINT, request)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class DreamBooth:
    """A Trainer: the settings every method shares and the loop; a method says which weights
    train (`attach`), how `model:` files are written (`save_weights`) and read back (`restore`)."""

    method = "dreambooth"

    def __init__(self, steps: int = 800, checkpoint_every: int = 100,
                 learning_rate: float = 1e-4, batch: int = 1, resolution: int | None = None,
                 seed: int = 0, mixed_precision: str = "no", gradient_checkpointing: bool = False,
                 optimizer: str = "adamw", text_encoder: bool = False,
                 lr_scheduler: str = "constant", lr_warmup_steps: int = 0,
                 max_grad_norm: float = 1.0, keep_checkpoints: int | None = None,
                 device: str = "cpu"):
        if steps < 1 or checkpoint_every < 1 or batch < 1:
            raise ConfigError("train.steps, train.checkpoint_every and train.batch must be >= 1")
        if resolution is not None and (resolution < 8 or resolution % 8):
            raise ConfigError("train.resolution must be null or a multiple of 8")
        if mixed_precision not in PRECISIONS:
            raise ConfigError(f"train.mixed_precision must be one of {', '.join(PRECISIONS)}")
        if device not in DEVICES:
            raise ConfigError(f"train.device must be one of {', '.join(DEVICES)}")
        if device == "cpu" and mixed_precision == "fp16":
            raise ConfigError("train.mixed_precision=fp16 needs a GPU (train.device=cuda); "
                              "on the CPU use bf16 or no")
        if optimizer not in OPTIMIZERS:
            raise ConfigError(f"train.optimizer must be one of {', '.join(OPTIMIZERS)}")
        if optimizer == "adamw8bit" and importlib.util.find_spec("bitsandbytes") is None:
            raise MissingDependency(BACKEND, "bitsandbytes (train.optimizer=adamw8bit)",
                                    "pip install bitsandbytes (CUDA only), or "
                                    "train.optimizer=adamw")
        if keep_checkpoints is not None and keep_checkpoints < 1:
            raise ConfigError("train.keep_checkpoints must be null (keep all) or >= 1")
        self.steps, self.checkpoint_every, self.batch = int(steps), int(checkpoint_every), batch
        self.learning_rate, self.resolution, self.seed = float(learning_rate), resolution, seed
        self.mixed_precision, self.optimizer = mixed_precision, optimizer
        self.gradient_checkpointing, self.text_encoder = gradient_checkpointing, text_encoder
        self.lr_scheduler, self.lr_warmup_steps = lr_scheduler, int(lr_warmup_steps)
        self.max_grad_norm, self.keep_checkpoints = float(max_grad_norm), keep_checkpoints
        self.device = device

    def settings(self) -> dict[str, Any]:
        """Everything that shapes the weights (and, in RUN_ONLY, how a run goes)."""
        return {"method": self.method, "steps": self.steps, "learning_rate": self.learning_rate,
                "batch": self.batch, "resolution": self.resolution, "seed": self.seed,
                "mixed_precision": self.mixed_precision, "optimizer": self.optimizer,
                "gradient_checkpointing": self.gradient_checkpointing,
                "text_encoder": self.text_encoder, "lr_scheduler": self.lr_scheduler,
                "lr_warmup_steps": self.lr_warmup_steps, "max_grad_norm": self.max_grad_norm,
                "checkpoint_every": self.checkpoint_every,
                "keep_checkpoints": self.keep_checkpoints, "device": self.device}

    def identity(self) -> dict[str, Any]:
        return {"backend": f"train={self.method}", **self.settings(),
                **package_versions("diffusers", "peft", "accelerate", "torch")}

    # ---- what a method decides ------------------------------------------------------------

    def attach(self, parts: Parts) -> dict[str, Any]:
        """Marks what trains (adding adapters); returns the trained modules by component."""
        raise NotImplementedError

    def save_weights(self, folder: Path, trained: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_tensors(self, trained: dict[str, Any]) -> dict[str, Any] | None:
        """Trainable tensors the resume state must hold (None: `restore` reads `model:` files)."""
        return None

    def restore(self, folder: Path, trained: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---- the run ----------------------------------------------------------------------------

    def train(self, request: TrainRequest) -> TrainResult:
        from engine.locks import remove_scratch, work_folder_alone

        base, out = Path(request.base), Path(request.out)
        images = [Path(p) for p in request.images]
        if not images:
            raise BackendError(BACKEND, f"{request.character} has no reference images")
        parts = load_parts(base)
        resolution = self.resolution or native_resolution(parts)
        metadata = {"format": METADATA_FORMAT, "character": request.character,
                    "base": {"model": str(base), "fingerprint": path_fingerprint(base)},
                    "step": 0, "instance_prompt": request.instance_prompt,
                    "settings": {**self.settings(), "resolution": resolution},
                    "images": image_hashes(images),
                    "versions": package_versions("diffusers", "peft", "accelerate", "torch")}
        out.mkdir(parents=True, exist_ok=True)
        with work_folder_alone(out) as alone:
            if not alone:
                raise BackendError(BACKEND, f"another `storyreel train` is writing to {out}",
                                   hint="wait for it to finish, or give --out another folder")
            remove_scratch(out)
            return self._run(request, parts, pixel_batch(images, resolution), metadata, out)

    def _compatible(self, checkpoint: Path, metadata: dict[str, Any]) -> None:
        """Refuses to continue a run of other settings, images, prompt or base."""
        before = saved.read_metadata(checkpoint) or {}
        free = RUN_ONLY if self.lr_scheduler in STEP_FREE_SCHEDULES else RUN_ONLY[1:]
        for key in ("base", "instance_prompt", "images", "settings"):
            old, new = before.get(key), metadata[key]
            if key == "settings" and isinstance(old, dict):
                old = {k: v for k, v in old.items() if k not in free}
                new = {k: v for k, v in new.items() if k not in free}
            if old != new:
                what = key if key != "settings" else ", ".join(
                    k for k in new if old.get(k) != new[k]) or key  # type: ignore[union-attr]
                raise BackendError(BACKEND, f"{checkpoint.parent} holds a run with another "
                                   f"{what} ({checkpoint.name})", hint="give --out another "
                                   "folder, or remove its checkpoints to start over")

    def _run(self, request: TrainRequest, parts: Parts, pixels: Any,
             metadata: dict[str, Any], out: Path) -> TrainResult:
        import torch
        from accelerate import Accelerator
        from diffusers.optimization import get_scheduler

        accelerator = Accelerator(mixed_precision=self.mixed_precision, cpu=self.device == "cpu")
        device, dtype = accelerator.device, getattr(torch, PRECISIONS[self.mixed_precision])
        torch.manual_seed(self.seed)  # adapters' initial weights
        trained = self.attach(parts)
        for part in (parts.vae, parts.text_encoder, parts.unet):
            full_precision = part in trained.values() and self.method != "lora"
            part.to(device)
            if dtype != torch.float32 and not full_precision:
                part.to(dtype=dtype)
        if self.mixed_precision != "no":
            from diffusers.training_utils import cast_training_params

            cast_training_params(list(trained.values()), dtype=torch.float32)
        if self.gradient_checkpointing:
            parts.unet.enable_gradient_checkpointing()
            if "text_encoder" in trained:
                parts.text_encoder.gradient_checkpointing_enable()
        batch = self._inputs(parts, pixels, request.instance_prompt, "text_encoder" in trained,
                             device, dtype)
        params = [p for module in trained.values() for p in module.parameters() if p.requires_grad]
        optimizer = self._optimizer(params)
        schedule = get_scheduler(self.lr_scheduler, optimizer, num_warmup_steps=self.lr_warmup_steps,
                                 num_training_steps=self.steps)
        *_, optimizer, schedule = accelerator.prepare(*trained.values(), optimizer, schedule)
        generator = torch.Generator().manual_seed(self.seed)
        start = 0
        checkpoint = saved.resumable(out)
        if checkpoint is not None:
            self._compatible(checkpoint, metadata)
            self.restore(checkpoint, trained)
            start = saved.load_state(checkpoint, optimizer, schedule, generator)
        loop = Loop(self, accelerator, parts, trained, batch, params, optimizer, schedule,
                    generator, metadata, out)
        loop.run(start, request)
        every = saved.checkpoints(out)
        return TrainResult(str(every[-1]), tuple(str(p) for p in every), resumed_from=start)

    def _inputs(self, parts: Parts, pixels: Any, prompt: str, text_trained: bool, device: Any,
                dtype: Any) -> dict[str, Any]:
        """The images' latent distributions (encoded once) and the prompt's tokens (and, with
        the text encoder frozen, its hidden states, computed once)."""
        import torch

        with torch.no_grad():
            latent = parts.vae.encode(pixels.to(device, dtype)).latent_dist
            ids = parts.tokenizer(prompt, padding="max_length", truncation=True,
                                  max_length=parts.tokenizer.model_max_length,
                                  return_tensors="pt").input_ids.to(device)
            hidden = None if text_trained else parts.text_encoder(ids)[0]
        return {"mean": latent.mean.float().cpu(), "std": latent.std.float().cpu(), "ids": ids,
                "hidden": hidden}

    def _optimizer(self, params: list[Any]) -> Any:
        import torch

        if self.optimizer == "adamw8bit":
            import bitsandbytes

            kind = bitsandbytes.optim.AdamW8bit
        else:
            kind = torch.optim.AdamW
        return kind(params, lr=self.learning_rate, betas=(0.9, 0.999), weight_decay=1e-2,
                    eps=1e-8)


@dataclass
class Loop:
    """One run of the loop from a step: each step's noise from one seeded generator (saved in
    every checkpoint), so a continued run draws exactly what an unbroken one would."""

    trainer: DreamBooth
    accelerator: Any
    parts: Parts
    trained: dict[str, Any]
    batch: dict[str, Any]
    params: list[Any]
    optimizer: Any
    schedule: Any
    generator: Any
    metadata: dict[str, Any]
    out: Path

    def run(self, start: int, request: TrainRequest) -> None:
        trainer = self.trainer
        with ctrl_c_saves() as stop:
            for step in range(start + 1, trainer.steps + 1):
                loss = self.step()
                written = None
                if step % trainer.checkpoint_every == 0 or step == trainer.steps:
                    written = self.save(step)
                if request.on_step is not None:
                    request.on_step(StepReport(step, trainer.steps, loss,
                                               str(written) if written else None))
                if stop.requested:
                    written = written or self.save(step)
                    raise Interrupted(str(written), step)

    def step(self) -> float:
        import torch
        import torch.nn.functional as F

        unet, noise_scheduler = self.parts.unet, self.parts.noise_scheduler
        device, batch = self.accelerator.device, self.trainer.batch
        mean, std = self.batch["mean"], self.batch["std"]
        chosen = torch.randint(len(mean), (batch,), generator=self.generator)
        sample = mean[chosen] + std[chosen] * torch.randn(mean[chosen].shape,
                                                          generator=self.generator)
        latents = (sample * self.parts.vae.config.scaling_factor).to(device)
        noise = torch.randn(latents.shape, generator=self.generator).to(device)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (batch,),
                                  generator=self.generator).to(device)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        with self.accelerator.autocast():
            hidden = self.batch["hidden"]
            if hidden is None:
                hidden = self.parts.text_encoder(self.batch["ids"])[0]
            prediction = unet(noisy.to(unet.dtype), timesteps,
                              hidden.expand(batch, -1, -1).to(unet.dtype)).sample
        if noise_scheduler.config.prediction_type == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        loss = F.mse_loss(prediction.float(), target.float())
        self.accelerator.backward(loss)
        if self.accelerator.sync_gradients:
            self.accelerator.clip_grad_norm_(self.params, self.trainer.max_grad_norm)
        self.optimizer.step()
        self.schedule.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def save(self, step: int) -> Path:
        trainer = self.trainer
        with saved.writing(self.out, step) as folder:
            trained = {name: self.accelerator.unwrap_model(module)
                       for name, module in self.trained.items()}
            trainer.save_weights(folder, trained)
            saved.write_metadata(folder, {**self.metadata, "step": step})
            saved.save_state(folder, self.optimizer, self.schedule, self.generator, step,
                             trainer.state_tensors(trained))
        final = self.out / saved.name_of(step)
        saved.retire(self.out, final, trainer.keep_checkpoints)
        return final
