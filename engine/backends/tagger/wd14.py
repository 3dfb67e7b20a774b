"""`tagger=wd14`: the WD 1.4 and v3 taggers as published, model.onnx and selected_tags.csv."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.tagger import TagRequest
from engine.backends.weights import files_fingerprint, package_versions
from engine.errors import BackendError, ConfigError, MissingDependency

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image

log = logging.getLogger(__name__)

BACKEND = "tagger=wd14"
INSTALL = "pip install 'storyreel[wd14]'"
MODEL_FILE, TAGS_FILE = "model.onnx", "selected_tags.csv"
GENERAL, CHARACTER, RATING = 0, 4, 9
"""`selected_tags.csv` categories (Danbooru's): general tags, character names, the ratings."""
EMOTICONS = frozenset({
    "0_0", "(o)_(o)", "+_+", "+_-", "._.", "<o>_<o>", "<|>_<|>", "=_=", ">_<", "3_3", "6_9",
    ">_o", "@_@", "^_^", "o_o", "u_u", "x_x", "|_|", "||_||"})
"""Tags whose underscore is part of the face: they keep it."""
DOWNLOAD = ("download a published tagger's two files, e.g. `hf download SmilingWolf/"
            "wd-vit-tagger-v3 model.onnx selected_tags.csv --local-dir models/wd-vit-tagger-v3`, "
            "and set tagger.model to that folder")


@dataclass(frozen=True, slots=True)
class Label:
    """One row of `selected_tags.csv`: the tag as written into prompts, and its category."""

    tag: str
    category: int


def tag_text(name: str) -> str:
    """Danbooru's `long_hair` as prompts write it, `long hair`; emoticons such as `^_^` kept."""
    return name if name in EMOTICONS else name.replace("_", " ")


def read_labels(path: Path) -> tuple[Label, ...]:
    """The CSV's rows in order (row i is the model's output i)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BackendError(BACKEND, f"cannot read {path}: {error}") from None
    if not rows or not {"name", "category"} <= set(rows[0]):
        raise BackendError(BACKEND, f"{path} is not a tagger's tag list",
                           hint="expected the columns tag_id,name,category,count")
    try:
        return tuple(Label(tag_text(row["name"]), int(row["category"])) for row in rows)
    except (TypeError, ValueError):
        raise BackendError(BACKEND, f"{path}: a category is not a number") from None


def square_on_white(image: Image, size: int) -> np.ndarray:
    """The published taggers' input: transparency on white, padded to a centred square on
    white, resized to `size`² (bicubic), as BGR float32 0-255, shape (size, size, 3)."""
    import numpy as np
    from PIL import Image as PILImage

    rgba = image.convert("RGBA")
    flat = PILImage.alpha_composite(PILImage.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    side = max(flat.size)
    square = PILImage.new("RGB", (side, side), "white")
    square.paste(flat, ((side - flat.width) // 2, (side - flat.height) // 2))
    if side != size:
        square = square.resize((size, size), PILImage.Resampling.BICUBIC)
    return np.asarray(square, dtype=np.float32)[:, :, ::-1].copy()


class WD14Tagger:
    """Per category, probability ≥ its threshold → tags, most confident first."""

    def __init__(self, model: str, general_threshold: float = 0.35,
                 character_threshold: float = 0.85, include_rating: bool = False,
                 max_tags: int = 20, exclude: list[str] | tuple[str, ...] = (),
                 device: str = "cpu"):
        for name, value in (("general_threshold", general_threshold),
                            ("character_threshold", character_threshold)):
            if not 0.0 < value < 1.0:
                raise ConfigError(f"tagger.{name} must lie between 0 and 1, not {value}")
        if max_tags < 1:
            raise ConfigError("tagger.max_tags must be >= 1")
        if device not in ("cpu", "cuda"):
            raise ConfigError(f"tagger.device is cpu or cuda, not {device!r}")
        self.model = Path(model).expanduser()
        self.general_threshold = float(general_threshold)
        self.character_threshold = float(character_threshold)
        self.include_rating, self.max_tags = bool(include_rating), int(max_tags)
        self.exclude = tuple(exclude)
        self.device = device
        self._session: Any = None
        self._labels: tuple[Label, ...] = ()
        self._size = 0

    def files(self) -> tuple[Path, Path]:
        """The folder's model and tag list, or a clear error naming what is missing."""
        if not self.model.is_dir():
            raise BackendError(BACKEND, f"no tagger folder at {self.model}", hint=DOWNLOAD)
        onnx, tags = self.model / MODEL_FILE, self.model / TAGS_FILE
        missing = [p.name for p in (onnx, tags) if not p.is_file()]
        if missing:
            raise BackendError(BACKEND, f"{self.model} lacks {' and '.join(missing)}",
                               hint=DOWNLOAD)
        return onnx, tags

    def identity(self) -> dict[str, Any]:
        try:
            weights: str | None = files_fingerprint(self.files(), self.model)[:32]
        except BackendError:
            weights = None  # tagging will say what is missing
        return {"backend": "wd14", "weights": weights,
                "general_threshold": self.general_threshold,
                "character_threshold": self.character_threshold,
                "include_rating": self.include_rating, "max_tags": self.max_tags,
                "exclude": list(self.exclude), **package_versions("onnxruntime")}

    def _load(self) -> Any:
        if self._session is not None:
            return self._session
        onnx, tags = self.files()
        try:
            import onnxruntime
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "onnxruntime", INSTALL) from None
        providers = ["CPUExecutionProvider"]
        if self.device == "cuda":
            providers.insert(0, "CUDAExecutionProvider")
        try:
            session = onnxruntime.InferenceSession(str(onnx), providers=providers)
        except Exception as error:  # onnxruntime's errors share no public base class
            raise BackendError(BACKEND, f"cannot load {onnx}: {error}") from None
        self._labels = read_labels(tags)
        self._size = self._input_size(session, onnx)
        outputs = session.get_outputs()[0].shape
        if isinstance(outputs[-1], int) and outputs[-1] != len(self._labels):
            raise BackendError(BACKEND, f"{onnx} scores {outputs[-1]} tags, {tags.name} lists "
                               f"{len(self._labels)}", hint="both files must come from the "
                               "same tagger repository")
        self._session = session
        return session

    @staticmethod
    def _input_size(session: Any, onnx: Path) -> int:
        shape = session.get_inputs()[0].shape  # [batch, height, width, 3]
        if len(shape) != 4 or shape[3] != 3 or not isinstance(shape[1], int) \
                or shape[1] != shape[2]:
            raise BackendError(BACKEND, f"{onnx} takes {shape}, not square BGR pictures "
                               "[N, size, size, 3] as the WD taggers do")
        return int(shape[1])

    def probabilities(self, image: Path) -> np.ndarray:
        """The model's probability for every row of the tag list."""
        from PIL import Image as PILImage

        session = self._load()
        try:
            with PILImage.open(image) as opened:
                pixels = square_on_white(opened, self._size)
        except OSError as error:
            raise BackendError(BACKEND, f"cannot read the reference image {image}: "
                               f"{error}") from None
        feed = {session.get_inputs()[0].name: pixels[None]}
        scores = session.run([session.get_outputs()[0].name], feed)[0][0]
        if len(scores) != len(self._labels):
            raise BackendError(BACKEND, f"the model scored {len(scores)} tags, "
                               f"{TAGS_FILE} lists {len(self._labels)}")
        return scores

    def tag(self, request: TagRequest) -> tuple[str, ...]:
        scores = [float(s) for s in self.probabilities(request.image)]
        general = (self.general_threshold if request.threshold is None
                   else float(request.threshold))
        thresholds = {GENERAL: general, CHARACTER: self.character_threshold}
        chosen = [i for i, label in enumerate(self._labels)
                  if label.category in thresholds and scores[i] >= thresholds[label.category]]
        ratings = [i for i, label in enumerate(self._labels) if label.category == RATING]
        if self.include_rating and ratings:
            chosen.append(max(ratings, key=lambda i: (scores[i], -i)))
        tags: list[str] = []
        for index in sorted(chosen, key=lambda i: (-scores[i], i)):
            tag = self._labels[index].tag
            if tag not in self.exclude and tag not in tags:
                tags.append(tag)
            if len(tags) == self.max_tags:
                break
        log.debug("%s: %s -> %s", BACKEND, request.image.name, tags)
        return tuple(tags)
