"""Local model weights: safetensors only (pickles refused unread), fingerprints, versions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from engine.errors import BackendError
from engine.fingerprints import content_sha256

PICKLED = (".bin", ".ckpt", ".pt", ".pth", ".pkl")
CONVERT = ("convert it once, in a trusted environment: load it with its library and call "
           "save_pretrained(folder, safe_serialization=True)")
FINGERPRINTED = (".safetensors", ".json", ".txt", ".model", ".jinja")
"""What shapes a model folder's output: weights, configs, vocabularies, chat templates."""


def refuse_pickle(backend: str, path: Path, what: str = "") -> BackendError:
    return BackendError(backend, f"refusing to load the pickled checkpoint {path}{what}: "
                        "unpickling can run arbitrary code; only safetensors are loaded",
                        hint=CONVERT)


def require_safetensors(folder: Path, backend: str, setting: str) -> Path:
    """A model folder holding `*.safetensors` weights, or a clear error saying what is wrong."""
    folder = folder.expanduser()
    if folder.is_file() and folder.suffix in PICKLED:
        raise refuse_pickle(backend, folder, f" ({setting})")
    if not folder.is_dir():
        raise BackendError(backend, f"no model folder at {folder}",
                           hint=f"set {setting} to a local folder saved with save_pretrained "
                           "(config.json and *.safetensors)")
    if not any(folder.glob("*.safetensors")):
        pickled = sorted(p for p in folder.iterdir() if p.suffix in PICKLED)
        if pickled:
            raise refuse_pickle(backend, pickled[0])
        raise BackendError(backend, f"no *.safetensors weights in {folder}")
    return folder.resolve()


def files_fingerprint(files: Iterable[Path], root: Path | None = None) -> str:
    """Names weights by their bytes: each file's name (relative to `root`, else its own name,
    so a copied or moved folder keeps its fingerprint) and sha256. A file is read once; the
    render's cache remembers its hash by path, size, time and inode (`engine.fingerprints`)."""
    named = sorted((str(path.relative_to(root)) if root is not None else path.name, path)
                   for path in files)
    digest = hashlib.sha256()
    for name, path in named:
        digest.update(f"{name}:{content_sha256(path)}\n".encode())
    return digest.hexdigest()


def folder_fingerprint(folder: Path) -> str | None:
    """A model folder's weights, configs and vocabularies, fingerprinted; None if absent."""
    folder = folder.expanduser()
    if not folder.is_dir():
        return None
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in FINGERPRINTED]
    return files_fingerprint(files, folder)[:32]


def path_fingerprint(model: Path) -> str:
    """Weights given as a folder or as one file (a LoRA), by content: retraining in place
    changes it; copying, moving or renaming does not."""
    if model.is_dir():
        return folder_fingerprint(model) or "empty"
    return content_sha256(model)[:32] if model.is_file() else "missing"


def package_version(package: str) -> str | None:
    """An installed distribution's version (part of backend identities), None when missing."""
    import importlib.metadata as metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def package_versions(*packages: str) -> dict[str, str | None]:
    return {package: package_version(package) for package in packages}
