"""Shared TTS pieces: category words, direction words, speakable text, levels and trimming."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backends.tts.audio import level_to, resample, speech_level, trim_silence
from engine.backends.tts.delivery import (NEUTRAL, Delivery, delivery_for, direction_table,
                                          resolve_category, speakable)
from engine.config import compose_config
from engine.dsl.directions import DIRECTIONS

KNOWN = dict(compose_config(["tts=espeak"]).tts.categories)


@pytest.mark.parametrize("category, expected", [
    ("narrator", "narrator"), ("Child", "child"), ("child (female)", "child-female"),
    ("Child_Male", "child-male"), ("girl", "child-female"), ("little boy", "child-male"),
    ("old woman", "elder-female"), ("grandpa", "elder-male"), ("wise owl", "elder"),
    ("dragon", "creature"), ("mother", "adult-female"), ("king", "adult-male"),
    ("male narrator", "narrator-male"), ("zzz", "adult"), ("", "adult"),
])
def test_categories_resolve_by_their_words(category: str, expected: str):
    assert resolve_category(category, KNOWN) == expected


def test_a_category_table_without_gendered_entries_uses_the_base():
    assert resolve_category("little girl", {"child": 1, "adult": 2}) == "child"
    assert resolve_category("robot", {"narrator": 1}) == "narrator"


def test_direction_words_in_any_inflection():
    table = direction_table(None)
    for word, name in [("whispering", "whisper"), ("whispers", "whisper"),
                       ("whispered", "whisper"), ("sadly", "sad"), ("happily", "happy"),
                       ("angrily", "angry"), ("sleepily", "sleepy"), ("shouting", "shout"),
                       ("giggling", "giggle"), ("nervously", "nervous"), ("crying", "cry"),
                       ("cries", "cry"), ("excitedly", "excited"), ("softly", "soft")]:
        assert delivery_for(word, table) == table[name], word
    both = delivery_for("softly, a little scared", table)
    assert both == table["soft"].then(table["scared"])
    assert delivery_for("flamboyantly", table) == NEUTRAL
    assert delivery_for(None, table) == NEUTRAL


def test_directions_are_configurable():
    table = direction_table({"sneaky": {"rate": 0.8, "volume": 0.5}, "sad": {"rate": 0.5}})
    assert table["sneaky"] == Delivery(rate=0.8, volume=0.5)
    assert table["sad"].rate == 0.5
    assert table["sad"].pitch == DIRECTIONS["sad"]["pitch"]  # the rest is kept
    with pytest.raises(ValueError, match="unknown direction setting"):
        direction_table({"odd": {"speed": 2}})


@pytest.mark.parametrize("raw, spoken", [
    ("“Hello,” said the fox.", "Hello, said the fox."),
    ("Wait... what?", "Wait, what?"),
    ("Wait…what?", "Wait, what?"),
    ("It's the owl's 'special' tree", "It's the owl's special tree"),
    ("Run — now!", "Run, now!"),
    ("*Very* _quiet_", "Very quiet"),
    ("  …  ", ""),
    ("Oh no...", "Oh no"),
])
def test_speakable_text(raw: str, spoken: str):
    assert speakable(raw) == spoken


def test_levels_and_trimming():
    rate = 8000
    tone = (0.5 * np.sin(np.arange(rate) / rate * 2 * np.pi * 200)).astype(np.float32)
    clip = np.concatenate([np.zeros(rate, np.float32), tone, np.zeros(rate, np.float32)])
    assert speech_level(clip, rate) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    trimmed = trim_silence(clip, rate, keep=0.1)
    assert len(trimmed) == pytest.approx(rate * 1.2, abs=rate * 0.01)
    assert speech_level(level_to(clip, rate, 0.1), rate) == pytest.approx(0.1, rel=0.02)
    assert np.abs(level_to(clip, rate, 0.9)).max() <= 0.98  # a peak limit, not clipping
    up = resample(tone, rate, 48_000)
    assert len(up) == 48_000 and up.dtype == np.float32
