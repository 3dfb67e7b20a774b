"""The chat writers' shared parts: prompt templates, answer schemas, JSON extraction, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.backends.llm import CharacterBrief, LineBrief, SceneBrief, WriteRequest
from engine.backends.llm.answers import (InvalidAnswer, extract_json, fill_schema, max_words_for,
                                         validate_fill, validate_outline)
from engine.backends.llm.chat import DEFAULT_PROMPTS, load_prompts
from engine.errors import ConfigError

CONF = Path(__file__).resolve().parents[3] / "conf"
CHARACTERS = (CharacterBrief("Luna", "a small silver moon", "child"),
              CharacterBrief("Owl", "a wise owl", "elder"))
HOLE = SceneBrief("night", "Night", "a village", ("Luna", "Owl"),
                  (LineBrief(None, "The night was quiet."), LineBrief("Owl", None, "softly")), None)
EMPTY = SceneBrief("forest", None, None, (), (), "pines and fireflies")
REQUEST = WriteRequest("Moon", "3-6", "watercolor", "en", None, CHARACTERS, (HOLE, EMPTY))


def line(speaker: str, text: str, direction: str | None = None) -> dict:
    return {"speaker": speaker, "text": text, "direction": direction}


def answer(**night) -> dict:
    scenes = [{"id": "night", "title": "T", "setting": "S", "characters": [], "image": "Owl on a roof",
               "lines": [line("narrator", "ignored"), line("Owl", "Hoo, hello!")]} | night,
              {"id": "forest", "title": "Into the forest", "setting": "a pine forest",
               "characters": ["Owl"], "image": "x",
               "lines": [line("narrator", "In they went."), line("Luna", "So dark!", "whispering")]}]
    return {"scenes": scenes}


def test_valid_answer_keeps_the_author_text():
    night, forest = validate_fill(answer(), REQUEST)
    assert [(ln.speaker, ln.text, ln.direction) for ln in night.lines] == [
        (None, "The night was quiet.", None), ("Owl", "Hoo, hello!", "softly")]
    assert night.title == "Night" and night.image == "Owl on a roof"
    assert forest.image == "pines and fireflies" and forest.title == "Into the forest"
    assert forest.characters == ("Owl", "Luna")  # named, then whoever speaks
    assert forest.lines[1].direction == "whispering"


@pytest.mark.parametrize("night, problem", [
    ({"lines": [line("narrator", "x")]},
     "scene 'night' must have exactly 2 lines in the author's order, not 1"),
    ({"lines": [line("narrator", "x"), line("Luna", "Hi")]},
     "scene 'night' line 2 must be spoken by Owl, not Luna"),
    ({"lines": [line("narrator", "x"), line("Bat", "Hi")]},
     "scene 'night' line 2: speaker 'Bat' is not one of narrator, Luna, Owl"),
    ({"lines": [line("narrator", "x"), line("Owl", " ")]},
     "scene 'night' line 2 (Owl) text is missing or empty"),
    ({"lines": [line("narrator", "x"), line("Owl", "word " * 31)]},
     "scene 'night' line 2 (Owl) has 31 words; keep lines under 30 words for ages 3-6"),
    ({"image": ""}, "scene 'night' image prompt is missing or empty"),
    ({"id": "day"}, "scene 'night' is missing from the answer"),
])
def test_invalid_answers_name_the_problem(night: dict, problem: str):
    with pytest.raises(InvalidAnswer) as caught:
        validate_fill(answer(**night), REQUEST)
    assert problem in caught.value.problems


def test_speaker_names_are_matched_leniently():
    loose = answer(lines=[line("Narrator", "x"), line("owl", "Hoo!")])
    loose["scenes"][1]["lines"][0]["speaker"] = None
    night, forest = validate_fill(loose, REQUEST)
    assert night.lines[1].speaker == "Owl" and forest.lines[0].speaker is None


def test_every_problem_is_reported_at_once():
    broken = answer(image="")
    broken["scenes"][1]["lines"] = []
    with pytest.raises(InvalidAnswer) as caught:
        validate_fill(broken, REQUEST)
    assert len(caught.value.problems) == 2


def test_wrong_scene_count_is_invalid():
    with pytest.raises(InvalidAnswer, match="has 1 scenes; exactly 2 are needed"):
        validate_fill({"scenes": answer()["scenes"][:1]}, REQUEST)


@pytest.mark.parametrize("text", ['{"scenes": []}', 'Sure! ```json\n{"scenes": []}\n``` Enjoy.',
                                  'Here it is: {"scenes": []} hope it helps'])
def test_json_is_found_in_chatter_and_fences(text: str):
    assert extract_json(text) == {"scenes": []}


@pytest.mark.parametrize("text, problem", [
    ('{"scenes": [{"id": "night", "lin', "not valid JSON"), ("I cannot do that.", "not JSON"),
    ("[1, 2]", "not JSON"), ("", "not JSON")])
def test_bad_json_is_invalid(text: str, problem: str):
    with pytest.raises(InvalidAnswer, match=problem):
        extract_json(text)


def test_schema_lists_speakers_and_scene_ids():
    schema = fill_schema(REQUEST)
    scene = schema["properties"]["scenes"]["items"]
    assert scene["properties"]["id"]["enum"] == ["night", "forest"]
    assert scene["properties"]["lines"]["items"]["properties"]["speaker"]["enum"] == \
        ["narrator", "Luna", "Owl"]
    assert scene["additionalProperties"] is False and set(scene["required"]) == set(
        scene["properties"])


def test_outline_validation():
    request = WriteRequest("Snail", "4-7", "crayon", "en", "a brave snail",
                           (CharacterBrief("Sam", "a snail", "child"),), (), 2)
    good = {"scenes": [{"id": "grey-sky", "title": "Grey", "setting": "garden",
                        "characters": ["Sam"], "image": "Sam under a leaf"},
                       {"id": "puddles", "title": "Puddles", "setting": "garden",
                        "characters": [], "image": "splash"}]}
    briefs = validate_outline(good, request)
    assert [b.id for b in briefs] == ["grey-sky", "puddles"] and briefs[0].lines == ()
    bad = {"scenes": [good["scenes"][0] | {"characters": ["Bob"]},
                      good["scenes"][0] | {"id": "Grey Sky!"}]}
    with pytest.raises(InvalidAnswer) as caught:
        validate_outline(bad, request)
    assert "scene 'grey-sky': unknown characters ['Bob']; use only Sam" in caught.value.problems
    assert "scene 2: id 'Grey Sky!' must be lowercase words joined by hyphens" in \
        caught.value.problems


def test_line_length_follows_the_audience():
    assert max_words_for("3-6") < max_words_for("7-9") < max_words_for("10-12") < \
        max_words_for("adults 18+")


def test_complete_scenes_need_no_writing():
    done = SceneBrief("done", "Done", "here", (), (LineBrief(None, "All set."),), "a picture")
    assert not done.has_holes and HOLE.has_holes and EMPTY.has_holes


def test_packaged_prompts_load_and_custom_files_are_checked(tmp_path: Path):
    prompts = load_prompts()
    assert "$max_words" in prompts.system and "$format" in prompts.fill
    assert load_prompts(DEFAULT_PROMPTS) == prompts
    broken = tmp_path / "broken.yaml"
    broken.write_text("system: hi\nfill: there\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="prompt templates lack outline, retry"):
        load_prompts(broken)


def test_a_story_repository_can_bring_its_own_prompts(tmp_path: Path):
    from hydra import compose, initialize_config_dir

    from engine.config import register_resolvers

    register_resolvers()
    (tmp_path / "prompts").mkdir()
    text = DEFAULT_PROMPTS.read_text(encoding="utf-8").replace(
        "You are a children's", "You are a pirate-loving children's")
    (tmp_path / "prompts" / "pirates.yaml").write_text(text, encoding="utf-8")
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[
            "llm=openai", "story=x.story", f"hydra.searchpath=[file://{tmp_path}]",
            "prompts@llm.prompts=pirates"])
    assert load_prompts(dict(cfg.llm.prompts)).system.startswith("You are a pirate-loving")



KEYS = ["scenes", "id", "lines", "speaker", "text", "direction", "image", "characters", "title"]
WORDS = ["night", "forest", "narrator", "Owl", "Luna", "", "x", "Hoo!"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(WORDS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                max_size=6),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
@example({"scenes": [{"id": "x", "characters": [[]]}, {"id": "night", "lines": [{}]}]})
def test_any_answer_is_used_or_rejected_with_reasons(value):
    for validate in (lambda a: validate_fill(a, REQUEST),
                     lambda a: validate_outline(a, REQUEST.__class__(
                         "S", "3-6", "", "en", "p", CHARACTERS, (), 2))):
        try:
            scenes = validate(value if isinstance(value, dict) else {"scenes": value})
        except InvalidAnswer as invalid:
            assert invalid.problems and all(isinstance(p, str) for p in invalid.problems)
        else:
            assert scenes


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_reply_text_is_parsed_or_rejected(text):
    try:
        assert isinstance(extract_json(text), dict)
    except InvalidAnswer as invalid:
        assert invalid.problems


def test_a_wordless_scene_is_asked_for_no_lines_and_any_it_gets_are_dropped():
    from engine.backends.llm.chat import _scenes_block

    sea = SceneBrief("sea", "The Sea", "the sea at night", (), (), None, wordless=True)
    request = WriteRequest("Moon", "3-6", "watercolor", "en", None, CHARACTERS, (sea,))
    assert fill_schema(request)["properties"]["scenes"]["items"]["properties"]["lines"][
        "maxItems"] == 0
    assert "  lines: none (a scene without words: write no lines for it)" in \
        _scenes_block(request.scenes)
    answered = {"scenes": [{"id": "sea", "title": "T", "setting": "S", "characters": [],
                            "image": "the moonlit sea", "lines": [line("narrator", "Hush.")]}]}
    [written] = validate_fill(answered, request)
    assert written.lines == () and written.image == "the moonlit sea"
