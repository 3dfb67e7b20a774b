"""train=lora and train=full on a tiny pipeline: `model:`s that draw, exact resume, refusals."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("peft")
pytest.importorskip("accelerate")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from engine.backends.image import CharacterLook, DrawRequest  # noqa: E402
from engine.backends.image.diffusers import DiffusersIllustrator  # noqa: E402
from engine.backends.train import Interrupted, TrainRequest  # noqa: E402
from engine.backends.train.full import FullTrainer  # noqa: E402
from engine.backends.train.lora import LORA_FILE, LoraTrainer  # noqa: E402
from engine.backends.weights import path_fingerprint  # noqa: E402
from engine.errors import BackendError, MissingDependency  # noqa: E402
from tests import tiny_models  # noqa: E402

FAST = {"learning_rate": 1e-2, "resolution": 32}  # a visible change in three steps


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> tuple[str, ...]:
    folder = tmp_path_factory.mktemp("refs")
    paths = []
    for index, colour in enumerate(((200, 60, 30), (30, 160, 90))):
        path = folder / f"fox-{index}.png"
        Image.new("RGB", (48, 40), colour).save(path)
        paths.append(str(path))
    return tuple(paths)


def request(out: Path, references: tuple[str, ...], on_step=None) -> TrainRequest:
    return TrainRequest("Pip", str(tiny_models.tiny_sd()), references, "sks fox", str(out),
                        on_step=on_step)


def draw(model: Path | None, alpha: float, tmp_path: Path, base: Path | None = None):
    drawer = DiffusersIllustrator(model=str(base or tiny_models.tiny_sd()), steps=2,
                                  delta_cache=str(tmp_path / "deltas"))
    look = CharacterLook(name="Pip", description="a small fox", token="sks fox",
                         model=str(model) if model else None, trainedness=alpha)
    picture = drawer.draw(DrawRequest(scene_id="meadow", prompt="a fox in the snow",
                                      title="Snow", setting="a meadow", style="watercolor",
                                      characters=(look,), width=64, height=64, seed=7))
    return np.asarray(picture)


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, references):
    out = tmp_path_factory.mktemp("lora")
    return LoraTrainer(steps=3, checkpoint_every=2, **FAST).train(request(out, references))


def test_three_lora_steps_make_checkpoints_that_draw_as_a_model(lora_run, tmp_path):
    assert [Path(p).name for p in lora_run.checkpoints] == ["checkpoint-000002",
                                                            "checkpoint-000003"]
    final = Path(lora_run.final)
    assert (final / LORA_FILE).is_file() and not (Path(lora_run.checkpoints[0]) / "state").exists()
    base = draw(None, 1.0, tmp_path)
    assert not np.array_equal(draw(final, 1.0, tmp_path), base)
    assert np.array_equal(draw(final, 0.0, tmp_path), base)
    metadata = json.loads((final / "train.json").read_text())
    assert metadata["step"] == 3 and metadata["settings"]["rank"] == 4
    assert metadata["base"]["fingerprint"] == path_fingerprint(tiny_models.tiny_sd())
    assert [i["file"] for i in metadata["images"]] == ["fox-0.png", "fox-1.png"]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, references):
    out = tmp_path_factory.mktemp("full")
    return FullTrainer(steps=3, checkpoint_every=1, keep_checkpoints=2, text_encoder=True,
                       **FAST).train(request(out, references))


def test_three_full_steps_with_the_text_encoder_draw_as_a_model_keeping_the_last_two(full_run,
                                                                                      tmp_path):
    assert [Path(p).name for p in full_run.checkpoints] == ["checkpoint-000002",
                                                            "checkpoint-000003"]
    final = Path(full_run.final)
    assert (final / "unet").is_dir() and (final / "text_encoder").is_dir()
    trained = load_file(str(next((final / "text_encoder").glob("*.safetensors"))))
    base = load_file(str(next((tiny_models.tiny_sd() / "text_encoder").glob("*.safetensors"))))
    assert any(not torch.equal(trained[k], base[k]) for k in base)
    assert not np.array_equal(draw(final, 1.0, tmp_path), draw(None, 1.0, tmp_path))


def full_weights(checkpoint: str) -> dict[str, torch.Tensor]:
    """A full checkpoint's UNet and text encoder tensors, by part and name."""
    return {f"{part}/{key}": value for part in ("unet", "text_encoder")
            for file in sorted((Path(checkpoint) / part).glob("*.safetensors"))
            for key, value in load_file(str(file)).items()}


