"""The procedural illustrator follows the words: elements, languages, colours, poses, reports."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.image.reading import Reading
from engine.dsl.parse import parse_text
from engine.stages.draw import DRAWING, DrawSettings, build_requests, make_picture
from engine.storyboard import _drawing_html

MIA = CharacterLook("Mia", "a little girl with a yellow raincoat")
ROBO = CharacterLook("Robo", "a robot with a blinking red antenna")
PLAIN = ProceduralIllustrator(texture=0, vignette=0, banner=False)


def request(setting: str, language: str = "en", prompt: str = "", characters=(),
            seed: int = 3, size: tuple[int, int] = (320, 180)) -> DrawRequest:
    return DrawRequest("s", prompt or setting, "", setting, "", tuple(characters), *size, seed,
                       language)


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def luminance(p: np.ndarray) -> np.ndarray:
    return 0.2126 * p[..., 0] + 0.7152 * p[..., 1] + 0.0722 * p[..., 2]


TABLE = [
    # weather
    ("en", "a storm over the village", {"dark clouds", "lightning", "rain", "wind"}),
    ("de", "ein Gewitter über dem Dorf", {"dark clouds", "lightning", "village"}),
    ("en", "dark clouds rolling over the sea, big waves", {"dark clouds", "sea", "big waves"}),
    ("fr", "des nuages sombres sur la colline", {"dark clouds", "hills"}),
    ("es", "lluvia en el pueblo", {"rain", "puddles", "village"}),
    ("zh", "下雨的村庄", {"rain", "village"}),
    ("en", "a snowy meadow", {"snowy ground", "snowflakes"}),
    ("fr", "la neige tombe sur la forêt", {"snowy ground", "snowflakes", "forest"}),
    ("en", "a foggy morning by the lake", {"fog", "lake"}),
    ("de", "Nebel im Wald", {"fog", "forest"}),
    ("en", "a windy hill", {"wind", "hills"}),
    ("es", "viento en la colina", {"wind"}),
    ("en", "a rainbow over the meadow", {"rainbow"}),
    ("zh", "草地上的彩虹", {"rainbow", "hills"}),
    ("fr", "des éclairs dans le ciel", {"lightning"}),
    # water
    ("en", "a sandy beach by the sea", {"sea", "beach"}),
    ("fr", "une plage au bord de la mer", {"sea", "beach"}),
    ("es", "olas grandes en el mar", {"sea", "big waves"}),
    ("en", "a river through the valley", {"river"}),
    ("de", "ein Fluss im Tal", {"river"}),
    ("zh", "湖边的小树", {"lake", "trees"}),
    ("en", "a little boat on the sea", {"sea", "boat"}),
    ("fr", "un bateau sur l'océan", {"sea", "boat"}),
    ("en", "underwater among the coral", {"underwater"}),
    ("es", "bajo el mar", {"underwater"}),
    # sky and space
    ("en", "a grey moon surface under a black sky", {"space", "moon surface", "earth"}),
    ("zh", "月球表面", {"moon surface"}),
    ("en", "planets in outer space", {"space", "stars", "planets"}),
    ("de", "Planeten im Weltall", {"space", "planets"}),
    ("fr", "une fusée dans l'espace", {"space", "rocket"}),
    ("en", "a starry night over the hills", {"stars", "moon", "hills"}),
    ("es", "noche estrellada", {"stars"}),
    ("en", "the northern lights above a frozen lake", {"aurora", "lake"}),
    ("fr", "une aurore boréale", {"aurora", "stars"}),
    # places
    ("en", "a warm kitchen", {"kitchen"}), ("fr", "dans la cuisine", {"kitchen"}),
    ("de", "im Kinderzimmer", {"bedroom"}), ("es", "un dormitorio", {"bedroom"}),
    ("en", "a busy classroom", {"classroom"}), ("zh", "教室里", {"classroom"}),
    ("en", "a dark cave", {"cave"}), ("es", "una cueva", {"cave"}),
    ("en", "a castle on a hill", {"castle", "hills"}), ("de", "ein Schloss", {"castle"}),
    ("en", "a flower garden", {"fence", "flowers"}), ("zh", "花园", {"fence", "flowers"}),
    ("en", "the village market", {"market", "village"}), ("fr", "au marché", {"market"}),
    # seasons
    ("en", "a park in autumn", {"falling leaves", "trees"}),
    ("de", "Herbst im Park", {"falling leaves"}),
    ("es", "invierno en el bosque", {"snowy ground", "forest"}),
    ("en", "a meadow in spring", {"trees", "flowers"}),
]


@pytest.mark.parametrize("language, setting, elements", TABLE)
def test_the_setting_names_what_is_drawn(language: str, setting: str, elements: set[str]) -> None:
    drawn = set(PLAIN.describe(request(setting, language))["elements"])
    assert elements <= drawn, drawn


def test_understood_and_not_understood_words_are_reported() -> None:
    said = PLAIN.describe(request("dark clouds rolling over the sea, big waves"))
    assert said["understood"] == ["dark clouds", "sea", "big waves"]
    assert said["not_understood"] == ["rolling"]
    french = PLAIN.describe(request("une forêt la nuit", "fr"))
    assert (french["understood"], french["not_understood"]) == (["forêt", "nuit"], [])
    assert french["time"] == "night" and "forest" in french["elements"]
    chinese = PLAIN.describe(request("森林里有一只独角兽", "zh"))
    assert chinese["understood"] == ["森林"] and chinese["not_understood"] == ["独角兽"]


def test_colours_and_poses_are_read_in_every_language() -> None:
    for language, setting in (("en", "a red boat on the sea"),
                              ("fr", "un bateau rouge sur la mer"),
                              ("es", "un barco rojo en el mar"),
                              ("de", "ein rotes Boot auf dem Meer"), ("zh", "海上的红色的船")):
        said = PLAIN.describe(request(setting, language))
        assert said["colours"] == {"boat": "#d6403a"}, (language, said)
    cast = (MIA, ROBO)
    reading = Reading.of(request("a meadow", prompt="Mia runs while Robo sleeps", characters=cast))
    assert reading.poses == (("Mia", "running"), ("Robo", "sleeping"))
    reading = Reading.of(request("un pré", "fr", prompt="Mia et Robo se font un câlin",
                                 characters=cast))
    assert reading.poses == (("Mia", "hugging"), ("Robo", "hugging"))


def test_a_night_sky_is_dark_at_the_top_and_a_day_sky_is_not() -> None:
    night = luminance(pixels(PLAIN.draw(request("une forêt la nuit", "fr"))))
    day = luminance(pixels(PLAIN.draw(request("a forest on a sunny day"))))
    assert night[:40].mean() < 60 < 140 < day[:40].mean()


def test_dark_clouds_over_the_sea_show_no_stars_and_a_sea_band() -> None:
    image = pixels(PLAIN.draw(request("dark clouds rolling over the sea at night, big waves")))
    starry = pixels(PLAIN.draw(request("the sea at night under the stars")))
    assert (luminance(starry[:90]) > 200).sum() > 20  # stars twinkle in a clear night sky
    assert (luminance(image[:90]) > 200).sum() == 0  # the clouds hide them
    band = image[120:170].reshape(-1, 3).mean(axis=0)
    assert band[2] > band[0] + 30  # the sea is blue below the clouds


def test_the_moon_surface_is_grey_under_a_black_sky() -> None:
    image = pixels(PLAIN.draw(request("a grey moon surface under a black sky")))
    sky, ground = image[:30].reshape(-1, 3).mean(axis=0), image[150:].reshape(-1, 3).mean(axis=0)
    assert sky.max() < 40 and ground.min() > 110 and np.ptp(ground) < 30


def _figure(character: CharacterLook, setting: str, prompt: str = "") -> np.ndarray:
    """The pixels a character adds to a scene (others zero), and the mask of them."""
    plain = request(setting, prompt=prompt or setting, size=(640, 360))
    empty = pixels(PLAIN.draw(plain))
    drawn = pixels(PLAIN.draw(dataclasses.replace(plain, characters=(character,))))
    return drawn, np.abs(drawn - empty).sum(axis=2) > 40


def test_a_red_antenna_is_red_where_the_antenna_is_drawn() -> None:
    for description, red in (("a robot with a blinking red antenna", True),
                             ("a robot with a blinking blue antenna", False)):
        drawn, mask = _figure(CharacterLook("Robo", description), "a quiet meadow")
        rows = np.flatnonzero(mask.any(axis=1))
        top = slice(rows.min(), rows.min() + (rows.max() - rows.min()) // 12)
        tip = drawn[top][mask[top]]
        reds = (tip[:, 0] > 170) & (tip[:, 1] < 110) & (tip[:, 2] < 110)
        assert (reds.sum() > 5) == red, description


def test_a_character_keeps_its_colours_while_its_pose_changes() -> None:
    def dominant(drawn: np.ndarray, mask: np.ndarray) -> np.ndarray:
        values, counts = np.unique((drawn[mask] // 32).astype(int), axis=0, return_counts=True)
        return values[counts.argmax()]

    shapes, colours = {}, []
    for prompt in ("Mia stands in the meadow", "Mia running", "Mia sleeping", "Mia waving",
                   "Mia sitting"):
        drawn, mask = _figure(MIA, "a quiet meadow", prompt)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        shapes[prompt.split()[1]] = (np.ptp(cols) + 1) / (np.ptp(rows) + 1)
        colours.append(tuple(dominant(drawn, mask)))
    assert len(set(colours)) == 1 and np.abs(np.array(colours[0]) * 32 + 16 -
                                            np.array((250, 215, 60))).max() <= 48
    assert shapes["sleeping"] > 1.6 * shapes["stands"] and shapes["stands"] < 1  # lying down
    assert shapes["waving"] != shapes["stands"] and shapes["running"] != shapes["stands"]


def test_new_elements_draw_the_same_bytes_every_time() -> None:
    for setting in ("a storm at sea with lightning", "un arc-en-ciel au-dessus du château",
                    "宇宙里的火箭和行星", "Nebel im Herbstwald"):
        first = ProceduralIllustrator().draw(request(setting, "fr", characters=(MIA, ROBO)))
        again = ProceduralIllustrator().draw(request(setting, "fr", characters=(MIA, ROBO)))
        assert first.tobytes() == again.tobytes()


def test_the_identity_changed_so_old_pictures_are_redrawn() -> None:
    assert ProceduralIllustrator().identity()["version"] == "8"  # banner: two rows, narrower


def test_the_story_language_reaches_the_request_and_the_record(tmp_path: Path) -> None:
    story, problems = parse_text('language: fr\n\nscene a\n  setting: une forêt la nuit\n'
                                 '  "Il fait noir."\n', str(tmp_path / "a.story"))
    assert not [p for p in problems if p.severity == "error"]
    [req] = build_requests(story, DrawSettings(96, 54, None, 1.0, 1))
    assert req.language == "fr"
    make_picture(PLAIN, req, tmp_path / "image.png")
    record = json.loads((tmp_path / DRAWING).read_text(encoding="utf-8"))
    assert record["understood"] == ["forêt", "nuit"] and "forest" in record["elements"]
    shown = _drawing_html({**record, "not_understood": ["licorne"]})
    assert "forêt, nuit" in shown and "licorne" in shown and "forest" in shown
