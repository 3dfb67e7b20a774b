"""One JSON text per value, the same in every process and run: what cache keys are hashes of."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from engine.ir import Span


KEYED_WHEN_SET = {"keyed": "when set"}
"""A dataclass field's metadata: `canonical` leaves the field out while it holds its default."""


def canonical(value: Any) -> Any:
    """A JSON-ready form of `value` that is the same in every process and Python run.

    Dataclasses become dicts of their fields (source spans left out: where a node sits in its file
    never shapes an artifact, and keeping them would make editing one line change every key below
    it; a field marked `KEYED_WHEN_SET` is left out while it holds its default, so a field added
    later keeps the keys of everything made before it); tuples, lists and sets become lists (sets
    sorted); Paths become strings; bytes and numpy arrays become a digest; non-finite floats
    become strings (JSON has no NaN).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, Span):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__,
                **{f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if not isinstance(getattr(value, f.name), Span)
                   and not (f.metadata == KEYED_WHEN_SET
                            and getattr(value, f.name) == f.default)}}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"__bytes__": hashlib.sha256(bytes(value)).hexdigest()}
    if type(value).__module__ == "numpy":
        if hasattr(value, "tobytes") and hasattr(value, "shape"):
            return {"__array__": hashlib.sha256(value.tobytes()).hexdigest(),
                    "dtype": str(value.dtype), "shape": list(value.shape)}
        return canonical(value.item())
    # OmegaConf containers and other mappings/sequences that are not the builtin types
    if hasattr(value, "items") and callable(value.items):
        return {str(k): canonical(v) for k, v in value.items()}
    raise TypeError(f"cannot hash a {type(value).__name__} into a cache key: {value!r}")


def canonical_json(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
