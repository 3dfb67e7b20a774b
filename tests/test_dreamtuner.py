"""DreamTuner: α = 0/1 bit exactness, no drift, task arithmetic, same storage, cached deltas."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from safetensors.torch import load_file, save_file  # noqa: E402

from engine.backends.image.dreamtuner import DreamTuner, is_lora  # noqa: E402
from engine.errors import BackendError  # noqa: E402
from tests import tiny_models  # noqa: E402


def load_modules() -> dict[str, torch.nn.Module]:
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel

    base = tiny_models.tiny_sd()
    return {"unet": UNet2DConditionModel.from_pretrained(base / "unet"),
            "text_encoder": CLIPTextModel.from_pretrained(base / "text_encoder")}


def saved(folder: Path, component: str) -> dict[str, torch.Tensor]:
    file = next((folder / component).glob("*.safetensors"))
    return load_file(file)


def weights(modules: dict[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
    return {f"{c}.{n}": p.detach().clone() for c, m in modules.items()
            for n, p in m.named_parameters()}


def bits_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.dtype == b.dtype and torch.equal(a.view(torch.int32), b.view(torch.int32))


@pytest.fixture()
def tuned(tmp_path: Path):
    modules = load_modules()
    return modules, DreamTuner(modules, base_id="tiny-sd", cache_dir=tmp_path / "deltas")


def test_alpha_one_is_the_fine_tuned_model_and_zero_the_base_bit_for_bit(tuned):
    modules, tuner = tuned
    base = weights(modules)
    pointers = {n: p.data_ptr() for n, p in tuner.parameters().items()}
    model = tiny_models.tiny_character("full")
    tuner.add(model)
    assert tuner.apply({str(model): 1.0})
    for component in ("unet", "text_encoder"):
        fine_tuned = saved(model, component)
        params = dict(modules[component].named_parameters())
        compared = [name for name in fine_tuned if name in params]
        assert len(compared) == len(params)
        for name in compared:
            assert bits_equal(params[name].data, fine_tuned[name]), name
    assert tuner.apply({str(model): 0.0})
    for name, param in tuner.parameters().items():
        assert bits_equal(param.data, base[name]), name
    assert pointers == {n: p.data_ptr() for n, p in tuner.parameters().items()}


def test_rounding_fixes_make_alpha_one_exact_where_base_plus_delta_rounds_off(tmp_path: Path):
    # 1 + (1e-8 - 1) rounds to 0 in float32: without its fix table α = 1 would miss W_ft.
    layer = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 3.0, -2.0, 0.5]]))
    fine_tuned = torch.tensor([[1e-8, 3.0 + 1e-6, 7e-9, 0.25]])
    (tmp_path / "model" / "unet").mkdir(parents=True)
    save_file({"weight": fine_tuned},
              str(tmp_path / "model/unet/diffusion_pytorch_model.safetensors"))
    tuner = DreamTuner({"unet": layer}, base_id="linear", cache_dir=None)
    delta = tuner.add(tmp_path / "model")
    naive = torch.add(torch.tensor([[1.0, 3.0, -2.0, 0.5]]), delta.tensors["unet.weight"])
    assert not torch.equal(naive, fine_tuned)  # the case the fixes exist for
    assert delta.fixes["unet.weight"][0].numel() >= 1
    tuner.apply({str(tmp_path / "model"): 1.0})
    assert bits_equal(layer.weight.data, fine_tuned)
    tuner.apply({})
    assert bits_equal(layer.weight.data, torch.tensor([[1.0, 3.0, -2.0, 0.5]]))


def test_no_drift_after_a_thousand_switches(tuned):
    modules, tuner = tuned
    base = weights(modules)
    a, b = tiny_models.tiny_character("full"), tiny_models.tiny_character("attn")
    tuner.add(a)
    tuner.add(b)
    sets = [{str(a): 0.3}, {str(a): 1.0}, {str(a): 0.7, str(b): 0.4}, {}, {str(b): 1.0},
            {str(a): 0.0, str(b): 0.9}]
    for i in range(1000):
        tuner.apply(sets[i % len(sets)])
    assert tuner.switches == 1000
    tuner.apply({str(a): 1.0})
    fine_tuned = saved(a, "unet")
    for name, param in modules["unet"].named_parameters():
        assert bits_equal(param.data, fine_tuned[name]), name
    tuner.apply({})
    for name, param in tuner.parameters().items():
        assert bits_equal(param.data, base[name]), name


def test_two_characters_in_one_scene_are_the_sum_of_their_deltas(tuned):
    modules, tuner = tuned
    base = weights(modules)
    a, b = tiny_models.tiny_character("unet"), tiny_models.tiny_character("attn")
    delta_a, delta_b = tuner.add(a), tuner.add(b)
    tuner.apply({str(a): 0.6, str(b): 0.25})
    checked = 0
    saved_a, saved_b = saved(a, "unet"), saved(b, "unet")
    terms = sorted([(str(a), 0.6, delta_a), (str(b), 0.25, delta_b)])  # the tuner's fixed order
    for name, param in tuner.parameters().items():
        expected = None
        for _, alpha, delta in terms:
            if name in delta.tensors:
                expected = (torch.add(base[name], delta.tensors[name], alpha=alpha)
                            if expected is None else expected.add(delta.tensors[name],
                                                                  alpha=alpha))
        checked += all(name in d.tensors for _, _, d in terms)
        assert torch.equal(param.data, base[name] if expected is None else expected), name
        # and the arithmetic is the intended one, up to float32 rounding
        exact = base[name].double()
        for fine_tuned, alpha in ((saved_a, 0.6), (saved_b, 0.25)):
            ft = fine_tuned.get(name.removeprefix("unet."))
            if ft is not None:
                exact += alpha * (ft.double() - base[name].double())
        assert torch.allclose(param.data.double(), exact, atol=1e-6), name
    assert checked == len(delta_b.tensors) > 0  # both characters move these weights


def test_an_unchanged_alpha_set_does_no_work(tuned):
    _, tuner = tuned
    model = tiny_models.tiny_character("unet")
    tuner.add(model)
    assert tuner.apply({str(model): 0.5})
    assert not tuner.apply({str(model): 0.5})
    assert not tuner.apply({str(model): 0.5, "/unused/at/zero": 0.0})
    assert tuner.apply({str(model): 0.8})
    assert tuner.switches == 2 and tuner.state == {str(model): 0.8}


def test_parameters_a_fine_tune_left_alone_cost_nothing(tuned):
    _, tuner = tuned
    delta = tuner.add(tiny_models.tiny_character("attn"))
    assert delta.tensors and all("attn" in name for name in delta.tensors)
    whole = tuner.add(tiny_models.tiny_character("full"))
    assert any(name.startswith("text_encoder.") for name in whole.tensors)


def test_deltas_are_computed_once_and_reused_from_the_cache(tuned, tmp_path: Path, monkeypatch):
    modules, tuner = tuned
    model = tiny_models.tiny_character("full")
    first = tuner.add(model)
    assert tuner.add(model) is first
    cached = list((tmp_path / "deltas").glob("*.safetensors"))
    assert len(cached) == 1

    def recompute(*args, **kwargs):
        raise AssertionError("the cached delta should have been used")

    again = DreamTuner(load_modules(), base_id="tiny-sd", cache_dir=tmp_path / "deltas")
    monkeypatch.setattr(DreamTuner, "_compute", recompute)
    reloaded = again.add(model)
    assert reloaded.tensors.keys() == first.tensors.keys()
    assert all(torch.equal(reloaded.tensors[n], first.tensors[n]) for n in first.tensors)
    other_base = DreamTuner(load_modules(), base_id="another-base", cache_dir=tmp_path / "deltas")
    with pytest.raises(AssertionError, match="cached delta"):
        other_base.add(model)  # a delta belongs to one base model


def test_a_model_of_another_architecture_is_refused(tuned, tmp_path: Path):
    _, tuner = tuned
    (tmp_path / "odd" / "unet").mkdir(parents=True)
    save_file({"conv_in.weight": torch.zeros(3, 3)},
              str(tmp_path / "odd/unet/diffusion_pytorch_model.safetensors"))
    with pytest.raises(BackendError, match="shape"):
        tuner.add(tmp_path / "odd")


def test_pickled_personalised_models_are_refused_unread(tuned, tmp_path: Path):
    _, tuner = tuned
    (tmp_path / "pickled" / "unet").mkdir(parents=True)
    (tmp_path / "pickled/unet/diffusion_pytorch_model.bin").write_bytes(b"not to be unpickled")
    with pytest.raises(BackendError, match="refusing to load the pickled checkpoint"):
        tuner.add(tmp_path / "pickled")
    (tmp_path / "lora.ckpt").write_bytes(b"not to be unpickled")
    with pytest.raises(BackendError, match="pickled"):
        is_lora(tmp_path / "lora.ckpt")
    with pytest.raises(BackendError, match="no fine-tuned weights"):
        tuner.add(tmp_path)


def test_what_a_model_path_names(tmp_path: Path):
    assert is_lora(tiny_models.tiny_character("lora"))
    assert not is_lora(tiny_models.tiny_character("full"))
    with pytest.raises(BackendError, match="no personalised model"):
        is_lora(tmp_path / "missing")


def test_a_delta_is_never_shared_between_two_bases_of_one_hub_id(tmp_path: Path, monkeypatch):
    from diffusers import DiffusionPipeline, UNet2DConditionModel

    from engine.backends.image import CharacterLook
    from engine.backends.image.diffusers import DiffusersIllustrator

    repo = tmp_path / "hub" / "models--tiny--sd" / "snapshots"
    before = shutil.copytree(tiny_models.tiny_sd(), repo / ("a" * 40))
    after = shutil.copytree(before, repo / ("b" * 40))  # the hub moved: the unet was retrained
    unet = UNet2DConditionModel.from_pretrained(after / "unet")
    tiny_models.perturb(unet, 0.05, 99)
    unet.save_pretrained(after / "unet", safe_serialization=True)
    model = tiny_models.tiny_character("unet")
    fine_tuned = saved(model, "unet")
    identities = []
    for snapshot in (before, after):
        monkeypatch.setattr(DiffusionPipeline, "download",
                            classmethod(lambda cls, name, snapshot=snapshot, **kw: str(snapshot)))
        drawer = DiffusersIllustrator(model="tiny/sd", online=True, steps=1,
                                      delta_cache=str(tmp_path / "deltas"))
        identities.append(drawer.identity())
        drawer.set_trainedness([CharacterLook(name="Pip", description="", model=str(model),
                                              trainedness=1.0)])
        params = dict(drawer.pipeline.unet.named_parameters())
        for name, tensor in fine_tuned.items():  # α = 1 is the fine-tuned model on either base
            assert bits_equal(params[name].data, tensor), name
    assert identities[0]["model"] == identities[1]["model"] == "tiny/sd"
    assert identities[0]["weights"] != identities[1]["weights"]
    assert len(list((tmp_path / "deltas").glob("*.safetensors"))) == 2
