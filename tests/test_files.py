"""engine.files: a path written by another program is renamed into place whole, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.files import public_mode, replacing, reserve_beside


def test_what_the_block_wrote_replaces_the_file_when_it_ends(tmp_path: Path):
    target = tmp_path / "video.mp4"
    target.write_bytes(b"old")
    with replacing(target) as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".video.mp4.")
        temp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # nothing reaches the target before the end
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_a_failed_block_leaves_the_old_file_and_no_temp(tmp_path: Path):
    target = tmp_path / "video.mp4"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with replacing(target) as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("the encoder died")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_a_reserved_file_is_empty_scratch_with_the_usual_permissions(tmp_path: Path):
    temp = reserve_beside(tmp_path / "deep" / "delta.safetensors")
    assert temp.read_bytes() == b"" and temp.name.startswith(".")
    assert temp.stat().st_mode & 0o777 == public_mode()


def test_kept_arrays_read_back_all_or_only_those_named(tmp_path):
    import numpy as np

    from engine.files import keep_arrays, kept_arrays

    path = tmp_path / "kept.npz"
    assert kept_arrays(path) is None
    keep_arrays(path, small=np.arange(3), big=np.ones(10, dtype=np.float32))
    both = kept_arrays(path)
    assert sorted(both) == ["big", "small"] and both["big"].dtype == np.float32
    assert list(kept_arrays(path, ("small",))) == ["small"]
    assert kept_arrays(path, ("missing",)) is None
