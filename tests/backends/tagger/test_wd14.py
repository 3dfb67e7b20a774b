"""tagger=wd14 on a tiny ONNX model with the published signature: a fixed map of the mean colour."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402
from PIL import Image  # noqa: E402

from engine.backends.tagger import TagRequest  # noqa: E402
from engine.backends.tagger.wd14 import WD14Tagger, square_on_white, tag_text  # noqa: E402
from engine.errors import BackendError, ConfigError  # noqa: E402

# name, category, and the logit as a map of the picture's mean colour (B, G, R in 0..1) + bias
TAGS = [
    ("general", 9, (0, 0, 0), 2.0),
    ("sensitive", 9, (0, 0, 0), 0.0),
    ("blue_theme", 0, (10, 0, -10), 0.0),
    ("red_theme", 0, (-10, 0, 10), 0.0),
    ("long_hair", 0, (0, 0, 0), -0.2),     # p = 0.450 on every picture
    ("^_^", 0, (0, 10, -10), 0.0),
    ("pip_(storyreel)", 4, (-10, 0, 10), -2.0),
]
SIZE = 448


def build_tagger_folder(folder: Path, size: int = SIZE, tags=TAGS) -> Path:
    """model.onnx: input_1:0 [N, size, size, 3] float → sigmoid(mean colour / 255 · W + b);
    selected_tags.csv: tag_id,name,category,count."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = np.array([t[2] for t in tags], dtype=np.float32).T / 255.0  # (3, T), per 0..255
    bias = np.array([t[3] for t in tags], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["input_1:0"], ["mean"], axes=[1, 2], keepdims=0),
         helper.make_node("MatMul", ["mean", "W"], ["logits"]),
         helper.make_node("Add", ["logits", "b"], ["biased"]),
         helper.make_node("Sigmoid", ["biased"], ["predictions_sigmoid"])],
        "tiny-wd14",
        [helper.make_tensor_value_info("input_1:0", TensorProto.FLOAT, ["batch", size, size, 3])],
        [helper.make_tensor_value_info("predictions_sigmoid", TensorProto.FLOAT,
                                       ["batch", len(tags)])],
        initializer=[helper.make_tensor("W", TensorProto.FLOAT, weights.shape, weights.ravel()),
                     helper.make_tensor("b", TensorProto.FLOAT, bias.shape, bias)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    rows = ["tag_id,name,category,count"] + [f"{100 + i},{name},{category},{1000 - i}"
                                             for i, (name, category, _, _) in enumerate(tags)]
    (folder / "selected_tags.csv").write_text("\n".join(rows) + "\n")
    return folder


def expected_probabilities(rgb: tuple[int, int, int]) -> dict[str, float]:
    """What the tiny model gives a picture of one colour: the test's own arithmetic."""
    bgr = np.array(rgb[::-1], dtype=np.float64) / 255.0
    return {name: float(1 / (1 + np.exp(-(bgr @ np.array(w, dtype=np.float64) + b))))
            for name, _, w, b in TAGS}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return build_tagger_folder(tmp_path_factory.mktemp("wd14") / "wd-tiny-tagger")


def picture(folder: Path, rgb: tuple[int, int, int], size=(60, 60)) -> Path:
    path = folder / f"{'-'.join(map(str, rgb))}-{size[0]}x{size[1]}.png"
    Image.new("RGB", size, rgb).save(path)
    return path


def test_padding_is_white_centred_and_channels_are_bgr():
    image = Image.new("RGBA", (4, 1), (10, 20, 30, 255))
    image.putpixel((3, 0), (200, 100, 50, 0))  # transparent: white, as the taggers were trained
    pixels = square_on_white(image, 4)
    assert pixels.dtype == np.float32 and pixels.shape == (4, 4, 3)
    white = [255.0, 255.0, 255.0]
    expected = np.array([[white] * 4,                     # (4 - 1) // 2 = 1 row above
                         [[30.0, 20.0, 10.0]] * 3 + [white],
                         [white] * 4, [white] * 4], dtype=np.float32)
    np.testing.assert_array_equal(pixels, expected)
    tall = square_on_white(Image.new("RGB", (1, 3), (0, 0, 255)), 3)
    assert tall[:, 0].tolist() == [white] * 3 and tall[:, 1].tolist() == [[255.0, 0, 0]] * 3
    resized = square_on_white(Image.new("RGB", (10, 10), (1, 2, 3)), 448)
    assert resized.shape == (448, 448, 3) and set(np.unique(resized[..., 0])) == {3.0}


def test_underscores_become_spaces_but_emoticons_keep_theirs():
    assert tag_text("long_hair") == "long hair" and tag_text("pip_(storyreel)") == "pip (storyreel)"
    assert tag_text("^_^") == "^_^" and tag_text("||_||") == "||_||"


@pytest.mark.parametrize("rgb", [(20, 40, 230), (230, 120, 40), (40, 220, 30), (200, 180, 190)])
def test_tags_are_the_model_scores_over_each_category_threshold(folder: Path, tmp_path: Path,
                                                                 rgb: tuple[int, int, int]):
    tagger = WD14Tagger(str(folder))
    got = tagger.tag(TagRequest(picture(tmp_path, rgb)))
    p = expected_probabilities(rgb)
    wanted = [(name, category) for name, category, _, _ in TAGS
              if (category == 0 and p[name] >= 0.35) or (category == 4 and p[name] >= 0.85)]
    wanted.sort(key=lambda pair: -p[pair[0]])
    assert got == tuple(tag_text(name) for name, _ in wanted)
    assert tagger._size == SIZE  # read from the model's input shape


def test_each_category_has_its_own_threshold(folder: Path, tmp_path: Path):
    orange = picture(tmp_path, (230, 120, 40))
    assert WD14Tagger(str(folder)).tag(TagRequest(orange)) == (
        "red theme", "pip (storyreel)", "long hair")
    purple = picture(tmp_path, (180, 60, 120))  # the character scores 0.59: a look, not a name
    assert expected_probabilities((180, 60, 120))["pip_(storyreel)"] == pytest.approx(0.587, 0.01)
    assert "pip (storyreel)" not in WD14Tagger(str(folder)).tag(TagRequest(purple))
    lenient = WD14Tagger(str(folder), character_threshold=0.5).tag(TagRequest(purple))
    assert "pip (storyreel)" in lenient
    strict = WD14Tagger(str(folder), general_threshold=0.5).tag(TagRequest(orange))
    assert strict == ("red theme", "pip (storyreel)")  # long hair (0.45) is left out
    assert WD14Tagger(str(folder)).tag(TagRequest(orange, threshold=0.5)) == strict


def test_ratings_only_when_asked_and_then_the_likeliest_one(folder: Path, tmp_path: Path):
    blue = picture(tmp_path, (20, 40, 230))
    assert not {"general", "sensitive"} & set(WD14Tagger(str(folder)).tag(TagRequest(blue)))
    rated = WD14Tagger(str(folder), include_rating=True).tag(TagRequest(blue))
    assert "general" in rated and "sensitive" not in rated
    assert rated.index("general") == 1  # 0.88: after blue theme (0.9995), before long hair
    few = WD14Tagger(str(folder), max_tags=1, exclude=["blue theme"]).tag(TagRequest(blue))
    assert few == ("^_^",)  # 0.69, the most confident tag left


def test_the_input_size_comes_from_the_model(tmp_path: Path):
    small = build_tagger_folder(tmp_path / "small", size=64)
    tagger = WD14Tagger(str(small))
    assert tagger.tag(TagRequest(picture(tmp_path, (230, 120, 40), (30, 50)))) != ()
    assert tagger._size == 64


def test_a_folder_lacking_the_published_files_is_a_clear_error(folder: Path, tmp_path: Path):
    image = picture(tmp_path, (1, 2, 3))
    with pytest.raises(BackendError, match="(?s)no tagger folder at .*hf download"):
        WD14Tagger(str(tmp_path / "nowhere")).tag(TagRequest(image))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackendError, match="lacks model.onnx and selected_tags.csv"):
        WD14Tagger(str(tmp_path / "empty")).tag(TagRequest(image))
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(folder / "model.onnx", half)
    with pytest.raises(BackendError, match="half lacks selected_tags.csv\n"):
        WD14Tagger(str(half)).tag(TagRequest(image))
    (half / "selected_tags.csv").write_text("tag_id,name,category,count\n1,fox,0,5\n")
    with pytest.raises(BackendError, match="scores 7 tags, selected_tags.csv lists 1"):
        WD14Tagger(str(half)).tag(TagRequest(image))
    (half / "selected_tags.csv").write_text("id,label\n1,fox\n")
    with pytest.raises(BackendError, match="not a tagger's tag list"):
        WD14Tagger(str(half)).tag(TagRequest(image))
    assert WD14Tagger(str(tmp_path / "empty")).identity()["weights"] is None


def test_settings_are_checked_and_shape_the_identity(folder: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="general_threshold"):
        WD14Tagger(str(folder), general_threshold=1.5)
    with pytest.raises(ConfigError, match="character_threshold"):
        WD14Tagger(str(folder), character_threshold=0)
    with pytest.raises(ConfigError, match="device"):
        WD14Tagger(str(folder), device="tpu")
    identity = WD14Tagger(str(folder)).identity()
    assert identity["backend"] == "wd14" and identity["weights"]
    assert identity["onnxruntime"] and identity["general_threshold"] == 0.35
    assert WD14Tagger(str(folder), include_rating=True).identity() != identity
    copy = shutil.copytree(folder, tmp_path / "elsewhere" / "renamed")
    assert WD14Tagger(str(copy)).identity() == identity  # the files' bytes name the model
    (copy / "selected_tags.csv").write_text(
        (copy / "selected_tags.csv").read_text().replace("long_hair", "short_hair"))
    assert WD14Tagger(str(copy)).identity()["weights"] != identity["weights"]
