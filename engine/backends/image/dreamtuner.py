"""DreamTuner trainedness: W = W_base + Σ αᵢ·Δᵢ set in place from resident deltas, exact at 0/1."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.train import METADATA, METADATA_FORMAT
from engine.backends.weights import PICKLED, files_fingerprint, folder_fingerprint
from engine.files import replacing
from engine.backends.weights import refuse_pickle as _refuse
from engine.errors import BackendError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

BACKEND = "image=diffusers"
FORMAT = "storyreel-delta-1"
LORA_FILES = ("pytorch_lora_weights.safetensors", "adapter_model.safetensors")
WEIGHT_COMPONENTS = ("unet", "transformer", "text_encoder", "text_encoder_2", "text_encoder_3")
"""Pipeline parts a personalised model may fine-tune (a whole pipeline folder has the rest too:
parts identical to the base give an all-zero delta and cost nothing)."""


def refuse_pickle(path: Path, what: str) -> BackendError:
    return _refuse(BACKEND, path, what)


def safetensors_in(folder: Path) -> list[Path]:
    """A component folder's weights: the plain files, else a variant (`*.fp16.safetensors`)."""
    files = sorted(folder.glob("*.safetensors"))
    plain = [f for f in files if "." not in f.stem]
    chosen = plain or files
    if not chosen:
        pickled = sorted(p for p in folder.iterdir() if p.suffix in PICKLED)
        if pickled:
            raise refuse_pickle(pickled[0], "")
    return chosen


def is_lora(model: Path) -> bool:
    """A LoRA is one .safetensors file, or a folder holding one beside no `unet/`."""
    if model.is_file():
        if model.suffix in PICKLED:
            raise refuse_pickle(model, " (a personalised model)")
        if model.suffix != ".safetensors":
            raise BackendError(BACKEND, f"{model} is neither a .safetensors LoRA nor a folder",
                               hint="a character's `model:` is a diffusers folder with a "
                               "fine-tuned unet/, or a LoRA .safetensors file")
        return True
    if not model.is_dir():
        raise BackendError(BACKEND, f"no personalised model at {model}",
                           hint="check the character's `model:` path")
    return any((model / name).is_file() for name in LORA_FILES)


def lora_file(model: Path) -> Path:
    if model.is_file():
        return model
    return next(model / name for name in LORA_FILES if (model / name).is_file())


def fine_tuned_files(model: Path, components: Iterable[str]) -> dict[str, list[Path]]:
    """Which safetensors files hold each fine-tuned component of a personalised model folder."""
    found: dict[str, list[Path]] = {}
    for component in components:
        folder = model / component
        if folder.is_dir():
            files = safetensors_in(folder)
            if files:
                found[component] = files
    if not found and (model / "config.json").is_file():  # a bare unet/ folder given directly
        files = safetensors_in(model)
        if files:
            found["unet" if "unet" in components else next(iter(components))] = files
    if not found:
        raise BackendError(BACKEND, f"{model} holds no fine-tuned weights",
                           hint="expected a diffusers folder with unet/ (and optionally "
                           "text_encoder/) as *.safetensors, or a LoRA .safetensors file")
    return found


