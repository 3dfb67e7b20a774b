"""Delivery directions in the story's language: known to `check`, said by the voices."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backends.tts.delivery import delivery_for, direction_table, heard_only
from engine.dsl.directions import (ACTIONS, DIRECTIONS, TRANSLATIONS, direction_meanings,
                                   english_direction)
from tests.dsl.test_check import summary

SAID = {"fr": ["en chuchotant", "tristement", "joyeuse", "en colère", "à voix basse"],
        "es": ["susurrando", "gritando", "triste", "asustada", "en voz baja"],
        "de": ["flüsternd", "traurige", "leise", "ängstlich", "mit lauter Stimme"],
        "zh": ["低声", "伤心地", "咯咯笑着", "大声喊", "害怕"]}
"""Directions as authors write them in each language, with articles and inflections."""


@pytest.mark.parametrize("language", sorted(SAID))
def test_check_knows_the_directions_of_the_storys_language(tmp_path: Path,
                                                            language: str) -> None:
    lines = "".join(f'  Mia ({said}): "…"\n' for said in SAID[language])
    text = f"language: {language}\ncharacter Mia\n  description: a girl\nscene a\n{lines}"
    assert summary(tmp_path, text) == []


def test_a_direction_no_table_knows_is_still_warned_about(tmp_path: Path) -> None:
    text = 'character Mia\n  description: a girl\nscene a\n  Mia (zébrée): "x"\n  Mia (斑马): "y"\n'
    assert [s.split(" [")[0] for s in summary(tmp_path, text)] == [
        "4:8 warning unknown-direction: unknown delivery direction 'zébrée'",
        "5:8 warning unknown-direction: unknown delivery direction '斑马'"]


def test_the_warning_lists_and_suggests_the_words_of_the_storys_language(tmp_path: Path) -> None:
    text = ('language: fr\ncharacter Roux\n  description: un renard\nscene a\n'
            '  Roux (chuchottant): "x"\n  Roux (un peu zébré): "y"\n  Roux (tremblant): "z"\n')
    listed = ("the line is said plainly; directions the voices know (fr): apeuré, appelant, "
              "assis, bâillant, bas, basse, câlinant, calme, calmement, chaleureux, chantant, "
              "chuchotant, … (docs/language.md lists them; a TTS backend's `directions:` "
              "setting adds more)")
    assert summary(tmp_path, text) == [
        f"5:9 warning unknown-direction: unknown delivery direction 'chuchottant' "
        f"[did you mean 'chuchotant'? {listed}]",
        f"6:9 warning unknown-direction: unknown delivery direction 'un peu zébré' [{listed}]"]


@pytest.mark.parametrize(("word", "english"), [
    ("effrayé", "scared"), ("Effrayée", "scared"), ("tremblant", "scared"),
    ("ängstlich", "scared"), ("zitternd", "scared"), ("temblando", "scared"), ("crying", "cry"),
    ("伤心地", "sad"), ("waving", "wave"), ("zébré", None)])
def test_a_word_of_any_language_means_its_english_entry(word: str, english: str | None) -> None:
    assert english_direction(word) == english


@pytest.mark.parametrize(("said", "english"), [
    ("en chuchotant", "whispering"), ("traurige", "sadly"), ("低声地", "whispering"),
    ("gritando", "shouting"), ("tristement, lentement", "sadly, slowly")])
def test_the_voices_say_a_direction_in_any_language_as_in_english(said: str,
                                                                   english: str) -> None:
    table = direction_table(None)
    assert delivery_for(said, table) == delivery_for(english, table) != delivery_for(None, table)


def test_only_heard_words_of_every_language_are_kept_from_the_picture() -> None:
    assert heard_only("chuchotant") and heard_only("leise") and heard_only("大声")
    assert not heard_only("triste") and not heard_only("sautant")


def test_every_translation_means_an_entry_of_the_one_table() -> None:
    known = set(DIRECTIONS) | ACTIONS
    assert {meant for words in TRANSLATIONS.values() for meant in words.values()} <= known
    assert direction_meanings("en sautant", known) == (["jump"], ["en"])
