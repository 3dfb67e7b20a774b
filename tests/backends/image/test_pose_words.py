"""A pose word is a pose only where the text means it: whole word forms, not negated, not a
noun compound; a scene's words give a pose only to a character they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.pose_words import POSES, described, negated
from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.image.reading import Reading, line_poses
from engine.dsl.parse import parse_text
from engine.stages.draw import DrawSettings, build_requests

HOOT = CharacterLook("Hoot", "a little brown owl")
DOT = CharacterLook("Dot", "a small ladybird")
MOLE = CharacterLook("Mole", "a little mole")
PIP = CharacterLook("Pip", "a small fox")
CAST = (HOOT, DOT, MOLE, PIP)


def narrated(text: str, language: str = "en", cast=CAST) -> dict[str, str]:
    return dict(line_poses([(None, text, None)], cast, language))


def scene(setting: str, prompt: str = "") -> dict[str, str]:
    request = DrawRequest("s", prompt or setting, "", setting, "", CAST, 96, 54, 1)
    return dict(Reading.of(request).poses)


SAID = [
    # what worked before still works
    ("Hoot sleeps.", {"Hoot": "sleeping"}),
    ("Dot hugs Mole.", {"Dot": "hugging", "Mole": "hugging"}),  # hugged, Mole hugs back
    ("Dot hugs the tree by the pond.", {"Dot": "hugging"}),
    ("Hoot flew over the hill.", {"Hoot": "flying"}),
    ("Dot points at the moon.", {"Dot": "pointing"}),
    ("Hoot is sleeping soundly.", {"Hoot": "sleeping"}),
    ("The fox sleeping under a tree.", {"Pip": "sleeping"}),
    ("Dot sat down and Mole hopped.", {"Dot": "sitting", "Mole": "jumping"}),
    # negated in its clause
    ("Hoot could not sleep.", {}),
    ("Hoot never flies at night.", {}),
    ("Hoot didn't sleep.", {}),
    ("Hoot doesn't fly.", {}),
    ("Hoot can't sleep.", {}),
    ("Hoot cannot fly.", {}),
    ("Hoot couldn’t sleep a wink.", {}),
    ("Hoot won't sleep.", {}),
    ("Hoot wasn't sleeping.", {}),
    ("Hoot no longer flies.", {}),
    ("Hoot is not yet flying.", {}),
    ("Nobody hugs Mole.", {}),
    ("Hoot did not run or jump.", {}),
    ("Hoot could not sleep, so Mole hugged him.", {"Mole": "hugging"}),
    ("Dot did not run and Pip jumped.", {"Pip": "jumping"}),
    ("Without a word Hoot flew away.", {"Hoot": "flying"}),
    ("Hoot could not sleep, but Dot flew.", {"Dot": "flying"}),
    # whole words, not prefixes
    ("Hoot is a hugely happy owl.", {}),
    ("Dot sees a huge hill.", {}),
    # a participle describing a noun is no pose, unless the noun is a character
    ("Dot wears a pointed hat.", {}),
    ("Hoot zipped up his sleeping bag.", {}),
    ("Dot sits on a flying carpet.", {"Dot": "sitting"}),
    ("In the sitting room, Dot sleeps.", {"Dot": "sleeping"}),
    ("Dot watches the sleeping fox.", {"Pip": "sleeping"}),
    # everyone
    ("Everyone sleeps.", {"Hoot": "sleeping", "Dot": "sleeping", "Mole": "sleeping",
                          "Pip": "sleeping"}),
]


@pytest.mark.parametrize("text, poses", SAID)
def test_a_line_gives_a_pose_only_where_it_means_one(text: str, poses: dict) -> None:
    assert narrated(text) == poses


SCENES = [
    ("a huge puddle by the barn", "", {}),
    ("a quiet sitting room", "", {}),
    ("a sleeping bag by the fire", "", {}),
    ("birds flying over the lake", "", {}),  # no one of the cast flies
    ("a meadow", "nobody hugs Mole", {}),
    ("a meadow", "Hoot sleeping", {"Hoot": "sleeping"}),
    ("a meadow", "under the stars sleep Hoot and Dot", {"Hoot": "sleeping", "Dot": "sleeping"}),
    ("a meadow", "everyone sitting by the fire", {n.name: "sitting" for n in CAST}),
]


@pytest.mark.parametrize("setting, prompt, poses", SCENES)
def test_a_scene_gives_a_pose_only_to_a_character_it_names(setting: str, prompt: str,
                                                           poses: dict) -> None:
    assert scene(setting, prompt) == poses


OTHER_LANGUAGES = [
    ("fr", "un petit renard", "Le renard ne saute pas.", {}),
    ("fr", "un petit renard", "Le renard n'arrive pas à dormir.", {}),
    ("fr", "un petit renard", "Le renard regarde une plante.", {}),  # not 'plane'
    ("fr", "un petit renard", "Le renard plane.", {"Pip": "flying"}),
    ("es", "un zorro pequeño", "El zorro no duerme.", {}),
    ("es", "un zorro pequeño", "El zorro duerme.", {"Pip": "sleeping"}),
    ("de", "ein kleiner Fuchs", "Der Fuchs schläft nicht.", {}),
    ("de", "ein kleiner Fuchs", "Der Fuchs kann nicht schlafen.", {}),
    ("de", "ein kleiner Fuchs", "Der Fuchs schläft.", {"Pip": "sleeping"}),
    ("zh", "一只小狐狸", "狐狸睡不着。", {}),
    ("zh", "一只小狐狸", "狐狸没有跳。", {}),
    ("zh", "一只小狐狸", "狐狸在雪里跳。", {"Pip": "jumping"}),
]


@pytest.mark.parametrize("language, fox, text, poses", OTHER_LANGUAGES)
def test_negation_is_read_in_the_story_language(language: str, fox: str, text: str,
                                                 poses: dict) -> None:
    assert narrated(text, language, (CharacterLook("Pip", fox),)) == poses


def test_a_direction_that_says_not_is_no_pose() -> None:
    assert line_poses([("Hoot", "Hello.", "not sleeping")], CAST, "en") == ()
    assert line_poses([("Hoot", "Hello.", "sleepily waving")], CAST, "en") == (
        ("Hoot", "waving"),)


def test_the_english_pose_words_are_whole_word_forms() -> None:
    for pose, pattern in POSES["en"].items():
        assert "\\w" not in pattern, pose  # 'hug\\w*' was 'huge'


def test_negation_and_noun_compounds_read_the_words_around_the_pose() -> None:
    def nobody(span: str) -> bool:
        return False

    assert negated("hoot could not ", ".", "en", nobody)
    assert not negated("hoot could ", ".", "en", nobody)
    assert not negated("dot did not run and pip ", ".", "en", lambda span: "pip" in span)
    assert described("a quiet ", "sitting", " room", "en", nobody) == "room"
    assert described("hoot is ", "sitting", " still", "en", nobody) is None
    assert described("a ", "sitting", " room", "fr", nobody) is None  # English only


STORY = """title: Hoot
language: en

character Hoot
  description: a little brown owl

scene one
  setting: {setting}
  with: Hoot
  "{line}"
"""


@pytest.mark.parametrize("setting, line, poses", [
    ("a huge puddle by the barn", "Hoot could not sleep.", {}),
    ("a quiet sitting room", "Hoot never flies at night.", {}),
    ("a quiet sitting room", "Hoot flew over the hill.", {"Hoot": "flying"}),
])
def test_the_picture_of_a_story_shows_what_its_words_say(tmp_path: Path, setting: str,
                                                         line: str, poses: dict) -> None:
    story, problems = parse_text(STORY.format(setting=setting, line=line),
                                 str(tmp_path / "hoot.story"))
    assert not [p for p in problems if p.severity == "error"]
    [request] = build_requests(story, DrawSettings(96, 54, None, 1.0, 1))
    assert ProceduralIllustrator().describe(request)["poses"] == poses