def test_a_killed_full_run_continues_to_the_same_unet_and_text_encoder(references, tmp_path,
                                                                       capfd):
    from transformers.utils import logging as transformers_logging

    tiny_models.tiny_sd()
    capfd.readouterr()  # making the tiny base writes its own shards
    transformers_logging.enable_progress_bar()  # as a process that never trained has it
    settings = {"steps": 2, "checkpoint_every": 1, "text_encoder": True, **FAST}
    whole = FullTrainer(**settings).train(request(tmp_path / "whole", references))

    def crash_after_one(report):  # step 1 is saved (optimiser moments too), then the run dies
        if report.step == 1:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        FullTrainer(**settings).train(request(tmp_path / "killed", references, crash_after_one))
    again = FullTrainer(**settings).train(request(tmp_path / "killed", references))
    assert again.resumed_from == 1
    expected = full_weights(whole.final)
    assert any(key.startswith("text_encoder/") for key in expected)
    assert_bit_equal(full_weights(again.final), expected)
    # only our progress shows: not transformers' "Writing model shards" at each checkpoint
    assert "shards" not in capfd.readouterr().err
    assert transformers_logging.is_progress_bar_enabled()  # and it is as it was after


def weights_of(checkpoint: str) -> dict[str, torch.Tensor]:
    return load_file(str(Path(checkpoint) / LORA_FILE))


def assert_bit_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key].view(torch.int32), b[key].view(torch.int32)), key


@pytest.mark.slow
def test_a_run_stopped_by_ctrl_c_or_killed_continues_to_the_same_weights(references, tmp_path):
    settings = {"steps": 4, "checkpoint_every": 2, **FAST}
    whole = LoraTrainer(**settings).train(request(tmp_path / "whole", references))

    def ctrl_c_at_three(report):
        if report.step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted) as stopped:
        LoraTrainer(**settings).train(request(tmp_path / "ctrl-c", references, ctrl_c_at_three))
    assert stopped.value.step == 3 and stopped.value.checkpoint.endswith("checkpoint-000003")
    continued = LoraTrainer(**settings).train(request(tmp_path / "ctrl-c", references))
    assert continued.resumed_from == 3
    assert_bit_equal(weights_of(continued.final), weights_of(whole.final))

    def crash_at_three(report):
        if report.step == 3:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        LoraTrainer(**settings).train(request(tmp_path / "killed", references, crash_at_three))
    again = LoraTrainer(**settings).train(request(tmp_path / "killed", references))
    assert again.resumed_from == 2
    assert_bit_equal(weights_of(again.final), weights_of(whole.final))
    # resuming never stacks a second adapter: the same tensors, the same size
    first, last = again.checkpoints[0], again.final
    assert weights_of(first).keys() == weights_of(last).keys()
    assert (Path(first) / LORA_FILE).stat().st_size == (Path(last) / LORA_FILE).stat().st_size
    assert not any("default_1" in key or ".default." in key for key in weights_of(last))


def test_a_run_with_other_settings_is_not_continued_in_the_same_folder(lora_run, references):
    out = Path(lora_run.final).parent
    with pytest.raises(BackendError, match="learning_rate"):
        LoraTrainer(steps=5, checkpoint_every=2, learning_rate=1e-3, resolution=32).train(
            request(out, references))


