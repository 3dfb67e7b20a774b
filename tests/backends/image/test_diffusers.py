"""image=diffusers on a tiny random pipeline: seeded draws, personal models, LoRA, refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from engine.backends.image import CharacterLook, DrawRequest  # noqa: E402
from engine.backends.image.diffusers import DiffusersIllustrator, compose_prompt  # noqa: E402
from engine.backends.image.pipeline_size import drawing_size  # noqa: E402
from engine.errors import BackendError, ConfigError  # noqa: E402
from tests import tiny_models  # noqa: E402


def request(*characters: CharacterLook, seed: int = 7,
            size: tuple[int, int] = (64, 64)) -> DrawRequest:
    return DrawRequest(scene_id="meadow", prompt="a fox in the snow", title="Snow", setting="a meadow", style="watercolor",
                       characters=characters, width=size[0], height=size[1], seed=seed)


def fox(model: Path | None = None, alpha: float = 1.0) -> CharacterLook:
    return CharacterLook(name="Pip", description="a small fox", tags=("orange fur", "scarf"),
                         token="sks", model=str(model) if model else None, trainedness=alpha)


def illustrator(model: Path, tmp_path: Path, **settings) -> DiffusersIllustrator:
    return DiffusersIllustrator(model=str(model), steps=2, delta_cache=str(tmp_path / "deltas"),
                                **settings)


def pixels(image) -> np.ndarray:
    return np.asarray(image)


def test_a_seeded_draw_is_deterministic_at_the_requested_size(tmp_path: Path):
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    first = drawer.draw(request())
    assert first.size == (64, 64) and first.mode == "RGB"
    assert np.array_equal(pixels(first), pixels(drawer.draw(request())))
    assert not np.array_equal(pixels(first), pixels(drawer.draw(request(seed=8))))
    avoiding = illustrator(tiny_models.tiny_sd(), tmp_path, negative_prompt="blurry")
    assert not np.array_equal(pixels(first), pixels(avoiding.draw(request())))
    assert avoiding.identity() != drawer.identity()
    odd = drawer.draw(request(size=(60, 44)))
    assert odd.size == (60, 44)
    again = illustrator(tiny_models.tiny_sd(), tmp_path)  # a fresh process would agree too
    assert np.array_equal(pixels(first), pixels(again.draw(request())))


def test_the_prompt_carries_each_character_first_for_consistency():
    plain = CharacterLook(name="Owl", description="a grey owl with round glasses")
    assert compose_prompt(request(fox(), plain)) == (
        "sks Pip, orange fur, scarf, Owl, a grey owl with round glasses, a fox in the snow, "
        "a meadow, watercolor")


def test_drawing_sizes_keep_the_aspect_at_the_pixel_budget_in_multiples():
    assert drawing_size(64, 64, 64 * 64) == (64, 64)
    assert drawing_size(1280, 720, 512 * 512) == (680, 384)  # SD 1.5 at 16:9
    assert drawing_size(1280, 720, 1024 * 1024) == (1368, 768)  # SDXL at 16:9
    assert drawing_size(720, 1280, 1024 * 1024) == (768, 1368)  # shorts
    assert drawing_size(64, 64, 512 * 512) == (512, 512)  # a small frame is drawn at the budget
    assert drawing_size(61, 3, 64) == (40, 8)
    assert drawing_size(1280, 720, 1024 * 1024, multiple=16) == (1360, 768)


def fine_tuned_pipeline(tmp_path: Path) -> Path:
    """The base pipeline folder with the 'full' character's unet and text encoder in place."""
    folder = tmp_path / "fine-tuned-pipeline"
    shutil.copytree(tiny_models.tiny_sd(), folder)
    for component in ("unet", "text_encoder"):
        shutil.rmtree(folder / component)
        shutil.copytree(tiny_models.tiny_character("full") / component, folder / component)
    return folder


