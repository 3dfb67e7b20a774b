"""tagger=vit on a tiny ViT whose classifier bias makes known labels pass the threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from engine.backends.tagger import TagRequest  # noqa: E402
from engine.backends.tagger.vit import ViTTagger  # noqa: E402
from engine.errors import BackendError, ConfigError  # noqa: E402
from tests import tiny_models  # noqa: E402


@pytest.fixture()
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "pip.png"
    image = Image.new("RGBA", (40, 50), (0, 0, 0, 0))
    image.paste((230, 120, 40, 255), (10, 10, 30, 45))
    image.save(path)
    return path


def test_labels_over_the_threshold_become_tags_most_confident_first(reference: Path):
    tagger = ViTTagger(model=str(tiny_models.tiny_vit()), exclude=["general"])
    # labels: fox, long_hair, red_scarf, general; the bias passes fox, long_hair and general
    assert tagger.tag(TagRequest(reference)) == ("fox", "long hair")
    assert tagger.tag(TagRequest(reference)) == ("fox", "long hair")  # deterministic


def test_settings_shape_the_tags(reference: Path):
    folder = str(tiny_models.tiny_vit())
    assert ViTTagger(model=folder, underscores=True).tag(TagRequest(reference)) == (
        "fox", "long_hair", "general")
    assert ViTTagger(model=folder, max_tags=1).tag(TagRequest(reference)) == ("fox",)
    everything = ViTTagger(model=folder).tag(TagRequest(reference, threshold=0.01))
    assert set(everything) == {"fox", "long hair", "red scarf", "general"}
    assert ViTTagger(model=folder).tag(TagRequest(reference, threshold=0.99)) == ()


def test_identity_and_refusals(tmp_path: Path, reference: Path):
    identity = ViTTagger(model=str(tiny_models.tiny_vit())).identity()
    assert identity["backend"] == "vit" and identity["weights"] and identity["threshold"] == 0.35
    with pytest.raises(ConfigError, match="threshold"):
        ViTTagger(model="x", threshold=1.5)
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"never unpickled")
    with pytest.raises(BackendError, match="refusing to load the pickled checkpoint"):
        ViTTagger(model=str(tmp_path / "pickled")).tag(TagRequest(reference))
    with pytest.raises(BackendError, match="no model folder"):
        ViTTagger(model=str(tmp_path / "missing")).tag(TagRequest(reference))
    with pytest.raises(BackendError, match="cannot read the reference image"):
        ViTTagger(model=str(tiny_models.tiny_vit())).tag(TagRequest(tmp_path / "none.png"))
