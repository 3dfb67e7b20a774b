"""`storyreel tune --checkpoints`: the final model's α sweep beside the real checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.backends.train import METADATA, METADATA_FORMAT
from engine.cli import main as storyreel
from engine.commands import tune_checkpoints

STORY = """title: Fox
style: soft watercolor

character Pip
  description: a small orange fox with a green scarf
  model: models/Pip/checkpoint-000003
  token: sks fox

character Owl
  description: a grey owl

scene snow
  setting: a snowy meadow
  image: Pip jumping in the snow
  with: Pip, Owl
  seed: 5
  "Pip loved the snow."
"""


def training_run(repo: Path, make=None) -> Path:
    """models/Pip/checkpoint-00000{1,2,3} with train.json, as `storyreel train` leaves them."""
    (repo / ".git").mkdir(parents=True)
    for step in (1, 2, 3):
        folder = repo / "models" / "Pip" / f"checkpoint-{step:06d}"
        if make is not None:
            make(folder, step)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / METADATA).write_text(json.dumps({"format": METADATA_FORMAT, "step": step}))
    (repo / "models" / "Pip" / "class-images").mkdir()  # not a checkpoint
    story = repo / "fox.story"
    story.write_text(STORY)
    return story


def test_checkpoints_are_those_of_the_models_training_run(tmp_path: Path):
    story = training_run(tmp_path)
    run = tmp_path / "models" / "Pip"
    expected = [run / f"checkpoint-00000{n}" for n in (1, 2, 3)]
    assert tune_checkpoints.training_checkpoints(run / "checkpoint-000002") == expected
    assert tune_checkpoints.training_checkpoints(run) == expected
    assert tune_checkpoints.training_checkpoints(story) == []


def test_a_procedural_sheet_puts_the_alpha_row_above_the_checkpoint_row(tmp_path: Path, capsys):
    story = training_run(tmp_path / "repo")
    out = tmp_path / "run"
    assert storyreel(["tune", str(story), "snow", "--checkpoints", "--alphas", "0,0.5,1",
                      "--out", str(out), "render.width=96", "render.height=64",
                      f"cache.dir={tmp_path / 'cache'}"]) == 0, capsys.readouterr().err
    facts = json.loads((out / "tune.json").read_text())
    assert (facts["mode"], facts["character"], facts["seed"]) == ("checkpoints", "Pip", 5)
    assert facts["steps"] == [1, 2, 3] and facts["similarity"] is None
    files = [c["file"] for c in facts["final"] + facts["checkpoints"]]
    assert files == ["tune/final_alpha-0.png", "tune/final_alpha-0.5.png",
                     "tune/final_alpha-1.png", "tune/step-1.png", "tune/step-2.png",
                     "tune/step-3.png"]
    page = (out / "contact-sheet.html").read_text()
    assert all((out / f).is_file() and f'src="{f}"' in page for f in files)
    assert "select=clip" in page
    assert Image.open(out / "contact-sheet.png").size == (150 + 3 * 104, 40 + 2 * (64 + 32))


def test_the_character_must_be_personalised_and_trained(tmp_path: Path, capsys):
    story = training_run(tmp_path / "repo")
    words = ["tune", str(story), "snow", "--checkpoints", "--out", str(tmp_path / "x"),
             f"cache.dir={tmp_path / 'cache'}"]
    assert storyreel([*words, "--character", "Owl"]) == 1
    assert "'Owl' is not a personalised character (`model:`) of scene 'snow' (those: Pip)" \
        in capsys.readouterr().err
    story.write_text(STORY.replace("models/Pip/checkpoint-000003", "models/elsewhere"))
    assert storyreel(words) == 1
    assert "Pip's model" in capsys.readouterr().err


@pytest.mark.slow
def test_clip_finds_the_alpha_that_stands_in_for_each_checkpoint(tmp_path: Path):
    pytest.importorskip("diffusers")
    from tests import tiny_models

    base = tiny_models.tiny_sd()

    def make(folder: Path, step: int) -> None:  # step n is a quarter, a half, all of the way
        tiny_models.build_finetuned(base, folder, 7)
        if step < 3:
            _scale_towards_base(base, folder, step / 4)

    story = training_run(tmp_path / "repo", make)
    out = tmp_path / "run"
    assert storyreel(["tune", str(story), "snow", "--checkpoints", "--alphas", "0,0.25,0.5,1",
                      "--out", str(out), "image=diffusers", f"image.model={base}",
                      "image.steps=2", f"image.delta_cache={tmp_path / 'deltas'}",
                      "render.width=64", "render.height=64", "select=clip",
                      f"select.model={tiny_models.tiny_clip()}",
                      f"cache.dir={tmp_path / 'cache'}"]) == 0
    facts = json.loads((out / "tune.json").read_text())
    table = np.array(facts["similarity"])
    assert table.shape == (4, 3) and np.all(table <= 1.0 + 1e-5)
    # W_base + α·Δ_final is the quarter-way checkpoint at α = 0.25: the sheet finds it
    assert facts["closest_alpha"] == [0.25, 0.5, 1.0]
    assert "CLIP image–image similarity" in (out / "contact-sheet.html").read_text()


def _scale_towards_base(base: Path, folder: Path, fraction: float) -> None:
    """The fine-tuned UNet's change from the base scaled by `fraction` (an earlier step)."""
    from diffusers import UNet2DConditionModel

    tuned = UNet2DConditionModel.from_pretrained(folder / "unet")
    original = UNet2DConditionModel.from_pretrained(base / "unet").state_dict()
    tuned.load_state_dict({k: original[k] + fraction * (v - original[k])
                           for k, v in tuned.state_dict().items()})
    tuned.save_pretrained(folder / "unet", safe_serialization=True)
