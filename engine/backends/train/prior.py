"""Prior preservation: class images drawn by the base model, kept in the artifact cache."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from engine.backends.train import PictureStore
from engine.backends.weights import package_versions
from engine.errors import ConfigError
from engine.files import write_atomically

SCHEDULER = "DDIM"
"""How the base denoises a class image (part of every class image's key)."""


def class_prompt(instance_prompt: str, configured: str | None) -> str:
    """The configured class prompt, else the instance prompt without its rare token
    (`sks fox` → `fox`)."""
    if configured:
        return configured
    words = instance_prompt.split()
    if len(words) < 2:
        raise ConfigError(f"train.prior_preservation needs a class noun: the token "
                          f"{instance_prompt!r} has none; write `token: {instance_prompt} fox` "
                          "or set train.class_prompt")
    return " ".join(words[1:])


class ClassPainter:
    """The base model drawing class images of one prompt at one size: seed n for the n-th.
    Its identity and `request(n)` key a picture, so any run (any character with the same
    class noun) with the same base, prompt, size and steps finds it in the cache."""

    def __init__(self, parts: Any, prompt: str, resolution: int, steps: int, fingerprint: str,
                 device: str = "cpu"):
        self.parts, self.prompt, self.resolution, self.steps = parts, prompt, resolution, steps
        self.fingerprint, self.device = fingerprint, device
        self._pipe: Any = None

    def identity(self) -> dict[str, Any]:
        return {"backend": "train class images", "base": self.fingerprint,
                "scheduler": SCHEDULER, **package_versions("diffusers", "torch")}

    def request(self, index: int) -> dict[str, Any]:
        return {"prompt": self.prompt, "seed": index, "width": self.resolution,
                "height": self.resolution, "steps": self.steps}

    def draw(self, index: int, path: Path) -> None:
        import torch

        with torch.no_grad():
            picture = self._pipeline()(
                self.prompt, num_inference_steps=self.steps, width=self.resolution,
                height=self.resolution, output_type="pil",
                generator=torch.Generator().manual_seed(index)).images[0]
        data = io.BytesIO()
        picture.save(data, format="PNG")
        write_atomically(path, data.getvalue())

    def _pipeline(self) -> Any:
        """The base's parts as a text-to-image pipeline, made when a picture is first missing."""
        if self._pipe is None:
            from diffusers import DDIMScheduler, StableDiffusionPipeline

            parts = self.parts
            self._pipe = StableDiffusionPipeline(
                vae=parts.vae, text_encoder=parts.text_encoder, tokenizer=parts.tokenizer,
                unet=parts.unet,
                scheduler=DDIMScheduler.from_config(parts.noise_scheduler.config),
                safety_checker=None, feature_extractor=None, requires_safety_checker=False)
            self._pipe.set_progress_bar_config(disable=True)
            self._pipe.to(self.device)
        return self._pipe


def class_images(painter: ClassPainter, count: int, store: PictureStore) -> list[Path]:
    """`count` class images (seeds 0, 1, ...), each drawn only when the store lacks it."""
    return [store(painter.request(index), painter,
                  lambda path, index=index: painter.draw(index, path),
                  f"{painter.prompt} #{index}")
            for index in range(count)]