def test_trainedness_one_draws_like_the_fine_tuned_pipeline_and_zero_like_the_base(tmp_path):
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    model = tiny_models.tiny_character("full")
    at_one = pixels(drawer.draw(request(fox(model, 1.0))))
    at_zero = pixels(drawer.draw(request(fox(model, 0.0))))
    halfway = pixels(drawer.draw(request(fox(model, 0.5))))
    base = pixels(drawer.draw(request(fox(None))))
    fine_tuned = pixels(illustrator(fine_tuned_pipeline(tmp_path), tmp_path).draw(
        request(fox(None))))
    assert np.array_equal(at_one, fine_tuned)
    assert np.array_equal(at_zero, base)
    assert not np.array_equal(halfway, base) and not np.array_equal(halfway, fine_tuned)
    assert np.array_equal(at_one, pixels(drawer.draw(request(fox(model, 1.0)))))


def test_a_whole_fine_tuned_pipeline_folder_works_as_a_character_model(tmp_path: Path):
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    folder = fine_tuned_pipeline(tmp_path)
    tuned = pixels(drawer.draw(request(fox(folder))))
    delta = drawer.tuner.deltas[str(folder)]
    assert not any(name.startswith("vae.") for name in delta.tensors)  # identical: no delta
    fine_tuned = pixels(illustrator(folder, tmp_path).draw(request(fox(None))))
    assert np.array_equal(tuned, fine_tuned)


def test_a_lora_character_scales_its_adapter_by_trainedness(tmp_path: Path):
    lora = tiny_models.tiny_character("lora")
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    base = pixels(drawer.draw(request(fox(None))))
    at_one = pixels(drawer.draw(request(fox(lora, 1.0))))
    assert not np.array_equal(at_one, base)
    drawer.draw(request(fox(lora, 0.4)))
    adapter = drawer.loras.adapters[str(lora)]
    scaled = [m for m in drawer.pipeline.unet.modules() if hasattr(m, "scaling")
              and adapter in getattr(m, "scaling", {})]
    assert scaled and all(m.scaling[adapter] == pytest.approx(0.4) for m in scaled)
    assert np.array_equal(pixels(drawer.draw(request(fox(lora, 0.0)))), base)
    # diffusers' own LoRA loading, at full scale, draws the same picture as α = 1
    reference = illustrator(tiny_models.tiny_sd(), tmp_path)
    reference.pipeline.load_lora_weights(str(lora.parent), weight_name=lora.name)
    assert np.array_equal(pixels(reference.draw(request(fox(None)))), at_one)


def test_two_personalised_characters_share_one_scene(tmp_path: Path):
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    a, b = tiny_models.tiny_character("unet"), tiny_models.tiny_character("lora")
    owl = CharacterLook(name="Owl", description="an owl", model=str(b), trainedness=0.5)
    both = pixels(drawer.draw(request(fox(a, 0.7), owl)))
    assert drawer.tuner.state == {str(a): 0.7}
    switches = drawer.tuner.switches
    assert np.array_equal(both, pixels(drawer.draw(request(fox(a, 0.7), owl))))
    assert drawer.tuner.switches == switches  # the same α-set is not applied twice


def test_a_pickled_pipeline_is_refused_before_anything_is_read(tmp_path: Path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_models.tiny_sd(), folder)
    for weights in (folder / "unet").glob("*.safetensors"):
        weights.unlink()
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"never unpickled")
    with pytest.raises(BackendError, match="refusing to load the pickled checkpoint .*unet"):
        illustrator(folder, tmp_path).draw(request())
    (tmp_path / "model.ckpt").write_bytes(b"never unpickled")
    with pytest.raises(BackendError, match="pickled"):
        illustrator(tmp_path / "model.ckpt", tmp_path).draw(request())
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    with pytest.raises(BackendError, match="pickled"):
        drawer.draw(request(fox(tmp_path / "model.ckpt")))


def test_missing_models_and_bad_settings_say_what_to_do(tmp_path: Path):
    with pytest.raises(BackendError, match="image.online=true"):
        illustrator(tmp_path / "nowhere", tmp_path).draw(request())
    with pytest.raises(ConfigError, match="image.dtype"):
        DiffusersIllustrator(model="x", dtype="float8")
    with pytest.raises(ConfigError, match="not a diffusers scheduler"):
        illustrator(tiny_models.tiny_sd(), tmp_path, scheduler="os").draw(request())


