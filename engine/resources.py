"""The engine's data folders (conf/, grammar/): inside an installed wheel, or beside a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped(name: str) -> Path:
    """The data folder `name`, as a real directory (Hydra and Lark read it from disk).

    A wheel installs it as `engine/<name>/` (setup.py maps the repository's top-level folder
    there); a source checkout, run with PYTHONPATH or installed editable, keeps it only at the
    top level, beside the `engine/` package.
    """
    package = Path(str(resources.files("engine")))
    inside = package / name
    return (inside if inside.is_dir() else package.parent / name).resolve()
