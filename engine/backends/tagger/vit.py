"""`tagger=vit`: a ViT multi-label image classifier (a WD 1.4 style tagger) with a threshold."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.backends.tagger import TagRequest
from engine.backends.weights import folder_fingerprint, package_versions, require_safetensors
from engine.errors import BackendError, ConfigError, MissingDependency

log = logging.getLogger(__name__)

BACKEND = "tagger=vit"
INSTALL = "pip install 'storyreel[transformers]' (and torch, as the README's set-up does)"


class ViTTagger:
    """sigmoid(logits) ≥ threshold → the labels of `id2label`, most confident first."""

    def __init__(self, model: str, threshold: float = 0.35, max_tags: int = 20,
                 exclude: list[str] | tuple[str, ...] = (), underscores: bool = False,
                 device: str = "cpu"):
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"tagger.threshold must lie between 0 and 1, not {threshold}")
        if max_tags < 1:
            raise ConfigError("tagger.max_tags must be >= 1")
        self.model = Path(model).expanduser()
        self.threshold, self.max_tags = float(threshold), int(max_tags)
        self.exclude = tuple(exclude)
        self.underscores, self.device = underscores, device
        self._model: Any = None
        self._processor: Any = None

    def identity(self) -> dict[str, Any]:
        return {"backend": "vit", "model": self.model.name,
                "weights": folder_fingerprint(self.model), "threshold": self.threshold,
                "max_tags": self.max_tags, "exclude": list(self.exclude),
                "underscores": self.underscores, **package_versions("transformers", "torch")}

    def _load(self) -> tuple[Any, Any]:
        if self._model is not None:
            return self._model, self._processor
        folder = require_safetensors(self.model, BACKEND, "tagger.model")
        try:
            from transformers import AutoImageProcessor, ViTForImageClassification
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "transformers", INSTALL) from None
        try:
            model = ViTForImageClassification.from_pretrained(
                folder, use_safetensors=True, local_files_only=True, trust_remote_code=False)
            processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as error:
            raise BackendError(BACKEND, f"cannot load the tagger in {folder}: {error}") from None
        if model.config.problem_type not in (None, "multi_label_classification"):
            log.warning("%s: %s was trained for %s; tags assume independent sigmoid labels",
                        BACKEND, folder.name, model.config.problem_type)
        self._model, self._processor = model.to(self.device).eval(), processor
        return self._model, self._processor

    def tag(self, request: TagRequest) -> tuple[str, ...]:
        import torch
        from PIL import Image

        model, processor = self._load()
        threshold = self.threshold if request.threshold is None else float(request.threshold)
        try:
            with Image.open(request.image) as opened:
                rgba = opened.convert("RGBA")
        except OSError as error:
            raise BackendError(BACKEND, f"cannot read the reference image {request.image}: "
                               f"{error}") from None
        # Taggers are trained on pictures on white: transparency becomes white, not black.
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
        inputs = processor(images=image, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            probabilities = torch.sigmoid(model(**inputs).logits[0].float())
        ranked = sorted(((float(p), i) for i, p in enumerate(probabilities.tolist())
                         if p >= threshold), key=lambda pair: (-pair[0], pair[1]))
        tags: list[str] = []
        for _, index in ranked:
            label = str(model.config.id2label[index])
            if label in self.exclude:
                continue
            tag = label if self.underscores else label.replace("_", " ")
            if tag not in tags:
                tags.append(tag)
            if len(tags) == self.max_tags:
                break
        log.debug("%s: %s -> %s", BACKEND, request.image.name, tags)
        return tuple(tags)
