"""`safety=diffusers`: diffusers' StableDiffusionSafetyChecker (CLIP concepts), local folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.safety import SafetyVerdict
from engine.backends.weights import folder_fingerprint, package_versions, require_safetensors
from engine.errors import BackendError, ConfigError, MissingDependency

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

BACKEND = "safety=diffusers"
INSTALL = "pip install 'storyreel[diffusers]' (and torch, as the README's set-up does)"


def checker_folders(model: Path) -> tuple[Path, Path]:
    """The checker's weights and its image processor: a `safety_checker/` folder holding both,
    or one beside `feature_extractor/` (as in a Stable Diffusion repository), or that root."""
    if (model / "safety_checker").is_dir():
        model = model / "safety_checker"
    processor = model
    if not (model / "preprocessor_config.json").is_file():
        processor = model.parent / "feature_extractor"
    if not (processor / "preprocessor_config.json").is_file():
        raise BackendError(BACKEND, f"no preprocessor_config.json in {model} or {processor}",
                           hint="safety.model is the safety_checker folder of a Stable "
                           "Diffusion repository (with feature_extractor/ beside it)")
    return model, processor


class DiffusersSafetyChecker:
    """Flags a picture whose CLIP embedding is near one of the checker's concept embeddings."""

    def __init__(self, model: str, device: str = "cpu", redraws: int = 2):
        if redraws < 0:
            raise ConfigError("safety.redraws must be >= 0")
        self.model = Path(model).expanduser()
        self.redraws = int(redraws)
        self.device = device
        self._checker: Any = None
        self._processor: Any = None

    def identity(self) -> dict[str, Any]:
        return {"backend": "diffusers", "model": self.model.name,
                "weights": folder_fingerprint(self.model),
                **package_versions("diffusers", "transformers", "torch")}

    def _load(self) -> tuple[Any, Any]:
        if self._checker is not None:
            return self._checker, self._processor
        if not self.model.is_dir():
            require_safetensors(self.model, BACKEND, "safety.model")  # says what is wrong
        weights, processor_folder = checker_folders(self.model)
        weights = require_safetensors(weights, BACKEND, "safety.model")
        try:
            from diffusers.pipelines.stable_diffusion.safety_checker import (
                StableDiffusionSafetyChecker)
            from transformers import CLIPImageProcessor
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "diffusers", INSTALL) from None
        try:
            checker = StableDiffusionSafetyChecker.from_pretrained(
                weights, use_safetensors=True, local_files_only=True)
            processor = CLIPImageProcessor.from_pretrained(processor_folder,
                                                           local_files_only=True)
        except (OSError, ValueError) as error:
            raise BackendError(BACKEND, f"cannot load the safety checker in {weights}: "
                               f"{error}") from None
        self._checker, self._processor = checker.to(self.device).eval(), processor
        return self._checker, self._processor

    def check(self, image: Image) -> SafetyVerdict:
        import numpy as np
        import torch

        checker, processor = self._load()
        rgb = image.convert("RGB")
        clip_input = processor(images=rgb, return_tensors="pt").pixel_values.to(self.device)
        pixels = np.asarray(rgb, dtype=np.float32)[None] / 255.0
        with torch.inference_mode():
            _, flagged = checker(images=pixels, clip_input=clip_input)
        if flagged[0]:
            log.info("%s: a picture was flagged", BACKEND)
            return SafetyVerdict(True, "the safety checker found an unsafe concept")
        return SafetyVerdict(False)
