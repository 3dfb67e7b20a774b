"""select=clip on a tiny random CLIP: the score formula, shapes and determinism; select=first."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from engine.backends.select import SelectRequest  # noqa: E402
from engine.backends.select.clip import ClipSelector  # noqa: E402
from engine.backends.select.first import FirstSelector  # noqa: E402
from engine.errors import ConfigError  # noqa: E402
from tests import tiny_models  # noqa: E402


def pictures(tmp_path: Path) -> tuple[Path, ...]:
    paths = []
    for i, colour in enumerate(((200, 40, 40), (40, 200, 40), (40, 40, 200))):
        path = tmp_path / f"candidate-{i}.png"
        image = Image.new("RGB", (48, 40), colour)
        image.paste((255, 255, 255), (5 + 10 * i, 5, 20 + 10 * i, 30))
        image.save(path)
        paths.append(path)
    return tuple(paths)


def embeddings(folder: Path, images: list[Image.Image], text: str):
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(folder).eval()
    processor = CLIPProcessor.from_pretrained(folder)
    with torch.no_grad():
        image = model.get_image_features(**processor(images=images, return_tensors="pt"))
        words = model.get_text_features(**processor.tokenizer([text], return_tensors="pt"))
    image = getattr(image, "pooler_output", image)
    words = getattr(words, "pooler_output", words)
    return (torch.nn.functional.normalize(image, dim=-1),
            torch.nn.functional.normalize(words, dim=-1)[0])


def test_scores_are_weighted_prompt_and_reference_similarities(tmp_path: Path):
    folder = tiny_models.tiny_clip()
    candidates = pictures(tmp_path)
    reference = tmp_path / "reference.png"
    Image.new("RGB", (32, 32), (220, 120, 30)).save(reference)
    selector = ClipSelector(model=str(folder), text_weight=0.7, reference_weight=0.3)
    scores = selector.score(SelectRequest("a red fox", candidates, (reference, reference)))
    assert len(scores) == 3 and all(isinstance(s, float) for s in scores)
    opened = [Image.open(p).convert("RGB") for p in candidates]
    image, text = embeddings(folder, opened + [Image.open(reference).convert("RGB")], "a red fox")
    expected = 0.7 * (image[:3] @ text) + 0.3 * (image[:3] @ image[3])
    assert scores == pytest.approx(expected.tolist(), abs=1e-5)
    assert selector.score(SelectRequest("a red fox", candidates, (reference,))) == scores
    # images given in memory score as their files do
    assert selector.score(SelectRequest("a red fox", tuple(opened), (reference,))) == scores


def test_without_references_only_the_prompt_counts(tmp_path: Path):
    folder = tiny_models.tiny_clip()
    candidates = pictures(tmp_path)
    text_only = ClipSelector(model=str(folder), text_weight=2.0).score(
        SelectRequest("a red fox", candidates))
    image, text = embeddings(folder, [Image.open(p).convert("RGB") for p in candidates],
                             "a red fox")
    assert text_only == pytest.approx((2.0 * (image @ text)).tolist(), abs=1e-5)
    assert all(-2.0 <= s <= 2.0 for s in text_only)
    assert ClipSelector(model=str(folder)).score(SelectRequest("x", ())) == ()


def test_a_long_prompt_is_truncated_to_the_models_context(tmp_path: Path):
    selector = ClipSelector(model=str(tiny_models.tiny_clip()))
    scores = selector.score(SelectRequest("a fox " * 200, pictures(tmp_path)))
    assert len(scores) == 3


def test_settings_are_checked_and_shape_the_identity():
    with pytest.raises(ConfigError, match="not both 0"):
        ClipSelector(model="x", text_weight=0, reference_weight=0)
    identity = ClipSelector(model=str(tiny_models.tiny_clip()), text_weight=0.5).identity()
    assert identity["backend"] == "clip" and identity["text_weight"] == 0.5
    assert identity["weights"]


def test_first_picks_the_first_candidate(tmp_path: Path):
    selector = FirstSelector()
    assert selector.score(SelectRequest("p", pictures(tmp_path))) == (1.0, 0.0, 0.0)
    assert selector.score(SelectRequest("p", ())) == ()
    assert selector.identity() == {"backend": "first"}


def test_clip_scores_prompt_and_identity_apart(tmp_path: Path):
    clip = ClipSelector(str(tiny_models.tiny_clip()), text_weight=1.0, reference_weight=1.0)
    red, blue = Image.new("RGB", (32, 32), "red"), Image.new("RGB", (32, 32), "blue")
    red.save(tmp_path / "ref.png")
    both = clip.axes(SelectRequest("a red fox", (red, blue), (tmp_path / "ref.png",)))
    assert len(both) == 2 and both[0][1] == pytest.approx(1.0, abs=1e-5)  # red is its reference
    sums = clip.score(SelectRequest("a red fox", (red, blue), (tmp_path / "ref.png",)))
    assert [round(p + i, 5) for p, i in both] == [round(s, 5) for s in sums]
    assert [i for _, i in clip.axes(SelectRequest("a red fox", (red,)))] == [None]


def test_similarities_are_image_image_cosines(tmp_path: Path):
    clip = ClipSelector(str(tiny_models.tiny_clip()))
    first, second, third = pictures(tmp_path)
    table = clip.similarities([first, second], [first, second, third])
    assert len(table) == 2 and len(table[0]) == 3
    assert table[0][0] == pytest.approx(1.0, abs=1e-5) and table[1][1] == pytest.approx(1.0,
                                                                                       abs=1e-5)
    assert table[0][1] == pytest.approx(table[1][0], abs=1e-5)
