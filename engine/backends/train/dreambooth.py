"""The DreamBooth loop both `train` choices share: diffusers parts, accelerate, exact resume."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.backends.train import METADATA_FORMAT, TrainRequest, TrainResult
from engine.backends.train import checkpoints as saved
from engine.backends.train.images import image_hashes, pixel_batch
from engine.backends.train.loop import Loop
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
    options = {"use_safetensors": True, "local_files_only": True}
    try:
        return Parts(AutoTokenizer.from_pretrained(base / "tokenizer", use_fast=False),
                     CLIPTextModel.from_pretrained(base / "text_encoder", **options),
                     AutoencoderKL.from_pretrained(base / "vae", **options),
                     UNet2DConditionModel.from_pretrained(base / "unet", **options),
                     DDPMScheduler.from_pretrained(base / "scheduler"))
    except (OSError, ValueError) as error:
        raise BackendError(BACKEND, f"cannot load the base pipeline in {base}: {error}") from None


@contextmanager
def library_bars_off() -> Iterator[None]:
    """diffusers' and transformers' own tqdm bars ("Loading weights", "Writing model shards" at
    each full checkpoint) off while training, so only our progress shows; as they were after."""
    try:
        from diffusers.utils import logging as diffusers_logging
        from transformers.utils import logging as transformers_logging
    except ImportError:  # load_parts says what to install
        yield
        return
    libraries = [(library, library.is_progress_bar_enabled())
                 for library in (diffusers_logging, transformers_logging)]
    for library, _ in libraries:
        library.disable_progress_bar()
    try:
        yield
    finally:
        for library, enabled in libraries:
            if enabled:
                library.enable_progress_bar()


def native_resolution(parts: Parts) -> int:
    """The side of the square the base was trained at: the UNet's sample size in pixels."""
    return int(parts.unet.config.sample_size) * 2 ** (len(parts.vae.config.block_out_channels) - 1)