@pytest.fixture(scope="module")
def other_base(tmp_path_factory) -> Path:
    """The tiny base with another noise schedule: another fingerprint."""
    other = tmp_path_factory.mktemp("other") / "base"
    shutil.copytree(tiny_models.tiny_sd(), other)
    config = other / "scheduler" / "scheduler_config.json"
    config.write_text(config.read_text().replace("scaled_linear", "linear"))
    return other


@pytest.mark.parametrize("method", ["lora", "full"])
def test_a_model_trained_on_one_base_is_refused_on_another(method, request, other_base,
                                                           tmp_path):
    run = request.getfixturevalue(f"{method}_run")
    with pytest.raises(BackendError, match="trained on another base"):
        draw(Path(run.final), 1.0, tmp_path, base=other_base)


def test_a_pickled_base_is_refused(references, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_models.tiny_sd(), folder)
    for weights in (folder / "unet").glob("*.safetensors"):
        weights.unlink()
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"never unpickled")
    trainer = LoraTrainer(steps=1)
    with pytest.raises(BackendError, match="refusing to load the pickled checkpoint"):
        trainer.train(TrainRequest("Pip", str(folder), references, "sks fox",
                                   str(tmp_path / "out")))


def test_eight_bit_adam_without_bitsandbytes_says_what_to_install():
    if __import__("importlib").util.find_spec("bitsandbytes") is not None:
        pytest.skip("bitsandbytes is installed here")
    with pytest.raises(MissingDependency, match="bitsandbytes"):
        LoraTrainer(optimizer="adamw8bit")


def test_prior_preservation_draws_class_images_once_and_trains_on_both(references, tmp_path,
                                                                       monkeypatch):
    from diffusers import StableDiffusionPipeline

    from engine.cache import Cache
    from engine.commands.train import picture_store
    from engine.manifest import Recorder
    from engine.steps import Step

    calls = []
    drawing = StableDiffusionPipeline.__call__
    monkeypatch.setattr(StableDiffusionPipeline, "__call__",
                        lambda pipe, *a, **k: calls.append(a[0]) or drawing(pipe, *a, **k))

    def train(out: str, **changes):
        step = Step(Cache(tmp_path / "cache"), Recorder())
        settings = {"steps": 2, "checkpoint_every": 2, "prior_preservation": True,
                    "class_images": 2, "class_steps": 2, **FAST, **changes}
        result = LoraTrainer(**settings).train(dataclasses.replace(
            request(tmp_path / out, references), pictures=picture_store(step)))
        return result, [(a.name, a.made, a.path) for a in step.recorder.artifacts
                        if a.stage == "class"]

    result, first = train("prior")
    assert calls == ["fox", "fox"] and [made for _, made, _ in first] == [True, True]
    assert [Image.open(path).size for *_, path in first] == [(32, 32)] * 2
    assert all(Path(path).is_relative_to(tmp_path / "cache") for *_, path in first)
    assert not (tmp_path / "prior" / "class-images").exists()
    metadata = json.loads((Path(result.final) / "train.json").read_text())
    assert metadata["settings"]["class_prompt"] == "fox"
    _, again = train("another-fox", steps=3)  # another run, another folder: the same pictures
    assert len(calls) == 2 and again == [(n, False, p) for n, _, p in first]
    _, redrawn = train("prior-cat", class_prompt="cat")  # a changed setting draws anew
    assert calls[2:] == ["cat", "cat"] and [made for _, made, _ in redrawn] == [True, True]
    plain = LoraTrainer(steps=2, checkpoint_every=2, **FAST).train(
        request(tmp_path / "plain", references))
    assert weights_of(plain.final).keys() == weights_of(result.final).keys()
    assert any(not torch.equal(weights_of(plain.final)[k], weights_of(result.final)[k])
               for k in weights_of(plain.final))


def test_prior_preservation_without_a_picture_store_is_one_line(references, tmp_path):
    trainer = LoraTrainer(steps=1, prior_preservation=True, class_images=1, class_steps=1, **FAST)
    with pytest.raises(BackendError, match="artifact cache"):
        trainer.train(request(tmp_path / "nowhere", references))


