"""Design sheets steering a diffusers pipeline: an IP-Adapter, or image-to-image from them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.image import CharacterLook
from engine.backends.weights import PICKLED, files_fingerprint, folder_fingerprint
from engine.errors import BackendError, ConfigError
from engine.ir import images_at

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

BACKEND = "image=diffusers"
REFERENCE_MODES = ("ip_adapter", "img2img")
IP_ADAPTER_HINT = ("image.ip_adapter is the adapter's .safetensors file, e.g. h94/IP-Adapter's "
                   "models/ip-adapter_sd15.safetensors, with its image_encoder/ folder beside it")


def references_of(looks: Sequence[CharacterLook]) -> list[tuple[CharacterLook, Image]]:
    """The present characters whose `reference:` image exists, with that image (RGB); a
    folder of references steers with its first image."""
    from PIL import Image as PILImage

    found = []
    for look in looks:
        if not look.reference:
            continue
        images = images_at(Path(look.reference))
        if not images:
            log.warning("%s: %s's reference %s does not exist; drawn without it", BACKEND,
                        look.name, look.reference)
            continue
        with PILImage.open(images[0]) as image:
            found.append((look, image.convert("RGB")))
    return found


def steering(references: Sequence[tuple[CharacterLook, Image]], strength: float) -> float:
    """How strongly a scene's references steer it: `strength` times the mean trainedness of the
    characters they show (the scene's `trainedness` sets it as it sets a personalised model's)."""
    if not references:
        return 0.0
    return strength * sum(look.trainedness for look, _ in references) / len(references)


def side_by_side(images: Sequence[Image], size: tuple[int, int]) -> Image:
    """The references in equal columns of a white picture of `size`, each fitted whole."""
    from PIL import Image as PILImage, ImageOps

    width, height = size
    sheet = PILImage.new("RGB", size, "white")
    column = width // len(images)
    for index, image in enumerate(images):
        fitted = ImageOps.contain(image, (column, height), PILImage.Resampling.LANCZOS)
        sheet.paste(fitted, (index * column + (column - fitted.width) // 2,
                             (height - fitted.height) // 2))
    return sheet


class IpAdapter:
    """An IP-Adapter (`*.safetensors`) and its CLIP image encoder, loaded into the pipeline."""

    def __init__(self, weights: str | None, encoder: str | None):
        if not weights:
            raise ConfigError("image.reference_mode=ip_adapter needs image.ip_adapter: "
                              + IP_ADAPTER_HINT)
        self.weights = Path(weights).expanduser()
        self.encoder = (Path(encoder).expanduser() if encoder
                        else self.weights.parent / "image_encoder")

    def identity(self) -> dict[str, Any]:
        present = self.weights.is_file()
        return {"ip_adapter": files_fingerprint([self.weights]) if present else None,
                "ip_adapter_encoder": folder_fingerprint(self.encoder)}

    def _check(self) -> None:
        if self.weights.suffix in PICKLED:
            raise BackendError(BACKEND, f"refusing to load the pickled IP-Adapter {self.weights}"
                               ": unpickling can run arbitrary code", hint="convert it once to "
                               ".safetensors (safetensors.torch.save_file of its two state dicts,"
                               " keys prefixed image_proj. and ip_adapter.)")
        if not self.weights.is_file() or self.weights.suffix != ".safetensors":
            raise BackendError(BACKEND, f"no IP-Adapter file at {self.weights}",
                               hint=IP_ADAPTER_HINT)
        if not any(self.encoder.glob("*.safetensors")):
            raise BackendError(BACKEND, f"no image encoder (*.safetensors) in {self.encoder}",
                               hint="set image.ip_adapter_encoder to the adapter's CLIP image "
                               "encoder folder (h94/IP-Adapter: models/image_encoder)")

    def attach(self, pipe: Any) -> None:
        """Loads the encoder and the adapter into `pipe` (its UNet's cross-attention)."""
        self._check()
        from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

        try:
            encoder = CLIPVisionModelWithProjection.from_pretrained(
                self.encoder, use_safetensors=True, local_files_only=True, dtype=pipe.dtype)
            pipe.register_modules(image_encoder=encoder.to(pipe.device))
            if getattr(pipe, "feature_extractor", None) is None:
                side = encoder.config.image_size
                pipe.register_modules(feature_extractor=CLIPImageProcessor(
                    size={"shortest_edge": side}, crop_size={"height": side, "width": side}))
            pipe.load_ip_adapter(str(self.weights.parent), subfolder="",
                                 weight_name=self.weights.name, image_encoder_folder=None,
                                 local_files_only=True)
        except (AttributeError, OSError, ValueError, KeyError, RuntimeError) as error:
            raise BackendError(BACKEND, f"cannot load the IP-Adapter {self.weights}: {error}",
                               hint="an IP-Adapter made for this base model (SD 1.5 or SDXL)"
                               ) from None

    def options(self, pipe: Any, references: list[tuple[CharacterLook, Image]],
                strength: float) -> dict[str, Any]:
        """The pipeline call's IP-Adapter images at this scene's scale; a scene without
        references is drawn at scale 0 (the adapter then adds nothing)."""
        from PIL import Image as PILImage

        scale = steering(references, strength)
        pipe.set_ip_adapter_scale(scale)
        images = [image for _, image in references] or [PILImage.new("RGB", (64, 64), "white")]
        return {"ip_adapter_image": [images]}


class ImageToImage:
    """The same pipeline's components as an image-to-image pipeline, started from the sheets."""

    def __init__(self) -> None:
        self.pipe: Any = None

    def attach(self, pipe: Any) -> None:
        from diffusers import AutoPipelineForImage2Image

        try:
            self.pipe = AutoPipelineForImage2Image.from_pipe(pipe)
        except ValueError as error:
            raise BackendError(BACKEND, f"{type(pipe).__name__} has no image-to-image form: "
                               f"{error}", hint="use image.reference_mode=ip_adapter or null"
                               ) from None
        self.pipe.set_progress_bar_config(disable=True)

    def options(self, size: tuple[int, int], references: list[tuple[CharacterLook, Image]],
                strength: float) -> dict[str, Any]:
        """The start picture and how much of it is noised away (1: all of it, as when no
        character of the scene has a reference)."""
        if not references:
            return {}
        return {"image": side_by_side([image for _, image in references], size),
                "strength": max(0.0, min(1.0, 1.0 - steering(references, strength)))}
