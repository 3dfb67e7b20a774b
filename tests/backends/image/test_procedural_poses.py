"""What characters do and look like, in the story's language: poses from lines, descriptions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.looks import COLOURS, look_of
from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.image.reading import Reading, line_poses
from engine.cache import Cache
from engine.dsl.parse import parse_text
from engine.manifest import Recorder
from engine.stages.draw import DrawSettings, build_requests, draw_one
from engine.steps import Step

PLAIN = ProceduralIllustrator(texture=0, vignette=0, banner=False)
MIA = CharacterLook("Mia", "a little girl with a yellow raincoat")


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Top, bottom, left, right of the True pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows.min(), rows.max(), cols.min(), cols.max()


def figure_mask(picture: np.ndarray, empty: np.ndarray) -> np.ndarray:
    return np.abs(picture - empty).sum(axis=2) > 40


POSE_LINES = [
    ("en", [(None, "Mia waves.", None)], {"Mia": "waving"}),
    ("en", [(None, "Mia happily waves at the big waves.", None)], {"Mia": "waving"}),
    ("en", [(None, "Mia watches the waves.", None)], {}),
    ("en", [(None, "The waves crash on the rocks near Mia.", None)], {}),
    ("en", [("Mia", "Hello!", "waving")], {"Mia": "waving"}),
    ("en", [("Mia", "I am running!", None)], {}),  # what she says is not what she does
    ("en", [(None, "Mia jumps, and the fox points at the moon.", None)],
     {"Mia": "jumping", "Pip": "pointing"}),
    ("en", [(None, "Pip sits.", None), (None, "Pip runs.", None)], {"Pip": "sitting"}),
    ("fr", [(None, "Le renard saute dans la neige.", None)], {"Pip": "jumping"}),
    ("fr", [("Mia", "Coucou !", "fait signe")], {"Mia": "waving"}),
    ("es", [(None, "El zorro duerme bajo el árbol.", None)], {"Pip": "sleeping"}),
    ("de", [(None, "Der Fuchs springt über den Bach.", None)], {"Pip": "jumping"}),
    ("zh", [(None, "狐狸在雪里跳。", None)], {"Pip": "jumping"}),
]
FOX = {"en": "a small fox", "fr": "un petit renard", "es": "un zorro pequeño",
       "de": "ein kleiner Fuchs", "zh": "一只小狐狸"}


@pytest.mark.parametrize("language, lines, poses", POSE_LINES)
def test_lines_say_what_characters_do(language: str, lines: list, poses: dict) -> None:
    cast = (MIA, CharacterLook("Pip", FOX[language]))
    assert dict(line_poses(lines, cast, language)) == poses


def test_a_sea_of_waves_is_no_pose_and_a_character_who_waves_is() -> None:
    robo = CharacterLook("Robo", "a robot")
    waving = Reading.of(DrawRequest("s", "Mia waves at Robo", "", "a meadow", "", (MIA, robo),
                                    96, 54, 1))
    assert waving.poses == (("Mia", "waving"),) and "waves" not in waving.elements
    sea = Reading.of(DrawRequest("s", "Mia looks at the waves", "", "a meadow", "", (MIA,),
                                 96, 54, 1))
    assert sea.poses == () and "waves" in sea.elements


STORY = """title: Wave
language: en

character Mia
  description: a little girl with a yellow raincoat

scene hello
  setting: a quiet meadow
  with: Mia
  "{line}"
"""


def _request(tmp_path: Path, line: str) -> DrawRequest:
    story, problems = parse_text(STORY.format(line=line), str(tmp_path / "wave.story"))
    assert not [p for p in problems if p.severity == "error"]
    [request] = build_requests(story, DrawSettings(320, 180, None, 1.0, 1))
    return request


def _draw(tmp_path: Path, line: str) -> tuple[np.ndarray, bool]:
    """The scene's picture through the cache, and whether it was drawn (not reused)."""
    step = Step(Cache(tmp_path / "cache"), Recorder())
    path = draw_one(_request(tmp_path, line), PLAIN, step, "hello")
    [artifact] = step.recorder.artifacts
    with Image.open(path) as image:
        return pixels(image.convert("RGB")), artifact.made


