"""The procedural illustrator: deterministic pixels, settings that shape it, looks that stay."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.looks import COLOURS, KIND_WORDS, look_of
from engine.backends.image.layout import plan
from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.image.reading import Reading

SAM = CharacterLook("Sam", "a tiny green snail with a yellow shell")
LUNA = CharacterLook("Luna", "a small silver moon with rosy cheeks and a blue nightcap",
                     ("moon", "silver", "rosy cheeks", "blue nightcap"))
OWL = CharacterLook("Owl", "a wise old owl with round glasses", ("owl",))


def request(**changes) -> DrawRequest:
    base = DrawRequest("night-falls", "", "Night falls",
                       "a quiet village at night, rooftops under bright stars",
                       "soft watercolor picture book", (LUNA, OWL), 640, 360, 7)
    return dataclasses.replace(base, **changes)


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def luminance(image) -> float:
    p = pixels(image)
    return float((0.2126 * p[..., 0] + 0.7152 * p[..., 1] + 0.0722 * p[..., 2]).mean())


def test_same_request_same_pixels() -> None:
    first = ProceduralIllustrator().draw(request())
    second = ProceduralIllustrator().draw(request())
    assert first.mode == "RGB" and first.tobytes() == second.tobytes()


@pytest.mark.parametrize("size", [(1280, 720), (320, 180), (180, 320), (333, 199)])
def test_requested_size_is_honoured(size: tuple[int, int]) -> None:
    image = ProceduralIllustrator().draw(request(width=size[0], height=size[1]))
    assert image.size == size


def test_different_seeds_draw_different_pictures() -> None:
    one = ProceduralIllustrator().draw(request(seed=1))
    two = ProceduralIllustrator().draw(request(seed=2))
    assert np.abs(pixels(one) - pixels(two)).mean() > 1.0


def _figure_colour(seed: int) -> np.ndarray:
    """The dominant colour of the snail: pixels that change when it is added to the scene."""
    illustrator = ProceduralIllustrator(texture=0, vignette=0, banner=False)
    plain = request(setting="a round green hill", characters=(), seed=seed)
    empty = pixels(illustrator.draw(plain))
    with_sam = pixels(illustrator.draw(dataclasses.replace(plain, characters=(SAM,))))
    changed = np.abs(with_sam - empty).sum(axis=2) > 30
    assert changed.sum() > 500  # the snail is there
    colours = (with_sam[changed] // 32).astype(int)
    values, counts = np.unique(colours, axis=0, return_counts=True)
    return values[counts.argmax()] * 32 + 16


def test_a_character_keeps_its_look_in_every_scene() -> None:
    yellow = np.array(COLOURS["yellow"])
    for seed in (1, 2, 3):
        dominant = _figure_colour(seed)
        assert np.abs(dominant - yellow).max() <= 40, dominant
    assert look_of(SAM) == look_of(dataclasses.replace(SAM, trainedness=0.3))


def test_night_is_darker_than_day_and_dusk_between() -> None:
    illustrator = ProceduralIllustrator()
    night = luminance(illustrator.draw(request(setting="a quiet village at night")))
    dusk = luminance(illustrator.draw(request(setting="a quiet village at sunset", title="")))
    day = luminance(illustrator.draw(request(setting="a quiet village on a sunny day", title="")))
    assert night + 40 < day
    assert night < dusk < day


def test_the_setting_chooses_the_elements() -> None:
    illustrator = ProceduralIllustrator(texture=0, vignette=0, banner=False)

    def band(setting: str) -> np.ndarray:
        image = illustrator.draw(request(setting=setting, characters=(), title=""))
        return pixels(image)[int(0.62 * 360):int(0.78 * 360)].reshape(-1, 3).mean(axis=0)

    sea, hill, snow = band("the blue sea"), band("a green hill"), band("a snowy hill in winter")
    assert sea[2] > sea[1] > sea[0] and sea[2] > hill[2] + 40  # water is blue
    assert hill[1] > hill[0] and hill[1] > hill[2]  # grass is green
    assert snow.mean() > hill.mean() + 40  # snow is bright


@pytest.mark.parametrize("setting, scene", [
    ("a cosy bedroom at night", "bedroom"), ("a dark cave with glittering stones", "cave"),
    ("under the sea among coral", "underwater"), ("high in the sky above the clouds", "sky"),
    ("a forest by a river in the rain", "outdoor"), ("a snowy village at dawn", "outdoor"),
    ("a little boat on the sea", "outdoor"), ("a castle on a hill at sunset", "outdoor"),
    ("a sandy desert with tall dunes", "outdoor"),
])
def test_every_kind_of_place_draws(setting: str, scene: str) -> None:
    req = request(setting=setting, width=320, height=180)
    assert plan(Reading.of(req), set()).backdrop == scene
    image = ProceduralIllustrator().draw(req)
    assert image.size == (320, 180) and pixels(image).std() > 5


@pytest.mark.parametrize("kind", sorted(set(KIND_WORDS)))
def test_every_kind_of_character_draws(kind: str) -> None:
    character = CharacterLook("X", f"a {kind} with a red scarf and a green hat")
    assert look_of(character).kind == KIND_WORDS[kind]
    image = ProceduralIllustrator(supersample=1).draw(
        request(characters=(character,), width=160, height=90))
    assert image.size == (160, 90)


def test_looks_come_from_the_words() -> None:
    sam = look_of(SAM)
    assert (sam.kind, sam.body, sam.accent) == ("snail", COLOURS["green"], COLOURS["yellow"])
    luna = look_of(LUNA)
    assert luna.kind == "moon" and luna.body == COLOURS["silver"] and luna.cheeks
    assert dict(luna.accessories)["nightcap"] == COLOURS["blue"]
    mia = look_of(CharacterLook("Mia", "a little girl with red hair and a yellow dress"))
    assert (mia.kind, mia.body, mia.accent) == ("girl", COLOURS["yellow"], COLOURS["red"])
    stranger = CharacterLook("Zib", "a mysterious visitor")
    assert look_of(stranger).kind == "blob" and look_of(stranger) == look_of(stranger)


def test_the_title_banner_is_drawn_and_can_be_switched_off() -> None:
    titled = pixels(ProceduralIllustrator().draw(request(title="The Search")))
    untitled = pixels(ProceduralIllustrator().draw(request(title="")))
    top = slice(0, int(0.2 * 360)), slice(200, 440)
    assert np.abs(titled[top] - untitled[top]).mean() > 10
    off = pixels(ProceduralIllustrator(banner=False).draw(request(title="The Search")))
    assert np.array_equal(off, untitled)


def test_the_title_sits_inside_its_banner() -> None:
    image = pixels(ProceduralIllustrator(texture=0, vignette=0).draw(
        request(title="A Little Boat On The Sea", setting="a sunny meadow", characters=())))
    middle = image[:, 260:380]
    cream = ((middle[..., 0] > 235) & (middle[..., 1] > 228) & (middle[..., 2] > 205)).any(axis=1)
    ink = ((middle[..., 0] < 130) & (middle[..., 1] < 100) & (middle[..., 2] < 130)).any(axis=1)
    cream_rows, ink_rows = np.flatnonzero(cream[:100]), np.flatnonzero(ink[:100])
    assert len(ink_rows) > 5
    assert cream_rows.min() < ink_rows.min() and ink_rows.max() < cream_rows.max()


def test_identity_names_version_and_settings() -> None:
    identity = ProceduralIllustrator(supersample=1).identity()
    assert identity["backend"] == "procedural" and identity["supersample"] == 1
    assert "version" in identity


def test_the_config_file_builds_it() -> None:
    from pathlib import Path

    from omegaconf import OmegaConf

    from engine.config import build_backend

    conf = OmegaConf.load(Path(__file__).resolve().parents[3] / "conf/image/procedural.yaml")
    illustrator = build_backend("image", conf)
    assert isinstance(illustrator, ProceduralIllustrator)
    assert illustrator.identity()["supersample"] == conf.supersample


@settings(max_examples=25, deadline=None)
@given(setting=st.text(max_size=60), description=st.text(max_size=60), title=st.text(max_size=30),
       style=st.text(max_size=30), width=st.integers(1, 200), height=st.integers(1, 200),
       seed=st.integers(0, 2**31 - 1), language=st.sampled_from(["en", "fr", "es", "de", "zh",
                                                                 "pt-BR", ""]))
def test_any_words_and_size_draw(setting: str, description: str, title: str, style: str,
                                 width: int, height: int, seed: int, language: str) -> None:
    character = CharacterLook("Q", description, tuple(description.split()[:3]))
    req = request(setting=setting, title=title, style=style, characters=(character,),
                  width=width, height=height, seed=seed, language=language)
    image = ProceduralIllustrator(supersample=1).draw(req)
    assert image.size == (width, height) and image.mode == "RGB"
    said = ProceduralIllustrator().describe(req)
    assert set(said["understood"]).isdisjoint(said["not_understood"])
