"""`select=clip`: CLIP similarity to the prompt and to the characters' reference images."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.backends.select import SelectRequest, open_rgb
from engine.backends.weights import folder_fingerprint, package_versions, require_safetensors
from engine.errors import BackendError, ConfigError, MissingDependency

log = logging.getLogger(__name__)

BACKEND = "select=clip"
INSTALL = "pip install 'storyreel[transformers]' (and torch, as the README's set-up does)"


class ClipSelector:
    """score = text_weight · cos(image, prompt) + reference_weight · mean cos(image, reference)."""

    def __init__(self, model: str, text_weight: float = 1.0, reference_weight: float = 1.0,
                 device: str = "cpu"):
        if text_weight < 0 or reference_weight < 0 or text_weight + reference_weight == 0:
            raise ConfigError("select.text_weight and select.reference_weight must be >= 0, "
                              "and not both 0")
        self.model = Path(model).expanduser()
        self.text_weight, self.reference_weight = float(text_weight), float(reference_weight)
        self.device = device
        self._model: Any = None
        self._processor: Any = None

    def identity(self) -> dict[str, Any]:
        return {"backend": "clip", "model": self.model.name,
                "weights": folder_fingerprint(self.model), "text_weight": self.text_weight,
                "reference_weight": self.reference_weight,
                **package_versions("transformers", "torch")}

    def _load(self) -> tuple[Any, Any]:
        if self._model is not None:
            return self._model, self._processor
        folder = require_safetensors(self.model, BACKEND, "select.model")
        try:
            from transformers import CLIPModel, CLIPProcessor
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "transformers", INSTALL) from None
        try:
            model = CLIPModel.from_pretrained(folder, use_safetensors=True,
                                              local_files_only=True, trust_remote_code=False)
            processor = CLIPProcessor.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as error:
            raise BackendError(BACKEND, f"cannot load CLIP from {folder}: {error}") from None
        self._model, self._processor = model.to(self.device).eval(), processor
        return self._model, self._processor

    def image_embeddings(self, images: list[Any]) -> Any:
        """Unit-length CLIP image embeddings, one row per image."""
        import torch

        model, processor = self._load()
        inputs = processor(images=images, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            return _unit(model.get_image_features(pixel_values=inputs["pixel_values"]))

    def text_embedding(self, text: str) -> Any:
        """The prompt's unit-length CLIP embedding (truncated to the model's context)."""
        import torch

        model, processor = self._load()
        limit = model.config.text_config.max_position_embeddings
        inputs = processor.tokenizer([text], padding=True, truncation=True, max_length=limit,
                                     return_tensors="pt").to(self.device)
        with torch.inference_mode():
            return _unit(model.get_text_features(**inputs))[0]

    def similarities(self, images: list[Any], others: list[Any]) -> list[list[float]]:
        """Cosine similarity of each of `images` (rows) to each of `others` (columns), pictures
        or their files: image–image CLIP, what `tune --checkpoints` tabulates."""
        rows = self.image_embeddings([open_rgb(i) for i in images])
        columns = self.image_embeddings([open_rgb(o) for o in others])
        return [[round(float(v), 6) for v in row] for row in (rows @ columns.T).tolist()]

    def axes(self, request: SelectRequest) -> tuple[tuple[float, float | None], ...]:
        """Per candidate, unweighted: prompt fidelity cos(image, prompt) and identity, the mean
        cos(image, reference) (None without references); what `trainedness: auto` weighs."""
        if not request.candidates:
            return ()
        candidates = self.image_embeddings([open_rgb(c) for c in request.candidates])
        prompt = (candidates @ self.text_embedding(request.prompt)).tolist() \
            if request.prompt.strip() else [0.0] * len(request.candidates)
        identity: list[float | None] = [None] * len(request.candidates)
        if request.references:
            references = self.image_embeddings([open_rgb(r) for r in request.references])
            identity = (candidates @ references.T).mean(dim=1).tolist()
        return tuple((round(float(p), 6), None if i is None else round(float(i), 6))
                     for p, i in zip(prompt, identity))

    def score(self, request: SelectRequest) -> tuple[float, ...]:
        if not request.candidates:
            return ()
        candidates = self.image_embeddings([open_rgb(c) for c in request.candidates])
        total = candidates.new_zeros(candidates.shape[0])
        if request.prompt.strip() and self.text_weight:
            total += self.text_weight * (candidates @ self.text_embedding(request.prompt))
        if request.references and self.reference_weight:
            references = self.image_embeddings([open_rgb(r) for r in request.references])
            total += self.reference_weight * (candidates @ references.T).mean(dim=1)
        scores = tuple(round(float(s), 6) for s in total.tolist())
        log.debug("%s: %s", BACKEND, scores)
        return scores


def _unit(features: Any) -> Any:
    """Projected features (a tensor, or the pooled output of newer transformers), normalised."""
    import torch

    if not isinstance(features, torch.Tensor):
        features = features.pooler_output
    features = features.float()
    return features / features.norm(dim=-1, keepdim=True).clamp_min(1e-12)