def test_a_configured_scheduler_replaces_the_pipelines_own(tmp_path: Path):
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path, scheduler="EulerDiscreteScheduler")
    image = drawer.draw(request())
    assert type(drawer.pipeline.scheduler).__name__ == "EulerDiscreteScheduler"
    assert image.size == (64, 64)
    assert drawer.identity()["scheduler"] == "EulerDiscreteScheduler"


def test_identity_names_the_weights_without_loading_them(tmp_path: Path):
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    identity = drawer.identity()
    assert drawer._pipe is None
    assert identity["backend"] == "diffusers" and identity["steps"] == 2
    assert identity["weights"] and identity["diffusers"]
    copy = shutil.copytree(tiny_models.tiny_sd(), tmp_path / "models" / "renamed-sd")
    assert illustrator(copy, tmp_path).identity() == identity  # the bytes name the base


def test_a_story_renders_with_image_diffusers(tmp_path: Path):
    import json

    repo = tmp_path / "repo"
    shutil.copytree(tiny_models.tiny_character("full"), repo / "models" / "pip")
    (repo / "fox.story").write_text(
        "title: Fox\naudience: 3-6\nstyle: watercolor\n\ncharacter Pip\n"
        "  description: a small orange fox\n  model: models/pip\n  token: sks fox\n"
        "  trainedness: 0.6\n\nscene snow\n  setting: a snowy meadow\n"
        "  image: Pip jumping in the snow\n  with: Pip\n  \"Pip loved the snow.\"\n\n"
        "scene home\n  setting: a warm den\n  image: Pip asleep\n  \"Then Pip slept.\"\n")
    done = tiny_models.render_with_diffusers(repo / "fox.story", tiny_models.tiny_sd(), tmp_path,
                                             (64, 64))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["backends"]["image"]["backend"] == "diffusers"
    drawn = [a for a in manifest["artifacts"] if a["stage"] == "draw"]
    assert len(drawn) == 2 and all(Image.open(a["path"]).size == (64, 64) for a in drawn)
    assert list((tmp_path / "deltas").glob("*.safetensors"))  # Pip's delta, cached


def test_sdxl_pipelines_and_their_second_text_encoder_are_tuned_too(tmp_path: Path):
    base, model = tiny_models.tiny_sdxl(), tiny_models.tiny_sdxl_character()
    drawer = illustrator(base, tmp_path)
    at_one = pixels(drawer.draw(request(fox(model, 1.0))))
    assert type(drawer.pipeline).__name__ == "StableDiffusionXLPipeline"
    assert any(n.startswith("text_encoder_2.") for n in drawer.tuner.deltas[str(model)].tensors)
    folder = tmp_path / "sdxl-fine-tuned"
    shutil.copytree(base, folder)
    for component in ("unet", "text_encoder_2"):
        shutil.rmtree(folder / component)
        shutil.copytree(model / component, folder / component)
    fine_tuned = pixels(illustrator(folder, tmp_path).draw(request(fox(None))))
    assert at_one.shape == (64, 64, 3) and np.array_equal(at_one, fine_tuned)
    assert np.array_equal(pixels(drawer.draw(request(fox(model, 0.0)))),
                          pixels(drawer.draw(request(fox(None)))))


def test_the_draw_stage_applies_each_alpha_set_once(tmp_path: Path):
    from dataclasses import replace

    from engine.cache import Cache
    from engine.manifest import Recorder
    from engine.stages.draw import draw
    from engine.steps import Step

    model = tiny_models.tiny_character("unet")
    scenes = [replace(request(fox(model, 0.5)), scene_id="a"),
              replace(request(fox(model, 1.0)), scene_id="b"),
              replace(request(fox(model, 0.5)), scene_id="c"),
              replace(request(), scene_id="d")]
    drawer = illustrator(tiny_models.tiny_sd(), tmp_path)
    drawn = draw(scenes, drawer, Step(Cache(tmp_path / "cache"), Recorder()))
    assert [d.scene_id for d in drawn] == ["a", "b", "c", "d"]
    assert drawer.tuner.switches == 2  # d at the base first, then a and c together, then b
    a, c = (pixels(Image.open(drawn[i].image)) for i in (0, 2))
    assert np.array_equal(a, c)  # same request but the scene id: the same picture
