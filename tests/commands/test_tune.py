"""`storyreel tune`: a contact sheet of one scene across trainedness values and seeds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main as storyreel
from engine.commands import tune
from engine.errors import UsageError

STORY = """title: Fox
audience: 3-6
style: soft watercolor

character Pip
  description: a small orange fox with a green scarf
  model: models/pip
  token: sks fox

scene snow
  setting: a snowy meadow
  image: Pip jumping in the snow
  with: Pip
  seed: 5
  "Pip loved the snow."
"""


def story_at(folder: Path, model: Path | None) -> Path:
    (folder / "models").mkdir(parents=True)
    if model is not None:
        shutil.copytree(model, folder / "models" / "pip")  # links out of the story are refused
    else:
        (folder / "models" / "pip").mkdir()
    path = folder / "fox.story"
    path.write_text(STORY)
    return path


def test_a_procedural_sheet_has_a_column_per_alpha_and_a_row_per_seed(tmp_path: Path, capsys):
    story = story_at(tmp_path / "repo", None)
    out = tmp_path / "run"
    status = tune.main([str(story), "snow", "--alphas", "0,0.5,1", "--seeds", "2", "--out",
                        str(out), "render.width=128", "render.height=72",
                        f"cache.dir={tmp_path / 'cache'}"])
    assert status == 0, capsys.readouterr().err
    sheet = Image.open(out / "contact-sheet.png")
    labels = sheet.width - 3 * (128 + 8)  # as wide as the widest `seed N` label, and a margin
    assert 16 < labels < 200 and sheet.height == 64 + 2 * (72 + 8)
    facts = json.loads((out / "tune.json").read_text())
    assert facts["seeds"] == [5, 6] and facts["alphas"] == [0.0, 0.5, 1.0]
    assert facts["personalised"] == ["Pip"] and len(facts["cells"]) == 6
    page = (out / "contact-sheet.html").read_text()
    for cell in facts["cells"]:
        assert (out / cell["file"]).is_file() and f'src="{cell["file"]}"' in page
    assert "trainedness: 0.5" in page
    assert "contact sheet:" in capsys.readouterr().out


def test_alphas_are_a_list_or_a_progression():
    assert tune.parse_alphas("0,0.5,1") == [0.0, 0.5, 1.0]
    assert tune.parse_alphas("0,0.2,...,1") == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert tune.parse_alphas("0.5, 0.75, ..., 1") == [0.5, 0.75, 1.0]
    for bad in ("0,...,1", "1,0.5,...,0", "a,b", "0,0.2,...,1,2"):
        with pytest.raises(UsageError, match="--alphas takes"):
            tune.parse_alphas(bad)


def test_arguments_are_checked(tmp_path: Path, capsys):
    story = story_at(tmp_path / "repo", None)
    assert storyreel(["tune", str(story), "snow", "--alphas", "0,2"]) == 2
    assert "from 0 to 1" in capsys.readouterr().err
    assert storyreel(["tune", str(story), "snow", "--seeds", "0"]) == 2
    assert storyreel(["tune", str(story)]) == 2
    assert storyreel(["tune", str(story), "nowhere", "--out", str(tmp_path / "x")]) == 1
    assert "no scene 'nowhere' (its scenes: snow)" in capsys.readouterr().err


def test_a_diffusers_sheet_moves_from_the_base_to_the_fine_tuned_model(tmp_path: Path):
    pytest.importorskip("diffusers")
    from tests import tiny_models

    story = story_at(tmp_path / "repo", tiny_models.tiny_character("full"))
    out = tmp_path / "run"
    words = [str(story), "snow", "--alphas", "0,1", "--seeds", "1", "--out", str(out),
             "image=diffusers", f"image.model={tiny_models.tiny_sd()}", "image.steps=2",
             f"image.delta_cache={tmp_path / 'deltas'}", "render.width=64", "render.height=64",
             f"cache.dir={tmp_path / 'cache'}"]
    assert tune.main(words) == 0
    base, tuned = (np.asarray(Image.open(out / f"tune/alpha-{a}_seed-5.png")) for a in (0, 1))
    assert base.shape == (64, 64, 3) and not np.array_equal(base, tuned)
    facts = json.loads((out / "tune.json").read_text())
    assert facts["image"]["backend"] == "diffusers"
    assert "sks fox Pip" in (out / "contact-sheet.html").read_text()


def test_reference_images_are_tagged_as_render_tags_them(tmp_path: Path):
    pytest.importorskip("transformers")
    from tests import tiny_models

    story = story_at(tmp_path / "repo", None)
    (story.parent / "art").mkdir()
    Image.new("RGB", (40, 40), (230, 120, 40)).save(story.parent / "art" / "pip.png")
    story.write_text(STORY.replace("  token: sks fox\n", "  token: sks fox\n"
                                   "  reference: art/pip.png\n"))
    out = tmp_path / "run"
    assert tune.main([str(story), "snow", "--alphas", "1", "--seeds", "1", "--out", str(out),
                      "render.width=64", "render.height=64", f"cache.dir={tmp_path / 'cache'}",
                      "tagger=vit", f"tagger.model={tiny_models.tiny_vit()}"]) == 0
    facts = json.loads((out / "tune.json").read_text())
    assert facts["characters"][0]["tags"] == ["fox", "long hair"]


@pytest.mark.slow
def test_a_render_after_tune_reuses_the_picture_tune_drew(tmp_path: Path):
    pytest.importorskip("diffusers")
    import hashlib
    import subprocess
    import sys

    from tests import tiny_models

    story = story_at(tmp_path / "repo", tiny_models.tiny_character("full"))
    settings = ["image=diffusers", f"image.model={tiny_models.tiny_sd()}", "image.steps=2",
                f"image.delta_cache={tmp_path / 'deltas'}", "render.width=64", "render.height=64",
                f"cache.dir={tmp_path / 'cache'}"]
    out = tmp_path / "tuned"
    assert tune.main([str(story), "snow", "--alphas", "1", "--seeds", "1", "--out", str(out),
                      *settings]) == 0
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "engine", "render", str(story), *settings,
                           "render.fps=8", f"hydra.run.dir={tmp_path / 'run'}"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    [drawn] = [a for a in manifest["artifacts"] if a["stage"] == "draw"]
    tuned = hashlib.sha256((out / "tune" / "alpha-1_seed-5.png").read_bytes()).hexdigest()
    assert not drawn["made"] and drawn["sha256"] == tuned  # the scene at α = 1, seed 5


def test_a_long_seed_is_labelled_whole_on_the_sheet(tmp_path: Path):
    """The labels' column is as wide as the widest `seed N`: no digit is cut off."""
    from PIL import Image, ImageFont

    from engine.commands.tune import contact_sheet

    cell = tmp_path / "cell.png"
    Image.new("RGB", (64, 36), "gray").save(cell)
    seeds = [1749524493, 1749524494]
    sheet = contact_sheet({(r, c): cell for r in range(2) for c in range(2)}, [0.5, 1.0], seeds,
                          "a title")
    label = ImageFont.load_default(size=16).getlength(f"seed {seeds[0]}")
    first_picture_x = min(x for x in range(sheet.width) if sheet.getpixel((x, 70)) != (255, 255, 255)
                          and sheet.getpixel((x, 70)) == (128, 128, 128))
    assert first_picture_x > label + 8
