"""`storyreel train`: refusals in one line or a story diagnostic, and `--write` sets `model:`."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine import cli
from engine.commands import train

STORY = """title: Fox
audience: 3-6
style: soft watercolor
use: cast.story

character Pip
  description: a small orange fox with a green scarf
  reference: art/pip.png  # the design
  model: models/old  # replaced by train --write
  token: sks fox

character Mole
  description: a mole who never had a picture
  token: sks mole

scene snow
  setting: a snowy meadow
  with: Pip, Owl
  "Pip loved the snow."
"""

CAST = """# the shared cast
character Owl
  description: a grey owl
  reference: art/owl.png
"""


def repo(folder: Path) -> Path:
    (folder / ".git").mkdir(parents=True)
    (folder / "art").mkdir(parents=True)
    Image.new("RGB", (40, 40), (200, 90, 20)).save(folder / "art" / "pip.png")
    Image.new("RGB", (40, 40), (90, 90, 90)).save(folder / "art" / "owl.png")
    (folder / "cast.story").write_text(CAST)
    path = folder / "fox.story"
    path.write_text(STORY)
    return path


@pytest.mark.parametrize("name, message", [
    ("Mole", "'Mole' has no reference images to train on"),
    ("Owl", "'Owl' has no `token:` to train"),
])
def test_a_character_without_references_or_token_is_a_story_error(tmp_path, capsys, name,
                                                                     message):
    story = repo(tmp_path / "repo")
    assert cli.main(["train", str(story), name, "image=diffusers", "image.model=x"]) == 2
    err = capsys.readouterr().err
    where = "fox.story:12:11" if name == "Mole" else "cast.story:2:11"
    assert where in err and f"error: {message}" in err and "hint:" in err
    if name == "Mole":  # the hint names what a folder of references may hold, as check does
        from engine.dsl.vocabulary import IMAGE_SUFFIXES

        assert f"a folder of {'/'.join(IMAGE_SUFFIXES)} images" in err
        assert ".jpeg" in err and ".bmp" in err


def test_usage_mistakes_are_one_line(tmp_path, capsys):
    story = repo(tmp_path / "repo")
    assert cli.main(["train", str(story), "Badger"]) == 1  # as tune's unknown scene
    assert capsys.readouterr().err == (
        "storyreel train: error: fox.story has no character 'Badger' (its characters: Pip, "
        "Mole, Owl)\n")
    assert cli.main(["train", str(story), "Pip"]) == 1  # image=procedural has no model to train
    assert capsys.readouterr().err.startswith(
        "storyreel train: error: train fine-tunes image.model: give image=diffusers")
    assert cli.main(["train", str(story)]) == 2
    assert "which story and which character?" in capsys.readouterr().err
    assert cli.main(["train", str(story), "Pip", "--out"]) == 2
    assert "--out needs a folder" in capsys.readouterr().err


def test_ctrl_c_names_the_checkpoint_it_saved(tmp_path, capsys, monkeypatch):
    from engine.backends.train import Interrupted

    def stopped(*args):
        raise Interrupted("models/Pip/checkpoint-000002", 2)

    story = repo(tmp_path / "repo")
    monkeypatch.setattr(train, "run", stopped)
    assert cli.main(["train", str(story), "Pip"]) == 130
    assert capsys.readouterr().err == (
        "storyreel train: interrupted at step 2; saved models/Pip/checkpoint-000002 (run the "
        "same command again to continue)\n")


def test_a_folder_of_references_is_trained_on_whole(tmp_path):
    from engine.dsl.load import load_story

    story = repo(tmp_path / "repo")
    (tmp_path / "repo" / "art" / "pip").mkdir()
    for name in ("front.png", "side.jpg"):
        Image.new("RGB", (40, 40), (200, 90, 20)).save(tmp_path / "repo" / "art" / "pip" / name)
    story.write_text(STORY.replace("reference: art/pip.png", "reference: art/pip/"))
    _, token, images = train.training_inputs(load_story(story), "Pip")
    assert token == "sks fox" and [p.name for p in images] == ["front.png", "side.jpg"]


def test_references_are_one_image_or_the_images_of_a_folder(tmp_path):
    from engine.ir import images_at

    (tmp_path / "pip" / "old").mkdir(parents=True)
    for name in ("b.png", "a.JPG", "notes.txt", ".hidden.png", "old/c.png"):
        (tmp_path / "pip" / name).write_bytes(b"")
    assert [p.name for p in images_at(tmp_path / "pip")] == ["a.JPG", "b.png"]
    assert images_at(tmp_path / "pip" / "b.png") == (tmp_path / "pip" / "b.png",)
    assert images_at(tmp_path / "missing.png") == ()


def test_the_train_group_is_added_with_its_choice():
    assert train.with_train_choice(["+train=full", "train.steps=3"]) == ["train=full",
                                                                         "train.steps=3"]
    assert train.with_train_choice(["seed=1"]) == ["train=lora", "seed=1"]


@pytest.mark.slow
def test_write_points_the_character_at_the_final_checkpoint(tmp_path, capsys):
    pytest.importorskip("peft")
    from tests import tiny_models

    story = repo(tmp_path / "repo")
    status = cli.main(["train", str(story), "Pip", "--write", "image=diffusers",
                         f"image.model={tiny_models.tiny_sd()}", "train.steps=2",
                         "train.checkpoint_every=1", "train.resolution=32",
                         "train.prior_preservation=true", "train.class_images=1",
                         "train.class_steps=1"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    from engine.cache import Cache

    # the class image went into the story's artifact cache, as a picture render draws does
    drawn = [e for e in Cache(tmp_path / "repo" / ".storyreel" / "cache").entries()
             if e.stage == "class"]
    assert len(drawn) == 1 and drawn[0].meta["label"] == "fox #0"
    final = tmp_path / "repo" / "models" / "Pip" / "checkpoint-000002"
    assert f"final {final}" in captured.out
    assert (final / "pytorch_lora_weights.safetensors").is_file()
    text = story.read_text()
    assert "  model: models/Pip/checkpoint-000002  # replaced by train --write\n" in text
    assert text.replace("models/Pip/checkpoint-000002", "models/old") == STORY


def test_out_puts_the_checkpoints_there_and_write_points_the_story_at_them(tmp_path, capsys):
    pytest.importorskip("peft")
    from tests import tiny_models

    story = repo(tmp_path / "repo")
    out = tmp_path / "elsewhere" / "pip-v2"
    status = cli.main(["train", str(story), "Pip", "--out", str(out), "--write",
                       "image=diffusers", f"image.model={tiny_models.tiny_sd()}",
                       "train.steps=1", "train.resolution=32"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert (out / "checkpoint-000001" / "pytorch_lora_weights.safetensors").is_file()
    assert f"final {out / 'checkpoint-000001'}" in captured.out
    assert not (tmp_path / "repo" / "models" / "Pip").exists()
    assert ("  model: ../elsewhere/pip-v2/checkpoint-000001  # replaced by train --write\n"
            in story.read_text())
