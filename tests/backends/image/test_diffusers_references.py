"""image.reference_mode: design sheets steer a tiny pipeline (IP-Adapter, image-to-image)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from engine.backends.image import CharacterLook, DrawRequest  # noqa: E402
from engine.backends.image.diffusers import DiffusersIllustrator  # noqa: E402
from engine.backends.image.procedural import ProceduralIllustrator  # noqa: E402
from engine.cache import Cache  # noqa: E402
from engine.errors import BackendError, ConfigError  # noqa: E402
from engine.manifest import Recorder  # noqa: E402
from engine.stages.draw import draw_one  # noqa: E402
from engine.steps import Step  # noqa: E402
from tests import tiny_models  # noqa: E402


def sheet(path: Path, colour: str) -> Path:
    """A design sheet: a coloured figure on white."""
    image = Image.new("RGB", (48, 64), "white")
    image.paste(Image.new("RGB", (24, 40), colour), (12, 12))
    image.save(path)
    return path


def request(*characters: CharacterLook, seed: int = 3) -> DrawRequest:
    return DrawRequest(scene_id="hill", prompt="a fox on a hill", title="Hill",
                       setting="a snowy hill", style="watercolor", characters=characters,
                       width=64, height=48, seed=seed)


def fox(reference: Path | None, alpha: float = 1.0) -> CharacterLook:
    return CharacterLook(name="Pip", description="a small fox", tags=("orange fur",),
                         reference=str(reference) if reference else None, trainedness=alpha)


def illustrator(tmp_path: Path, steps: int = 3, **settings) -> DiffusersIllustrator:
    return DiffusersIllustrator(model=str(tiny_models.tiny_sd()), steps=steps, max_pixels=64 * 48,
                                delta_cache=str(tmp_path / "deltas"), **settings)


def adapter(tmp_path: Path, **settings) -> DiffusersIllustrator:
    return illustrator(tmp_path, reference_mode="ip_adapter",
                       ip_adapter=str(tiny_models.tiny_ip_adapter()), **settings)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_an_ip_adapter_steers_a_scene_by_its_reference_at_its_trainedness(tmp_path: Path):
    red, blue = sheet(tmp_path / "red.png", "red"), sheet(tmp_path / "blue.png", "blue")
    plain = illustrator(tmp_path).draw(request(fox(None)))
    drawer = adapter(tmp_path, reference_strength=1.0)
    steered = drawer.draw(request(fox(red)))
    assert steered.size == (64, 48)
    assert np.abs(pixels(steered) - pixels(plain)).max() > 8
    assert not np.array_equal(pixels(steered), pixels(drawer.draw(request(fox(blue)))))
    assert np.array_equal(pixels(steered), pixels(drawer.draw(request(fox(red)))))
    half = drawer.draw(request(fox(red, alpha=0.5)))
    assert not np.array_equal(pixels(half), pixels(steered))
    # α = 0, or a scene whose characters have no reference: the adapter adds nothing
    for unsteered in (request(fox(red, alpha=0.0)), request(fox(None))):
        assert np.abs(pixels(drawer.draw(unsteered)) - pixels(plain)).max() <= 1
    said = drawer.describe(request(fox(red, alpha=0.5)))["reference"]
    assert said == {"mode": "ip_adapter", "characters": ["Pip"], "steering": 0.5}


def test_img2img_starts_from_the_references_at_the_scene_strength(tmp_path: Path):
    red, blue = sheet(tmp_path / "red.png", "red"), sheet(tmp_path / "blue.png", "blue")
    plain = illustrator(tmp_path).draw(request(fox(None)))
    drawer = illustrator(tmp_path, reference_mode="img2img", reference_strength=0.9)
    steered = drawer.draw(request(fox(red)))
    assert steered.size == (64, 48)
    assert not np.array_equal(pixels(steered), pixels(plain))
    assert not np.array_equal(pixels(steered), pixels(drawer.draw(request(fox(blue)))))
    assert not np.array_equal(pixels(steered), pixels(drawer.draw(request(fox(red, 0.3)))))
    assert np.array_equal(pixels(drawer.draw(request(fox(None)))), pixels(plain))
    assert drawer.identity()["reference_mode"] == "img2img"


def test_reference_settings_are_checked(tmp_path: Path):
    with pytest.raises(ConfigError, match="reference_mode must be null or one of"):
        illustrator(tmp_path, reference_mode="controlnet")
    with pytest.raises(ConfigError, match="needs image.ip_adapter"):
        illustrator(tmp_path, reference_mode="ip_adapter")
    with pytest.raises(ConfigError, match="reference_strength"):
        illustrator(tmp_path, reference_strength=1.5)
    pickled = tmp_path / "ip-adapter_sd15.bin"
    pickled.write_bytes(b"not unpickled")
    with pytest.raises(BackendError, match="refusing to load the pickled IP-Adapter"):
        illustrator(tmp_path, reference_mode="ip_adapter", ip_adapter=str(pickled)).draw(request())
    lonely = tmp_path / "lonely" / "ip-adapter.safetensors"
    lonely.parent.mkdir()
    lonely.write_bytes(tiny_models.tiny_ip_adapter().read_bytes())
    with pytest.raises(BackendError, match="no image encoder"):
        illustrator(tmp_path, reference_mode="ip_adapter", ip_adapter=str(lonely)).draw(request())


def test_a_steered_picture_is_keyed_by_its_reference_bytes_and_mode(tmp_path: Path):
    reference = sheet(tmp_path / "pip.png", "red")
    scene = request(fox(reference))
    drawer = illustrator(tmp_path, reference_mode="img2img", steps=2)

    def made(illustrator_: object, asked: DrawRequest = scene) -> bool:
        step = Step(Cache(tmp_path / "cache"), Recorder())
        draw_one(asked, illustrator_, step, "hill")
        return step.recorder.artifacts[-1].made

    assert made(drawer) and not made(drawer)
    moved = tmp_path / "elsewhere.png"
    moved.write_bytes(reference.read_bytes())
    assert not made(drawer, replace(scene, characters=(fox(moved),)))  # content, not path
    sheet(reference, "blue")
    assert made(drawer)  # a redrawn design sheet redraws its scenes
    assert made(illustrator(tmp_path, steps=2))  # no mode: another picture
    procedural = ProceduralIllustrator()
    assert made(procedural)
    sheet(reference, "green")
    assert not made(procedural)  # an illustrator that ignores references keeps its pictures
