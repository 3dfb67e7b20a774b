"""Prior preservation: class images drawn by the base model, kept beside the checkpoints."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.files import write_atomically

FOLDER = "class-images"


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


def class_images(parts: Any, prompt: str, count: int, resolution: int, steps: int,
                 fingerprint: str, out: Path, device: str = "cpu") -> list[Path]:
    """`count` pictures of `prompt` by the base model (seeds 0, 1, ...), drawn once: a later
    run with the same base, prompt, size and steps reuses them."""
    key = hashlib.sha256(f"{fingerprint}\n{prompt}\n{resolution}\n{steps}".encode())
    folder = out / FOLDER / key.hexdigest()[:16]
    paths = [folder / f"{index:04d}.png" for index in range(count)]
    missing = [(index, path) for index, path in enumerate(paths) if not path.is_file()]
    if not missing:
        return paths
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        vae=parts.vae, text_encoder=parts.text_encoder, tokenizer=parts.tokenizer,
        unet=parts.unet, scheduler=DDIMScheduler.from_config(parts.noise_scheduler.config),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    pipe.to(device)
    for index, path in missing:
        with torch.no_grad():
            picture = pipe(prompt, num_inference_steps=steps, width=resolution,
                           height=resolution, output_type="pil",
                           generator=torch.Generator().manual_seed(index)).images[0]
        data = io.BytesIO()
        picture.save(data, format="PNG")
        write_atomically(path, data.getvalue())
    return paths
