"""Prompts built against the real CLIP tokenizer: identity first, each thing once, token kept."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from engine.backends.image import CharacterLook, DrawRequest  # noqa: E402
from engine.backends.image.prompts import (ACTION, LOOKS, SETTING, STYLE, WHO, Phrase,  # noqa: E402
                                           fit, join, negative_phrases, only_heard,
                                           scene_phrases, token_counter, token_limit)
from engine.backends.tts.delivery import heard_only, visible_direction  # noqa: E402
from tests.real_clip import BOS, EOS, VOCAB_SIZE, real_clip_tokenizer  # noqa: E402

STYLE_TEXT = "soft watercolor picture book, warm pastel colors"
SETTING_TEXT = "a quiet village at night, rooftops under bright stars"
LUNA = CharacterLook(name="Luna", description="a small silver moon with rosy cheeks and a blue "
                     "nightcap", tags=("moon", "silver", "rosy cheeks", "blue nightcap"),
                     token="sks moon", model="/models/luna")
OWL = CharacterLook(name="Owl", description="a wise old owl with round glasses and a brown "
                    "feathered cloak")
# What the offline writer fills in: style, setting, then each character's description again.
FILLED = ("Soft watercolor picture book, warm pastel colors. A quiet village at night, rooftops "
          "under bright stars. Luna, a small silver moon with rosy cheeks and a blue nightcap, "
          "moon, silver, rosy cheeks, blue nightcap, looking worried. Owl, a wise old owl with "
          "round glasses and a brown feathered cloak, whispering. Picture book illustration.")
LONG_ACTION = ("Luna peeking out from behind a fluffy cloud over the sleeping village, "
               "a trail of glittering stardust drifting down onto the red tiled roofs, "
               "three tiny fireflies circling her nightcap like a crown of lanterns, "
               "an old stone bridge over a silver river with lily pads and reeds")


def request(prompt: str = FILLED, *characters: CharacterLook) -> DrawRequest:
    return DrawRequest("night", prompt, "Night",
                       SETTING_TEXT, STYLE_TEXT, characters or (LUNA, OWL), 1280, 720, 7)


@pytest.fixture(scope="module")
def clip():
    return real_clip_tokenizer()


def test_the_real_clip_tokenizer_gives_the_released_ids(clip):
    assert len(clip) == VOCAB_SIZE and clip.model_max_length == 77
    assert clip("a photo of a cat").input_ids == [BOS, 320, 1125, 539, 320, 2368, EOS]
    assert clip("A Photo of a  CAT").input_ids == [BOS, 320, 1125, 539, 320, 2368, EOS]
    assert clip("a photo of a dog").input_ids == [BOS, 320, 1125, 539, 320, 1929, EOS]
    assert clip("hello world!").input_ids == [BOS, 3306, 1002, 256, EOS]
    assert clip("sks moon").input_ids == [BOS, 48136, 3293, EOS]


def test_each_character_comes_first_and_each_thing_is_said_once():
    phrases = scene_phrases(request())
    assert [p.text for p in phrases] == [
        "sks moon Luna", "moon", "silver", "rosy cheeks", "blue nightcap", "looking worried",
        "Owl", "a wise old owl with round glasses and a brown feathered cloak",
        "Picture book illustration",
        "a quiet village at night", "rooftops under bright stars",
        "soft watercolor picture book", "warm pastel colors"]
    assert [p.rank for p in phrases] == [WHO] + [LOOKS] * 4 + [ACTION, WHO, LOOKS, ACTION] + [
        SETTING] * 2 + [STYLE] * 2
    assert [p.kept for p in phrases] == [True] + [False] * 12
    assert "whispering" not in join(phrases)  # a voice direction is not a picture


def test_a_personalised_token_is_never_cut_off_by_the_77_token_limit(clip):
    long = request(f"{FILLED} {LONG_ACTION}.")
    token_ids = [48136, 3293]  # "sks moon"
    # The old order (the scene prompt first, the characters after it) lost the token:
    old = clip(f"{long.prompt}, sks moon Luna, moon, silver").input_ids
    assert old.index(48136) >= 77
    count = token_counter({"text_encoder": clip})
    fitted = fit(scene_phrases(long), count, token_limit({"text_encoder": clip}))
    ids = clip(fitted.text).input_ids
    assert fitted.tokens == {"text_encoder": len(ids)} and len(ids) <= 77
    assert ids[1:3] == token_ids
    # what was left out: the style first, then the setting, then the scene's last phrases
    assert fitted.dropped[:4] == ("warm pastel colors", "soft watercolor picture book",
                                  "rooftops under bright stars", "a quiet village at night")
    assert all(p not in fitted.text for p in fitted.dropped)
    assert "moon, silver, rosy cheeks, blue nightcap" in fitted.text


def test_a_kept_phrase_stays_even_when_nothing_else_fits(clip):
    phrases = [Phrase("sks moon Luna", WHO, kept=True), Phrase("word " * 89 + "word", ACTION)]
    fitted = fit(phrases, token_counter({"clip": clip}), 5)
    assert fitted.text == "sks moon Luna" and fitted.dropped == (phrases[1].text,)
    everything = fit(phrases, token_counter({"clip": clip}), None)  # chunked: nothing dropped
    assert everything.dropped == () and everything.tokens["clip"] > 77


def test_the_negative_prompt_says_each_thing_once():
    assert join(negative_phrases("blurry, lowres, Blurry. deformed")) == "blurry, lowres, deformed"


def test_only_what_a_picture_can_show_of_a_direction():
    assert all(heard_only(w) for w in ("whispering", "whispers", "loudly", "softly", "shouting",
                                       "humming", "called"))
    assert not any(heard_only(w) for w in ("sadly", "laughing", "yawning", "human", "calm"))
    assert visible_direction("sadly, whispering") == "sadly"
    assert visible_direction("softly") is None and visible_direction(None) is None
    assert only_heard("whispering") and only_heard("in a soft voice")
    assert not only_heard("whispering to Owl") and not only_heard("soft light")
