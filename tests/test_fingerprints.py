"""Model files by content: read once, remembered in the cache, the same for a copied folder."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from engine import fingerprints
from engine.backends.weights import folder_fingerprint, path_fingerprint
from engine.fingerprints import FingerprintIndex, content_sha256, remembered_in


@pytest.fixture()
def reads(monkeypatch) -> list[Path]:
    """Every file whose bytes the fingerprints read."""
    seen: list[Path] = []
    real = fingerprints.file_sha256

    def counted(path: Path) -> str:
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(fingerprints, "file_sha256", counted)
    return seen


def model(folder: Path, weights: bytes = b"weights of a small model") -> Path:
    (folder / "unet").mkdir(parents=True)
    (folder / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(weights)
    (folder / "unet" / "config.json").write_text('{"layers": 2}')
    (folder / "notes.md").write_text("not part of the model")
    return folder


def test_a_file_is_read_once_then_remembered_by_the_caches_index(tmp_path: Path, reads):
    file = tmp_path / "w.safetensors"
    file.write_bytes(b"some weights")
    index = tmp_path / "cache" / fingerprints.INDEX_NAME
    first = FingerprintIndex(index)
    assert first.sha256(file) == hashlib.sha256(b"some weights").hexdigest()
    assert first.sha256(file) == first.sha256(file) and reads == [file]
    assert FingerprintIndex(index).sha256(file) == first.sha256(file)  # a later run: no read
    assert reads == [file]
    file.write_bytes(b"retrained weights")  # a new size and time: read again
    assert FingerprintIndex(index).sha256(file) == hashlib.sha256(b"retrained weights").hexdigest()
    assert reads == [file, file]


def test_a_file_rewritten_in_place_with_its_old_time_and_size_is_read_again(tmp_path: Path,
                                                                            reads):
    file = tmp_path / "w.safetensors"
    file.write_bytes(b"aaaa")
    index = FingerprintIndex(tmp_path / "index.json")
    index.sha256(file)
    stat = file.stat()
    replacement = tmp_path / "new"
    replacement.write_bytes(b"bbbb")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, file)  # same path, size and mtime; another inode
    assert FingerprintIndex(tmp_path / "index.json").sha256(file) == \
        hashlib.sha256(b"bbbb").hexdigest()


def test_a_copied_or_renamed_folder_has_the_same_fingerprint(tmp_path: Path):
    original = model(tmp_path / "pip")
    copy = shutil.copytree(original, tmp_path / "elsewhere" / "pip-copy")
    assert folder_fingerprint(copy) == folder_fingerprint(original)
    assert path_fingerprint(copy) == path_fingerprint(original)
    (copy / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"weights of another")
    assert folder_fingerprint(copy) != folder_fingerprint(original)
    lora = tmp_path / "pip.safetensors"
    lora.write_bytes(b"a lora")
    renamed = shutil.copy(lora, tmp_path / "elsewhere" / "renamed.safetensors")
    assert path_fingerprint(lora) == path_fingerprint(Path(renamed))
    assert path_fingerprint(tmp_path / "nothing") == "missing"


def test_hub_snapshot_files_are_named_by_their_blobs_sha256(tmp_path: Path, reads):
    repo = tmp_path / "hub" / "models--org--tiny"
    (repo / "blobs").mkdir(parents=True)
    digest = hashlib.sha256(b"large weights").hexdigest()
    (repo / "blobs" / digest).write_bytes(b"large weights")
    snapshot = repo / "snapshots" / ("a" * 40) / "unet"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").symlink_to(repo / "blobs" / digest)
    assert content_sha256(snapshot / "model.safetensors") == digest and reads == []


def test_the_index_in_use_is_the_one_a_step_remembers_in(tmp_path: Path):
    file = tmp_path / "w.safetensors"
    file.write_bytes(b"weights")
    index = FingerprintIndex(tmp_path / "cache" / fingerprints.INDEX_NAME)
    with remembered_in(index):
        content_sha256(file)
    assert str(file.resolve()) in (tmp_path / "cache" / fingerprints.INDEX_NAME).read_text()


def test_an_unwritable_index_costs_only_the_reading(tmp_path: Path, reads, caplog):
    (tmp_path / "blocked").write_text("a file where the cache folder should be")
    file = tmp_path / "w.safetensors"
    file.write_bytes(b"weights")
    index = FingerprintIndex(tmp_path / "blocked" / fingerprints.INDEX_NAME)
    assert index.sha256(file) == hashlib.sha256(b"weights").hexdigest()
    assert index.sha256(file) == hashlib.sha256(b"weights").hexdigest() and len(reads) == 1
    assert "cannot remember model fingerprints" in caplog.text
    (tmp_path / "index.json").write_text("{not json")
    assert FingerprintIndex(tmp_path / "index.json").sha256(file) == index.sha256(file)