def test_gradient_checkpointing_trains_to_the_same_weights(references, tmp_path):
    settings = {"steps": 1, "checkpoint_every": 1, **FAST}
    plain = LoraTrainer(**settings).train(request(tmp_path / "plain", references))
    saving = LoraTrainer(gradient_checkpointing=True, **settings).train(
        request(tmp_path / "saving", references))
    for key, value in weights_of(plain.final).items():
        assert torch.allclose(value, weights_of(saving.final)[key], atol=1e-6), key


def native_side(base: Path) -> int:
    """SD's rule from the folder's own config files: UNet sample size × the VAE's downscale."""
    unet = json.loads((base / "unet" / "config.json").read_text())
    vae = json.loads((base / "vae" / "config.json").read_text())
    return unet["sample_size"] * 2 ** (len(vae["block_out_channels"]) - 1)


def test_the_resolution_defaults_to_the_base_models_native_size(references, tmp_path,
                                                                monkeypatch):
    from engine.backends.train import dreambooth

    sides = []
    cropping = dreambooth.pixel_batch
    monkeypatch.setattr(dreambooth, "pixel_batch",
                        lambda paths, side: sides.append(side) or cropping(paths, side))
    result = LoraTrainer(steps=1, learning_rate=1e-2).train(request(tmp_path / "out", references))
    native = native_side(tiny_models.tiny_sd())
    assert native != FAST["resolution"] and sides == [native]
    assert json.loads((Path(result.final) / "train.json").read_text())["settings"][
        "resolution"] == native


def test_a_batch_of_two_puts_two_pictures_through_the_unet_each_step(references, tmp_path,
                                                                    monkeypatch):
    from diffusers import UNet2DConditionModel

    seen = []
    forward = UNet2DConditionModel.forward
    monkeypatch.setattr(UNet2DConditionModel, "forward", lambda unet, sample, *a, **k: (
        seen.append(sample.shape[0]) or forward(unet, sample, *a, **k)))
    settings = {"steps": 2, "checkpoint_every": 2, **FAST}
    pair = LoraTrainer(batch=2, **settings).train(request(tmp_path / "pair", references))
    assert seen == [2, 2]
    single = LoraTrainer(**settings).train(request(tmp_path / "single", references))
    assert seen[2:] == [1, 1]
    assert weights_of(pair.final).keys() == weights_of(single.final).keys()
    assert any(not torch.equal(weights_of(pair.final)[k], weights_of(single.final)[k])
               for k in weights_of(single.final))


def test_text_encoder_adapters_are_saved_in_diffusers_naming_and_draw(references, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    run = LoraTrainer(steps=1, checkpoint_every=1, text_encoder=True, **FAST).train(
        request(tmp_path / "te", references))
    file = Path(run.final) / LORA_FILE
    weights = weights_of(run.final)
    text = [key for key in weights if key.startswith("text_encoder.")]
    assert text and all(key.startswith(("unet.", "text_encoder.")) for key in weights)
    # diffusers' text-encoder naming: lora_linear_layer.down / .up on each projection
    assert {key.split(".self_attn.")[1] for key in text} >= {
        "q_proj.lora_linear_layer.down.weight", "q_proj.lora_linear_layer.up.weight",
        "out_proj.lora_linear_layer.down.weight"}
    assert not any("lora_A" in key or "default" in key for key in weights)
    unet_only = tmp_path / "unet-only"
    unet_only.mkdir()
    save_file({k: v for k, v in weights.items() if k.startswith("unet.")},
              str(unet_only / LORA_FILE), metadata=safe_open(str(file), "pt").metadata())
    base, both = draw(None, 1.0, tmp_path), draw(Path(run.final), 1.0, tmp_path)
    assert not np.array_equal(both, base)
    assert not np.array_equal(both, draw(unet_only, 1.0, tmp_path))  # the text encoder counts
    assert np.array_equal(draw(Path(run.final), 0.0, tmp_path), base)
