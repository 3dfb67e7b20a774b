"""`image=diffusers`: any diffusers text-to-image pipeline, seeded per scene, with DreamTuner α."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.composition import Composition, cut_to_frame, drawn_height
from engine.backends.image.dreamtuner import (BACKEND, DreamTuner, LoraScales, is_lora,
                                              refuse_pickle)
from engine.backends.image.long_prompts import ChunkedEncoder
from engine.backends.image.pipeline_size import SIZE_MULTIPLE, drawing_size_for
from engine.backends.image.prompts import (fit, join, negative_phrases, scene_phrases,
                                           token_counter, token_limit)
from engine.backends.image.references import (REFERENCE_MODES, ImageToImage, IpAdapter,
                                              references_of, steering)
from engine.backends.weights import PICKLED, folder_fingerprint, package_versions
from engine.errors import BackendError, ConfigError, MissingDependency

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

DTYPES = ("float32", "float16", "bfloat16")
LONG_PROMPTS = ("drop", "chunk")
INSTALL = "pip install 'storyreel[diffusers]' (and torch, as the README's set-up does)"
PROMPT_VERSION = 2  # how prompts are built: a change redraws


def compose_prompt(request: DrawRequest) -> str:
    """The whole prompt, no tokenizer's limit applied: each present character (token, name,
    tags or description), then what happens, then the setting and the style, each once."""
    return join(scene_phrases(request))


@dataclass(frozen=True, slots=True)
class Drawing:
    """What the pipeline is handed for one picture: prompts as sent, their tokens per text
    encoder, what the token limit left out, and the size drawn (before the fit to the frame)."""

    prompt: str
    negative_prompt: str
    tokens: dict[str, int]
    negative_tokens: dict[str, int]
    dropped: tuple[str, ...]
    negative_dropped: tuple[str, ...]
    size: tuple[int, int]
    long_prompts: str

    def as_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "negative_prompt": self.negative_prompt,
                "tokens": self.tokens, "negative_tokens": self.negative_tokens,
                "dropped": list(self.dropped), "negative_dropped": list(self.negative_dropped),
                "size": list(self.size),
                "long_prompts": self.long_prompts}


def check_pipeline_folder(folder: Path) -> None:
    """Refuses a pipeline whose weights are pickled (`*.bin`, `*.ckpt`, ...)."""
    index = folder / "model_index.json"
    if not index.is_file():
        raise BackendError(BACKEND, f"{folder} is not a diffusers pipeline folder (no "
                           "model_index.json)", hint="image.model is a folder saved with "
                           "save_pretrained, e.g. a local copy of a hub repository")
    components = [name for name, value in json.loads(index.read_text()).items()
                  if not name.startswith("_") and isinstance(value, list) and value[0]]
    for name in components:
        part = folder / name
        if not part.is_dir():
            continue
        if any(part.glob("*.safetensors")):
            continue
        pickled = sorted(p for p in part.iterdir() if p.suffix in PICKLED)
        if pickled:
            raise refuse_pickle(pickled[0], "")


class DiffusersIllustrator:
    """Loads the pipeline on first use; a scene's characters set the weights before it draws."""

    def __init__(self, model: str, device: str = "cpu", dtype: str = "float32",
                 scheduler: str | None = None, scheduler_config: dict[str, Any] | None = None,
                 steps: int = 30, guidance: float = 7.5, max_pixels: int | None = None,
                 online: bool = False, delta_cache: str | None = None,
                 long_prompts: str = "drop", negative_prompt: str = "",
                 reference_mode: str | None = None, reference_strength: float = 0.6,
                 ip_adapter: str | None = None, ip_adapter_encoder: str | None = None,
                 caption_headroom: float = 0.2):
        if dtype not in DTYPES:
            raise ConfigError(f"image.dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        if long_prompts not in LONG_PROMPTS:
            raise ConfigError(f"image.long_prompts must be one of {', '.join(LONG_PROMPTS)}, "
                              f"not {long_prompts!r}")
        if max_pixels is not None and int(max_pixels) < SIZE_MULTIPLE ** 2:
            raise ConfigError(f"image.max_pixels must be null or at least {SIZE_MULTIPLE ** 2}")
        if steps < 1 or guidance < 0:
            raise ConfigError("image.steps must be >= 1 and image.guidance >= 0")
        if reference_mode is not None and reference_mode not in REFERENCE_MODES:
            raise ConfigError(f"image.reference_mode must be null or one of "
                              f"{', '.join(REFERENCE_MODES)}, not {reference_mode!r}")
        if not 0 <= float(reference_strength) <= 1:
            raise ConfigError("image.reference_strength must be between 0 and 1")
        if not 0 <= float(caption_headroom) <= 1:
            raise ConfigError("image.caption_headroom must be between 0 and 1")
        self.caption_headroom = float(caption_headroom)
        self._composed: dict[DrawRequest, Composition] = {}
        self.model = str(model)
        self.device, self.dtype = device, dtype
        self.scheduler, self.scheduler_config = scheduler, dict(scheduler_config or {})
        self.steps, self.guidance, self.max_pixels = int(steps), float(guidance), max_pixels
        self.online, self.long_prompts = online, long_prompts
        self.negative_prompt = str(negative_prompt or "").strip()
        cache_home = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
        self.delta_cache = (Path(delta_cache).expanduser() if delta_cache
                            else cache_home / "storyreel" / "deltas")
        self._pipe: Any = None
        self._folder: Path | None = None
        self.tuner: DreamTuner | None = None
        self.loras: LoraScales | None = None
        self._chunked: ChunkedEncoder | None = None
        self.reference_mode, self.reference_strength = reference_mode, float(reference_strength)
        self._adapter = (IpAdapter(ip_adapter, ip_adapter_encoder)
                         if reference_mode == "ip_adapter" else None)
        self._img2img = ImageToImage() if reference_mode == "img2img" else None

    @property
    def reads_references(self) -> bool:
        """Whether the characters' `reference:` images steer the pictures (then their bytes
        are part of each picture's cache key)."""
        return self.reference_mode is not None

    def identity(self) -> dict[str, Any]:
        versions = package_versions("diffusers", "transformers", "torch", "peft")
        # A local folder is named by its content alone: a copy, moved or renamed, keys the same.
        model = None if Path(self.model).expanduser().is_dir() else self.model
        return {"backend": "diffusers", "model": model, "weights": self._fingerprint(),
                "device": self.device, "dtype": self.dtype, "scheduler": self.scheduler,
                "scheduler_config": self.scheduler_config, "steps": self.steps,
                "guidance": self.guidance, "max_pixels": self.max_pixels,
                "long_prompts": self.long_prompts, "prompt_version": PROMPT_VERSION,
                "negative_prompt": self.negative_prompt,
                "caption_headroom": self.caption_headroom, **self._reference_identity(),
                **versions}

    def _reference_identity(self) -> dict[str, Any]:
        if self.reference_mode is None:
            return {}
        adapter = self._adapter.identity() if self._adapter else {}
        return {"reference_mode": self.reference_mode,
                "reference_strength": self.reference_strength, **adapter}

    def _fingerprint(self) -> str | None:
        """The base weights by content: a local folder's, or those of the hub snapshot a hub id
        resolves to (the revision it downloads; its blobs are named by their sha256, so nothing
        is read). Δs and pictures made from one base are never reused on another. None while
        there are no weights to read: drawing then says why."""
        try:
            folder = self._source()
        except BackendError:
            return None
        return folder_fingerprint(folder)

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline (loading it on first use)."""
        return self._load()

    def _source(self) -> Path:
        folder = Path(self.model).expanduser()
        if folder.is_file():
            if folder.suffix in PICKLED:
                raise refuse_pickle(folder, " (image.model)")
            raise BackendError(BACKEND, f"image.model {folder} is a single file", hint="give a "
                               "diffusers folder; convert a single-file checkpoint once with "
                               "from_single_file(...).save_pretrained(folder)")
        if folder.is_dir():
            return folder.resolve()
        if not self.online:
            raise BackendError(BACKEND, f"no pipeline folder at {folder}", hint="set "
                               "image.model to a local diffusers folder, or image.online=true "
                               "to download a hub id such as "
                               "stable-diffusion-v1-5/stable-diffusion-v1-5")
        try:
            from diffusers import DiffusionPipeline

            return Path(DiffusionPipeline.download(self.model, use_safetensors=True))
        except (OSError, ValueError) as error:
            raise BackendError(BACKEND, f"cannot download {self.model}: {error}") from None

    def _load(self) -> Any:
        if self._pipe is not None:
            return self._pipe
        folder = self._source()
        check_pipeline_folder(folder)
        try:
            import torch
            from diffusers import AutoPipelineForText2Image, DiffusionPipeline
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "diffusers", INSTALL) from None
        options: dict[str, Any] = {"torch_dtype": getattr(torch, self.dtype),
                                   "use_safetensors": True, "local_files_only": True}
        if "safety_checker" in json.loads((folder / "model_index.json").read_text()):
            # Safety is the `safety` role's job, applied to every illustrator alike.
            options |= {"safety_checker": None, "requires_safety_checker": False}
        try:
            try:
                pipe = AutoPipelineForText2Image.from_pretrained(folder, **options)
            except ValueError as error:
                if "AutoPipeline" not in str(error):
                    raise
                pipe = DiffusionPipeline.from_pretrained(folder, **options)
        except (OSError, ValueError) as error:
            raise BackendError(BACKEND, f"cannot load the pipeline in {folder}: {error}") from None
        if self.scheduler:
            pipe.scheduler = self._scheduler(pipe.scheduler.config)
        pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        modules = {name: part for name, part in pipe.components.items()
                   if isinstance(part, torch.nn.Module)}
        self.tuner = DreamTuner(modules, base_id=f"{self._fingerprint()}:{self.dtype}",
                                cache_dir=self.delta_cache)
        self.loras = LoraScales(pipe)
        for reference_steering in (self._adapter, self._img2img):
            if reference_steering is not None:
                reference_steering.attach(pipe)
        self._pipe, self._folder = pipe, folder
        log.info("%s: loaded %s (%s, %s, %s)", BACKEND, folder.name, type(pipe).__name__,
                 self.device, self.dtype)
        return pipe

    def _scheduler(self, config: Any) -> Any:
        import diffusers

        cls = getattr(diffusers, str(self.scheduler), None)
        if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin)):
            raise ConfigError(f"image.scheduler {self.scheduler!r} is not a diffusers scheduler "
                              "(e.g. EulerDiscreteScheduler, DPMSolverMultistepScheduler)")
        return cls.from_config(config, **self.scheduler_config)

    def _add(self, path: Path) -> bool:
        """Makes a personalised model resident; True for a LoRA, False for full weights."""
        assert self.tuner is not None and self.loras is not None
        if is_lora(path):
            self.loras.add(path)
            return True
        self.tuner.add(path)
        return False

    def set_trainedness(self, looks: Iterable[CharacterLook]) -> None:
        """Sets the weights for the present characters' α (a no-op when the α-set is current)."""
        self._load()
        assert self.tuner is not None and self.loras is not None
        full: dict[str, float] = {}
        lora: dict[str, float] = {}
        for look in looks:
            if not look.model:
                continue
            path = Path(look.model)
            chosen = lora if self._add(path) else full
            if str(path) in chosen and chosen[str(path)] != look.trainedness:
                log.warning("%s: %s is the model of two characters; using α=%s", BACKEND,
                            path, chosen[str(path)])
                continue
            chosen[str(path)] = float(look.trainedness)
        if self.tuner.apply(full):
            log.debug("%s: weights set for %s", BACKEND, full or "the base model")
        self.loras.apply(lora)

    def describe(self, request: DrawRequest) -> dict[str, Any]:
        """What `draw` hands the pipeline for this request (for the manifest and storyboard)."""
        described = self.drawing(request).as_json()
        composed = self._composed.get(request)
        if composed is not None:
            described["composition"] = composed.as_json()
        if self.reference_mode is not None:
            shown = references_of(request.characters)
            strength = round(steering(shown, self.reference_strength), 4)
            described["reference"] = {"mode": self.reference_mode,
                                      "characters": [look.name for look, _ in shown],
                                      "steering": strength}
        return described

    def drawing(self, request: DrawRequest) -> Drawing:
        """The prompts, fitted to the pipeline's tokenizers, and the size to draw at."""
        pipe = self._load()
        tokenizers = {encoder: getattr(pipe, name) for encoder, name in
                      (("text_encoder", "tokenizer"), ("text_encoder_2", "tokenizer_2"))
                      if getattr(pipe, name, None) is not None}
        count = token_counter(tokenizers)
        limit = None if self.long_prompts == "chunk" else token_limit(tokenizers)
        prompt = fit(scene_phrases(request), count, limit)
        negative = fit(negative_phrases(self.negative_prompt), count, limit)
        if prompt.dropped:
            log.info("%s: scene %s: left out of the prompt to fit %s tokens: %s", BACKEND,
                     request.scene_id, limit, "; ".join(prompt.dropped))
        height = drawn_height(request.height, request.caption_band, self.caption_headroom)
        size = drawing_size_for(pipe, request.width, height, self.max_pixels)
        return Drawing(prompt.text, negative.text, prompt.tokens, negative.tokens,
                       prompt.dropped, negative.dropped, size, self.long_prompts)

    def draw(self, request: DrawRequest) -> Image:
        import torch

        pipe = self._load()
        self.set_trainedness(request.characters)
        drawing = self.drawing(request)
        width, height = drawing.size
        # A CPU generator gives the same starting noise on every device.
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        options: dict[str, Any] = {"num_inference_steps": self.steps,
                                   "guidance_scale": self.guidance, "width": width,
                                   "height": height, "generator": generator,
                                   "output_type": "pil"}
        if self.long_prompts == "chunk":
            if self._chunked is None:
                self._chunked = ChunkedEncoder(pipe)
            options |= self._chunked(drawing.prompt, drawing.negative_prompt)
        else:
            options["prompt"] = drawing.prompt
            if drawing.negative_prompt:
                options["negative_prompt"] = drawing.negative_prompt
        pipe, options = self._steered(pipe, request, options)
        image = pipe(**options).images[0].convert("RGB")
        if image.size == (request.width, request.height):
            return image
        image, composition = cut_to_frame(image, request.width, request.height,
                                          request.caption_band)
        if composition is not None:
            self._composed[request] = composition
        return image

    def _steered(self, pipe: Any, request: DrawRequest, options: dict[str, Any]
                 ) -> tuple[Any, dict[str, Any]]:
        """The pipeline to call and its options, with the scene's references steering them:
        IP-Adapter images at the scene's scale, or the image-to-image pipeline started from
        the references side by side (it draws at their size, so takes no width or height)."""
        if self.reference_mode is None:
            return pipe, options
        references = references_of(request.characters)
        if self._adapter is not None:
            return pipe, options | self._adapter.options(pipe, references,
                                                          self.reference_strength)
        assert self._img2img is not None
        start = self._img2img.options((options["width"], options["height"]), references,
                                      self.reference_strength)
        if not start:
            return pipe, options
        # At least one denoising step: a strength below 1/steps would run none.
        start["strength"] = max(start["strength"], 1.0 / self.steps)
        rest = {k: v for k, v in options.items() if k not in ("width", "height")}
        return self._img2img.pipe, rest | start
