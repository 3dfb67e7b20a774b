"""safety=diffusers on tiny checkers set to flag everything or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from PIL import Image  # noqa: E402

from engine.backends.safety.diffusers import DiffusersSafetyChecker  # noqa: E402
from engine.errors import BackendError, ConfigError  # noqa: E402
from tests import tiny_models  # noqa: E402

PICTURE = Image.new("RGB", (64, 48), (120, 160, 200))


def test_the_checker_verdict_follows_its_concept_thresholds():
    flagging = DiffusersSafetyChecker(model=str(tiny_models.tiny_safety(True)))
    verdict = flagging.check(PICTURE)
    assert verdict.flagged and "unsafe" in verdict.reason
    passing = DiffusersSafetyChecker(model=str(tiny_models.tiny_safety(False)))
    assert not passing.check(PICTURE).flagged
    assert flagging.redraws == 2 and flagging.identity()["backend"] == "diffusers"


def test_a_stable_diffusion_layout_is_found(tmp_path: Path):
    root = tmp_path / "sd"
    (root / "feature_extractor").mkdir(parents=True)
    shutil.copytree(tiny_models.tiny_safety(True), root / "safety_checker")
    shutil.move(root / "safety_checker" / "preprocessor_config.json", root / "feature_extractor")
    assert DiffusersSafetyChecker(model=str(root)).check(PICTURE).flagged
    assert DiffusersSafetyChecker(model=str(root / "safety_checker")).check(PICTURE).flagged


def test_a_pickled_or_missing_checker_is_refused(tmp_path: Path):
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"never unpickled")
    (tmp_path / "pickled" / "preprocessor_config.json").write_text("{}")
    with pytest.raises(BackendError, match="pickled"):
        DiffusersSafetyChecker(model=str(tmp_path / "pickled")).check(PICTURE)
    with pytest.raises(BackendError, match="no model folder"):
        DiffusersSafetyChecker(model=str(tmp_path / "missing")).check(PICTURE)
    with pytest.raises(ConfigError, match="redraws"):
        DiffusersSafetyChecker(model="x", redraws=-1)