def refuse_other_base(model: Path, base_fingerprint: str | None) -> None:
    """A model `storyreel train` made names its base (`train.json` beside it): on any other
    base its Δ means nothing, so it is refused."""
    folder = model if model.is_dir() else model.parent
    try:
        record = json.loads((folder / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(record, dict) or record.get("format") != METADATA_FORMAT:
        return
    trained_on = record.get("base") or {}
    if base_fingerprint and trained_on.get("fingerprint") not in (None, base_fingerprint):
        raise BackendError(BACKEND, f"{model} was trained on another base model "
                           f"({trained_on.get('model')}), not on this image.model",
                           hint="set image.model to the base it was trained on, or train it "
                           "again on this one: storyreel train STORY CHARACTER")


def _bits(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor's raw bits as integers (-0.0 and NaN payloads compare as they are stored)."""
    import torch

    width = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
    return tensor.view(width[tensor.element_size()])


@dataclass
class Delta:
    """One personalised model: Δ per parameter, and where base + 1·Δ rounds away from W_ft,
    the flat indices and exact fine-tuned values that make α = 1 bit-exact."""

    model: str
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    fixes: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    def nbytes(self) -> int:
        total = sum(t.numel() * t.element_size() for t in self.tensors.values())
        return total + sum(i.numel() * 8 + v.numel() * v.element_size()
                           for i, v in self.fixes.values())


class DreamTuner:
    """Keeps the base weights and each model's Δ resident; `apply` sets one α-set in place."""

    def __init__(self, modules: Mapping[str, Any], base_id: str, cache_dir: Path | None = None):
        self.modules = dict(modules)
        self.base_id = base_id
        self.cache_dir = cache_dir
        self.deltas: dict[str, Delta] = {}
        self._params: dict[str, torch.nn.Parameter] = {}
        self._base: dict[str, torch.Tensor] = {}
        self._dirty: set[str] = set()
        self._state: frozenset[tuple[str, float]] = frozenset()
        self.switches = 0

    @property
    def state(self) -> dict[str, float]:
        """The α-set the weights hold now (models at α = 0 are absent)."""
        return dict(self._state)

    def parameters(self) -> dict[str, torch.nn.Parameter]:
        """`component.name` → parameter; LoRA wrappers' `base_layer` is seen through."""
        params = {}
        for component, module in self.modules.items():
            for name, param in module.named_parameters():
                if "lora_" in name:
                    continue
                params[f"{component}.{name.replace('.base_layer.', '.')}"] = param
        return params

    def add(self, model: Path) -> Delta:
        """Compute (or load from the cache) a model's Δ once; later calls return it."""
        key = str(model)
        if key in self.deltas:
            return self.deltas[key]
        base = self.base_id.partition(":")[0]
        refuse_other_base(model, None if base == "None" else base)
        files = fine_tuned_files(model, [c for c in WEIGHT_COMPONENTS if c in self.modules])
        params = self.parameters()
        cache = self._cache_path(files)
        delta = self._load_cached(cache, key, params) if cache else None
        if delta is None:
            delta = self._compute(key, files, params)
            if cache:
                self._save(cache, delta)
        for name in delta.tensors:
            self._params[name] = params[name]
            self._snapshot(name, params[name])
        self.deltas[key] = delta
        log.info("%s: %s: Δ over %d tensors, %.1f MiB resident, %d rounding fixes", BACKEND,
                 model.name, len(delta.tensors), delta.nbytes() / 2**20,
                 sum(i.numel() for i, _ in delta.fixes.values()))
        return delta

    def _snapshot(self, name: str, param: torch.nn.Parameter) -> None:
        # Only touched parameters are ever changed, so one not yet snapshotted still holds base.
        if name not in self._base:
            self._base[name] = param.detach().clone()

    def _base_of(self, name: str, param: torch.nn.Parameter) -> torch.Tensor:
        return self._base[name] if name in self._base else param.detach()

    def _compute(self, key: str, files: dict[str, list[Path]],
                 params: dict[str, torch.nn.Parameter]) -> Delta:
        from safetensors import safe_open

        delta = Delta(key)
        matched = 0
        for component, paths in files.items():
            buffers = {n for n, _ in self.modules[component].named_buffers()}
            for path in paths:
                with safe_open(str(path), framework="pt", device="cpu") as weights:
                    for tensor_name in weights.keys():
                        name = f"{component}.{tensor_name}"
                        param = params.get(name)
                        if param is None:
                            if tensor_name not in buffers:
                                log.warning("%s: %s: %s matches no parameter of the base "
                                            "pipeline; ignored", BACKEND, path, tensor_name)
                            continue
                        matched += 1
                        self._difference(delta, name, param, weights.get_tensor(tensor_name))
        if not matched:
            raise BackendError(BACKEND, f"{key}: no tensor matches the base pipeline's "
                               "parameters", hint="was it fine-tuned from this image.model?")
        return delta

    def _difference(self, delta: Delta, name: str, param: torch.nn.Parameter,
                    fine_tuned: torch.Tensor) -> None:
        import torch

        if tuple(fine_tuned.shape) != tuple(param.shape):
            raise BackendError(BACKEND, f"{delta.model}: {name} has shape "
                               f"{tuple(fine_tuned.shape)}, the base {tuple(param.shape)}",
                               hint="a personalised model must be fine-tuned from image.model")
        with torch.no_grad():
            base = self._base_of(name, param)
            target = fine_tuned.to(device=base.device, dtype=base.dtype)
            if base.element_size() >= 4:
                difference = torch.sub(target, base)
            else:  # half precision: subtract in float32, round once
                difference = (target.float() - base.float()).to(base.dtype)
            rebuilt = torch.add(base, difference, alpha=1.0)  # exactly what apply does at α=1
            wrong = (_bits(rebuilt) != _bits(target)).view(-1).nonzero().squeeze(1)
            if not difference.any() and wrong.numel() == 0:
                return  # untouched by the fine-tune: costs no memory and no time
            delta.tensors[name] = difference
            if wrong.numel():
                delta.fixes[name] = (wrong, target.view(-1)[wrong].clone())

    def _cache_path(self, files: dict[str, list[Path]]) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{FORMAT}\n{self.base_id}\n".encode())
        for component in sorted(files):
            digest.update(f"{component}:{files_fingerprint(files[component])}\n".encode())
        return self.cache_dir / f"{digest.hexdigest()[:40]}.safetensors"

    def _load_cached(self, path: Path, key: str,
                     params: dict[str, torch.nn.Parameter]) -> Delta | None:
        if not path.is_file():
            return None
        from safetensors import safe_open

        delta = Delta(key)
        try:
            with safe_open(str(path), framework="pt", device="cpu") as stored:
                if (stored.metadata() or {}).get("format") != FORMAT:
                    return None
                for tensor_name in stored.keys():
                    kind, name = tensor_name.split("/", 1)
                    param = params[name]
                    if kind == "delta":
                        value = stored.get_tensor(tensor_name)
                        if tuple(value.shape) != tuple(param.shape) or value.dtype != param.dtype:
                            return None
                        delta.tensors[name] = value.to(param.device)
                    elif kind == "fix_index":
                        values = stored.get_tensor(f"fix_value/{name}").to(param.device)
                        delta.fixes[name] = (stored.get_tensor(tensor_name).to(param.device),
                                             values)
        except (OSError, KeyError, ValueError) as error:
            log.warning("%s: ignoring the unreadable delta cache %s (%s)", BACKEND, path, error)
            return None
        log.debug("%s: Δ of %s from %s", BACKEND, key, path)
        return delta

    def _save(self, path: Path, delta: Delta) -> None:

        from safetensors.torch import save_file

        tensors = {f"delta/{n}": t.contiguous().cpu() for n, t in delta.tensors.items()}
        for name, (index, values) in delta.fixes.items():
            tensors[f"fix_index/{name}"] = index.cpu()
            tensors[f"fix_value/{name}"] = values.cpu()
        with replacing(path) as temporary:  # a sharing process sees all of it or nothing
            save_file(tensors, str(temporary), metadata={"format": FORMAT, "model": delta.model})

    def apply(self, alphas: Mapping[str, float]) -> bool:
        """Set W = W_base + Σ αᵢ·Δᵢ in place (models must be `add`ed); False when already set."""
        import torch

        wanted = {key: float(alpha) for key, alpha in alphas.items() if float(alpha) != 0.0}
        for key in wanted:
            if key not in self.deltas:
                raise KeyError(f"no delta for {key}: add() it first")
        state = frozenset(wanted.items())
        if state == self._state:
            return False
        order = sorted(wanted)  # a fixed order of terms: the same α-set gives the same bits
        touched = {n for key in order for n in self.deltas[key].tensors}
        exact = order[0] if len(order) == 1 and wanted[order[0]] == 1.0 else None
        with torch.no_grad():
            for name in touched | self._dirty:
                target = self._params[name].data
                base = self._base[name]
                terms = [(wanted[k], self.deltas[k].tensors[name]) for k in order
                         if name in self.deltas[k].tensors]
                if not terms:
                    target.copy_(base)
                    continue
                alpha, first = terms[0]
                torch.add(base, first, alpha=alpha, out=target)
                for alpha, more in terms[1:]:
                    target.add_(more, alpha=alpha)
                if exact is not None and name in self.deltas[exact].fixes:
                    index, values = self.deltas[exact].fixes[name]
                    target.view(-1)[index] = values
        self._dirty = touched
        self._state = state
        self.switches += 1
        return True


class LoraScales:
    """LoRA characters: one peft adapter each, scaled by its α with `set_adapters`."""

    def __init__(self, pipeline: Any):
        self.pipeline = pipeline
        self.adapters: dict[str, str] = {}
        self._state: frozenset[tuple[str, float]] = frozenset()

    def add(self, model: Path) -> str:
        key = str(model)
        if key in self.adapters:
            return self.adapters[key]
        name = "char_" + hashlib.sha256(key.encode()).hexdigest()[:12]
        file = lora_file(model)
        refuse_other_base(model, folder_fingerprint(Path(self.pipeline.name_or_path))
                          if (file.parent / METADATA).is_file() else None)
        try:
            self.pipeline.load_lora_weights(str(file.parent), weight_name=file.name,
                                            adapter_name=name, local_files_only=True)
        except ImportError as error:
            from engine.errors import MissingDependency

            raise MissingDependency(BACKEND, error.name or "peft",
                                    "pip install 'storyreel[diffusers]'") from None
        except (ValueError, KeyError, RuntimeError, OSError) as error:
            raise BackendError(BACKEND, f"cannot load {file} as a LoRA of image.model: {error}",
                               hint="a full fine-tune is a diffusers folder with unet/; a "
                               "single-file checkpoint must be converted with from_single_file "
                               "and save_pretrained") from None
        self.adapters[key] = name
        self._state = frozenset({("", 0.0)})  # loading activates the adapter: state unknown
        return name

    def apply(self, alphas: Mapping[str, float]) -> bool:
        wanted = {key: float(a) for key, a in alphas.items() if float(a) != 0.0}
        state = frozenset(wanted.items())
        if state == self._state or not self.adapters:
            return False
        if wanted:
            names = [self.adapters[key] for key in sorted(wanted)]
            self.pipeline.enable_lora()
            self.pipeline.set_adapters(names, adapter_weights=[wanted[k] for k in sorted(wanted)])
        else:
            self.pipeline.disable_lora()
        self._state = state
        return True