class DreamBooth:
    """A Trainer: the settings every method shares and the loop; a method says which weights
    train (`attach`), how `model:` files are written (`save_weights`) and read back (`restore`)."""

    method = "dreambooth"

    def __init__(self, *, steps: int = 800, checkpoint_every: int = 100,
                 learning_rate: float = 1e-4, batch: int = 1, resolution: int | None = None,
                 seed: int = 0, mixed_precision: str = "no", gradient_checkpointing: bool = False,
                 optimizer: str = "adamw", text_encoder: bool = False,
                 lr_scheduler: str = "constant", lr_warmup_steps: int = 0,
                 max_grad_norm: float = 1.0, keep_checkpoints: int | None = None,
                 device: str = "cpu", prior_preservation: bool = False,
                 class_prompt: str | None = None, class_images: int = 100,
                 class_steps: int = 25, prior_loss_weight: float = 1.0):
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
        if prior_preservation and (class_images < 1 or class_steps < 1):
            raise ConfigError("train.class_images and train.class_steps must be >= 1")
        self.steps, self.checkpoint_every, self.batch = int(steps), int(checkpoint_every), batch
        self.learning_rate, self.resolution, self.seed = float(learning_rate), resolution, seed
        self.mixed_precision, self.optimizer = mixed_precision, optimizer
        self.gradient_checkpointing, self.text_encoder = gradient_checkpointing, text_encoder
        self.lr_scheduler, self.lr_warmup_steps = lr_scheduler, int(lr_warmup_steps)
        self.max_grad_norm, self.keep_checkpoints = float(max_grad_norm), keep_checkpoints
        self.device = device
        self.prior = {"prior_preservation": bool(prior_preservation),
                      "class_prompt": class_prompt, "class_images": int(class_images),
                      "class_steps": int(class_steps),
                      "prior_loss_weight": float(prior_loss_weight)}

    def settings(self) -> dict[str, Any]:
        """Everything that shapes the weights (and, in RUN_ONLY, how a run goes)."""
        return {"method": self.method, "steps": self.steps, "learning_rate": self.learning_rate,
                "batch": self.batch, "resolution": self.resolution, "seed": self.seed,
                "mixed_precision": self.mixed_precision, "optimizer": self.optimizer,
                "gradient_checkpointing": self.gradient_checkpointing,
                "text_encoder": self.text_encoder, "lr_scheduler": self.lr_scheduler,
                "lr_warmup_steps": self.lr_warmup_steps, "max_grad_norm": self.max_grad_norm,
                "checkpoint_every": self.checkpoint_every,
                "keep_checkpoints": self.keep_checkpoints, "device": self.device,
                **(self.prior if self.prior["prior_preservation"] else {})}

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
        base, out = Path(request.base), Path(request.out)
        images = [Path(p) for p in request.images]
        if not images:
            raise BackendError(BACKEND, f"{request.character} has no reference images")
        with library_bars_off():
            return self._train(request, base, out, images)

    def _train(self, request: TrainRequest, base: Path, out: Path,
               images: list[Path]) -> TrainResult:
        from engine.locks import remove_scratch, work_folder_alone

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
            sets = [(pixel_batch(images, resolution), request.instance_prompt, 1.0)]
            if self.prior["prior_preservation"]:
                sets.append(self._class_set(parts, request, resolution, metadata))
            return self._run(request, parts, sets, metadata, out)

    def _class_set(self, parts: Parts, request: TrainRequest, resolution: int,
                   metadata: dict[str, Any]) -> tuple[Any, str, float]:
        """Prior preservation's class images (drawn by the base through the request's picture
        store: once for every run with the same base, prompt, size and steps), prompt and
        weight."""
        from engine.backends.train.prior import ClassPainter, class_images, class_prompt

        if request.pictures is None:
            raise BackendError(BACKEND, "train.prior_preservation keeps its class images in the "
                               "artifact cache; this run was given none")
        prompt = class_prompt(request.instance_prompt, self.prior["class_prompt"])
        metadata["settings"]["class_prompt"] = prompt
        painter = ClassPainter(parts, prompt, resolution, self.prior["class_steps"],
                               metadata["base"]["fingerprint"], self.device)
        paths = class_images(painter, self.prior["class_images"], request.pictures)
        return pixel_batch(paths, resolution), prompt, self.prior["prior_loss_weight"]

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

    def _run(self, request: TrainRequest, parts: Parts, sets: list[tuple[Any, str, float]],
             metadata: dict[str, Any], out: Path) -> TrainResult:
        import torch
        from accelerate import Accelerator
        from diffusers.optimization import get_scheduler

        accelerator = Accelerator(mixed_precision=self.mixed_precision, cpu=self.device == "cpu")
        device, dtype = accelerator.device, getattr(torch, PRECISIONS[self.mixed_precision])
        torch.manual_seed(self.seed)  # adapters' initial weights
        trained = self.attach(parts)
        for module in trained.values():
            module.train()  # dropout and gradient checkpointing act in training mode only
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
        batch = self._inputs(parts, sets, "text_encoder" in trained, device, dtype)
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

    def _inputs(self, parts: Parts, sets: list[tuple[Any, str, float]], text_trained: bool,
                device: Any, dtype: Any) -> dict[str, Any]:
        """Per image set (the references; with prior preservation, the class images too): the
        latent distributions (encoded once), the prompt's tokens (and, with the text encoder
        frozen, its hidden states, computed once) and the loss weight."""
        import torch

        means, stds = [], []
        with torch.no_grad():
            for pixels, _, _ in sets:
                latent = parts.vae.encode(pixels.to(device, dtype)).latent_dist
                means.append(latent.mean.float().cpu())
                stds.append(latent.std.float().cpu())
            ids = parts.tokenizer([prompt for _, prompt, _ in sets], padding="max_length",
                                  truncation=True, max_length=parts.tokenizer.model_max_length,
                                  return_tensors="pt").input_ids.to(device)
            hidden = None if text_trained else parts.text_encoder(ids)[0]
        return {"means": means, "stds": stds, "ids": ids, "hidden": hidden,
                "weights": [weight for _, _, weight in sets]}

    def _optimizer(self, params: list[Any]) -> Any:
        import torch

        if self.optimizer == "adamw8bit":
            import bitsandbytes

            kind = bitsandbytes.optim.AdamW8bit
        else:
            kind = torch.optim.AdamW
        return kind(params, lr=self.learning_rate, betas=(0.9, 0.999), weight_decay=1e-2,
                    eps=1e-8)