def test_a_pose_word_in_a_line_redraws_the_picture_and_any_other_edit_does_not(
        tmp_path: Path) -> None:
    standing, made = _draw(tmp_path, "Mia looks at the sky.")
    assert made
    again, made = _draw(tmp_path, "Mia looks up at the lovely sky and smiles.")
    assert not made and np.array_equal(again, standing)  # no pose word changed: cached
    waving, made = _draw(tmp_path, "Mia looks at the sky. Mia waves.")
    assert made

    nobody = dataclasses.replace(_request(tmp_path, "x"), characters=())
    empty = pixels(PLAIN.draw(nobody))
    top, bottom, left, right = box(figure_mask(standing, empty))
    tall = bottom - top
    arm = figure_mask(waving, empty)
    arm[:, left:right + 1] = False  # beside the standing figure ...
    arm[top + tall // 3:] = False  # ... at the height of its head: the raised arm
    assert arm.sum() > 20


def _pose_box(pose: str) -> tuple[int, int, int, int]:
    plain = DrawRequest("p", "a quiet meadow", "", "a quiet meadow", "", (), 640, 360, 2)
    empty = pixels(PLAIN.draw(plain))
    posed = dataclasses.replace(plain, characters=(MIA,), poses=(("Mia", pose),) if pose else ())
    return box(figure_mask(pixels(PLAIN.draw(posed)), empty))


def test_jumping_lifts_the_figure_and_pointing_reaches_out() -> None:
    top, bottom, left, right = _pose_box("")
    tall, wide = bottom - top, right - left
    jump = _pose_box("jumping")
    assert jump[0] < top - 0.12 * tall  # off the ground: the head is higher
    point = _pose_box("pointing")
    assert point[3] - point[2] > wide + 0.15 * tall  # an arm straight out to one side


def test_a_scene_pose_wins_over_a_line_pose() -> None:
    request = DrawRequest("s", "Mia sleeping", "", "a meadow", "", (MIA,), 96, 54, 1,
                          poses=(("Mia", "waving"),))
    assert Reading.of(request).poses == (("Mia", "sleeping"),)
    lines_only = dataclasses.replace(request, prompt="a meadow")
    assert Reading.of(lines_only).poses == (("Mia", "waving"),)


DESCRIPTIONS = [
    ("fr", "un petit renard roux avec une écharpe verte et des bottes jaunes",
     "a little ginger fox with a green scarf and yellow boots"),
    ("es", "un caracol verde con una concha amarilla", "a green snail with a yellow shell"),
    ("de", "ein kleiner Roboter mit einer blinkenden roten Antenne",
     "a little robot with a blinking red antenna"),
    ("de", "eine Katze mit einem hellblauen Schal", "a cat with a light blue scarf"),
    ("zh", "一只戴着蓝色睡帽的银色小月亮", "a little silver moon with a blue nightcap"),
    ("fr", "une fille aux cheveux roux et une robe jaune", "a girl with ginger hair and a yellow dress"),
    ("fr", "a small red fox", "a small red fox"),  # English words still work
]


@pytest.mark.parametrize("language, description, english", DESCRIPTIONS)
def test_descriptions_are_read_in_the_story_language(language: str, description: str,
                                                     english: str) -> None:
    def parts(look) -> tuple:
        return look.kind, dict(look.accessories), dict(look.parts), look.size, look.cheeks

    there = look_of(CharacterLook("X", description), language)
    here = look_of(CharacterLook("X", english))
    assert parts(there) == parts(here)
    if there.kind not in ("girl", "boy", "child"):  # a person's clothes and hair vary by name
        assert (there.body, there.accent) == (here.body, here.accent)
    else:
        assert (there.body, there.accent) == (COLOURS["yellow"], COLOURS["ginger"])


def test_a_french_red_antenna_is_drawn_red() -> None:
    plain = DrawRequest("s", "un pré", "", "un pré", "", (), 640, 360, 3, "fr")
    empty = pixels(PLAIN.draw(plain))
    robo = CharacterLook("Robo", "un robot avec une antenne rouge")
    drawn = pixels(PLAIN.draw(dataclasses.replace(plain, characters=(robo,))))
    mask = figure_mask(drawn, empty)
    top, bottom, _, _ = box(mask)
    tip = drawn[top:top + (bottom - top) // 12][mask[top:top + (bottom - top) // 12]]
    assert ((tip[:, 0] > 170) & (tip[:, 1] < 110) & (tip[:, 2] < 110)).sum() > 5
