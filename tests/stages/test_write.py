"""The write stage: what it asks the writer, and how answers merge into the story."""

from __future__ import annotations

import dataclasses

import pytest

from engine.backends.llm import WriteResult, WrittenLine, WrittenScene
from engine.dsl.parse import parse_text
from engine.errors import BackendError
from engine.stages.write import build_request, merge, needs_writer, result_from_json

STORY = '''title: Moon
character Luna
  description: a small silver moon
scene one
  setting: a village at night
  "The night was quiet."
  Luna (worried): "Where is my glow?"
  Luna: ...
scene two
  setting: a forest
'''


def parsed(text: str = STORY):
    story, problems = parse_text(text, "moon.story")
    assert not problems
    return story


def answer(**changes) -> WriteResult:
    one = WrittenScene("one", "One", "a village at night", ("Luna",), "Luna over the village",
                       (WrittenLine(None, "CHANGED narration"),
                        WrittenLine("Luna", "CHANGED", "worried"),
                        WrittenLine("Luna", "Maybe the owl knows!")))
    two = WrittenScene("two", "Two", "a forest", ("Luna",), "Luna among pines",
                       (WrittenLine(None, "Luna drifted into the forest."),
                        WrittenLine("Luna", "Hello, trees!", "softly")))
    scenes = changes.get("scenes", (one, two))
    return WriteResult(scenes)


def test_request_marks_every_hole():
    request = build_request(parsed())
    assert needs_writer(request)
    one, two = request.scenes
    assert [l.text for l in one.lines] == ["The night was quiet.", "Where is my glow?", None]
    assert one.image is None and one.characters == ("Luna",)
    assert two.lines == () and request.scene_count == 0
    assert request.characters[0].voice_category == "child"


def test_merge_keeps_author_text_and_fills_holes():
    story = merge(parsed(), build_request(parsed()), answer())
    one, two = story.scenes
    assert [l.text for l in one.lines] == ["The night was quiet.", "Where is my glow?",
                                          "Maybe the owl knows!"]
    assert [l.written_by for l in one.lines] == ["author", "author", "llm"]
    assert one.text("image") == "Luna over the village"
    assert (one.text("title"), two.text("title")) == (None, "Two")  # only a written scene
    assert [(l.speaker, l.text, l.direction) for l in two.lines] == [
        (None, "Luna drifted into the forest.", None), ("Luna", "Hello, trees!", "softly")]


def test_complete_story_needs_no_writer():
    text = 'title: Done\nscene a\n  image: a hill\n  "One line."\n'
    assert not needs_writer(build_request(parsed(text)))


def test_a_wordless_scene_is_asked_only_for_its_picture_and_keeps_no_lines():
    text = STORY + "scene sea\n  setting: the sea at night\n  duration: 6\n  lines: none\n"
    request = build_request(parsed(text))
    sea = request.scenes[2]
    assert sea.wordless and sea.lines == () and sea.has_holes  # its image
    pictured = dataclasses.replace(sea, image="the sea")
    assert not pictured.has_holes
    said = WrittenScene("sea", "Sea", "the sea at night", (), "the moonlit sea",
                        (WrittenLine(None, "A writer that wrote a line anyway."),))
    story = merge(parsed(text), request, answer(scenes=(*answer().scenes, said)))
    assert story.scenes[2].lines == () and story.scenes[2].text("image") == "the moonlit sea"
    assert needs_writer(build_request(parsed(
        'title: Quiet\nscene a\n  image: a hill\n  lines: none\n'))) is False


def test_premise_asks_for_scene_count():
    request = build_request(parsed("premise: a snail learns to love rain\nscenes: 3\n"))
    assert request.scene_count == 3 and request.scenes == ()


@pytest.mark.parametrize("bad, message", [
    ((), "no scene one, two"),
])
def test_missing_scene_is_a_backend_error(bad, message):
    with pytest.raises(BackendError, match=message):
        merge(parsed(), build_request(parsed()), answer(scenes=bad))


def test_wrong_speaker_is_a_backend_error():
    result = answer()
    one = result.scenes[0]
    wrong = WrittenScene(one.id, one.title, one.setting, one.characters, one.image,
                         one.lines[:2] + (WrittenLine(None, "narrator instead"),))
    with pytest.raises(BackendError, match="line 3 for the narrator, not Luna"):
        merge(parsed(), build_request(parsed()), WriteResult((wrong, result.scenes[1])))


def test_result_round_trips_through_json():
    import dataclasses
    import json

    result = answer()
    assert result_from_json(json.loads(json.dumps(dataclasses.asdict(result)))) == result


def test_speakers_are_in_the_scene_besides_those_named_with():
    story = parsed('character Luna\n  description: a moon\ncharacter Owl\n  description: an owl\n'
                   'scene a\n  with: Luna\n  "Night."\n  Owl: "Hoo!"\n  Luna: "Hi."\n')

    assert story.characters_in(story.scenes[0]) == ("Luna", "Owl")
