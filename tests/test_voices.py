"""Voice resolution: voice blocks by name, categories, guesses from descriptions."""

from __future__ import annotations

import pytest

from engine.backends.tts.delivery import resolve_category
from engine.dsl import vocabulary
from engine.dsl.parse import parse_text
from engine.dsl.vocabulary import VOICE_CATEGORIES
from engine.voices import voice_spec

STORY = '''voice narrator
  category: narrator
  espeak: en-gb+f3
  rate: 0.9

voice gruff
  category: elder
  pitch: 0.8

character Luna
  description: a small silver moon
character Grandpa
  description: an old bear
  voice: gruff
character Rex
  description: a dragon
  voice: creature
character Bob
  description: a baker
'''


def story():
    parsed, problems = parse_text(STORY, "v.story")
    assert not problems
    return parsed


def test_narrator_uses_its_voice_block():
    spec = voice_spec(story(), None)
    assert (spec.name, spec.category, spec.rate, spec.id_for("espeak")) == (
        "narrator", "narrator", 0.9, "en-gb+f3")


def test_character_voice_by_name_category_or_guess():
    s = story()
    assert (voice_spec(s, "Grandpa").category, voice_spec(s, "Grandpa").pitch) == ("elder", 0.8)
    assert voice_spec(s, "Rex").category == "creature"
    assert voice_spec(s, "Luna").category == "child"
    assert voice_spec(s, "Bob").category == "adult"


@pytest.mark.parametrize("description, category", [
    ("a tiny kitten", "child"), ("an old dragon", "creature"), ("a wise grandmother", "elder"),
    ("a kind baker", "adult"), ("the village storyteller", "narrator"), ("a blue teapot", None)])
def test_one_word_table_for_the_guess_the_tts_reading_and_checks_hints(description: str,
                                                                         category: str | None):
    parsed, problems = parse_text(f"character Sam\n  description: {description}\n", "w.story")
    assert not problems
    spoken = category or "adult"
    assert voice_spec(parsed, "Sam").category == spoken
    assert resolve_category(description, dict.fromkeys(VOICE_CATEGORIES)) == spoken
    named = [vocabulary.category_named(word) for word in description.split()]
    assert (category in named) if category else not any(named)  # `category: kid` → 'child'?


def test_a_voice_block_takes_ids_only_for_tts_backends_that_exist():
    from pathlib import Path

    from engine.dsl.check import check_story

    tts = {path.stem for path in (Path(__file__).resolve().parents[1] / "conf" / "tts").glob(
        "*.yaml")}
    assert set(vocabulary.VOICE_BACKEND_KEYS) == tts
    story, problems = parse_text("voice v\n  category: child\n  kokoro: af_bella\n"
                                 "  openai: nova\n", "/repo/x.story")
    assert not problems
    found = [(p.code, p.message) for p in check_story(story)]
    assert ("unknown-key", "unknown key 'kokoro' in voice 'v'") in found
    assert not any("openai" in message for _, message in found)
