"""Golden tests for the parser: each construct of the language and the IR it becomes."""

from __future__ import annotations

import pytest

from engine.dsl.parse import parse_text
from engine.ir import (NARRATOR, Character, Comment, Field, Line, Scene, Span, Story, Value, Voice,
                       without_spans)


def parse(text: str) -> Story:
    story, problems = parse_text(text, "t.story")
    assert problems == ()
    return story


def ir(text: str) -> object:
    return without_spans(parse(text))


def field(key: str, text: str, quoted: bool = False, argument: str | None = None) -> Field:
    return Field(key, Value(text, quoted=quoted), argument=argument)


def test_header_fields_in_author_order() -> None:
    story = parse("title: The Moon\naudience: 3-6\nuse: a.story\nuse: b.story\n")
    assert without_spans(story.fields) == (field("title", "The Moon"), field("audience", "3-6"),
                                           field("use", "a.story"), field("use", "b.story"))
    assert story.text("title") == "The Moon"
    assert [f.value.text for f in story.all("use")] == ["a.story", "b.story"]


def test_field_spans_point_at_key_and_value() -> None:
    f = parse("title:  The Moon   \n").fields[0]
    assert f.span == Span("t.story", 1, 1, 1, 17)
    assert f.value.span == Span("t.story", 1, 9, 1, 17)
    assert f.value.text == "The Moon"


def test_voice_block() -> None:
    story = parse("voice narrator\n  category: narrator\n  edge: en-GB-SoniaNeural\n  rate: 0.95\n")
    assert without_spans(story.voices) == (Voice("narrator", (
        field("category", "narrator"), field("edge", "en-GB-SoniaNeural"), field("rate", "0.95"))),)
    assert story.voice("narrator").name_span == Span("t.story", 1, 7, 1, 15)


def test_character_block_and_tags() -> None:
    story = parse("character Luna\n  description: a small moon\n  voice: small-girl\n"
                  "  tags: moon, silver ,  blue nightcap\n  trainedness: 0.8\n")
    luna = story.character("Luna")
    assert luna.tags == ("moon", "silver", "blue nightcap")
    assert luna.text("voice") == "small-girl"
    assert without_spans(luna.get("trainedness")) == field("trainedness", "0.8")


def test_block_with_no_body() -> None:
    assert ir("scene empty\n") == Story("", scenes=(Scene("empty"),))


def test_scene_settings_and_lines() -> None:
    story = parse('scene night-falls\n  title: Night falls\n  with: Luna, Owl\n'
                  '  trainedness: 0.5\n  trainedness Luna: 0.4\n  camera: slow zoom in\n'
                  '  "Every night, Luna lit up the sky."\n'
                  '  Luna (worried): "Oh no! Where did my glow go?"\n  Owl: ...\n')
    scene = story.scene("night-falls")
    assert without_spans(scene.fields) == (
        field("title", "Night falls"), field("with", "Luna, Owl"), field("trainedness", "0.5"),
        field("trainedness", "0.4", argument="Luna"), field("camera", "slow zoom in"))
    assert scene.present == ("Luna", "Owl")
    assert without_spans(scene.lines) == (
        Line(None, "Every night, Luna lit up the sky."),
        Line("Luna", "Oh no! Where did my glow go?", direction="worried"),
        Line("Owl", None))
    assert scene.lines[0].is_narration
    assert scene.get("trainedness", "Luna").argument_span == Span("t.story", 5, 15, 5, 19)


def test_narrator_as_speaker_is_narration() -> None:
    lines = parse('scene a\n  narrator: "Once."\n  narrator (softly): ...\n').scenes[0].lines
    assert [(line.speaker, line.text, line.direction) for line in lines] == [
        (None, "Once.", None), (None, None, "softly")]
    assert NARRATOR == "narrator"


def test_quoting_escapes_and_ellipsis() -> None:
    story = parse('title: "Glow #1"\nstyle: "..."\n'
                  'scene a\n  "She said \\"hi\\" \\\\ and left.\\nThe end."\n  Luna: "..."\n')
    assert story.get("title").value == Value("Glow #1", story.get("title").value.span, True)
    assert story.text("style") == "..."
    lines = story.scenes[0].lines
    assert lines[0].text == 'She said "hi" \\ and left.\nThe end.'
    assert lines[1].text == "..."  # quoted dots are text, not a line to fill


def test_unquoted_values_keep_quotes_inside_and_stop_at_comments() -> None:
    story = parse('title: The "Big" Day   # a comment\n')
    assert story.text("title") == 'The "Big" Day'
    assert story.get("title").value.quoted is False


def test_utf8_names() -> None:
    story = parse('character Zoë\ncharacter 小龙\nscene 雪\n  Zoë: "Bonjour"\n  小龙: "你好"\n')
    assert [c.name for c in story.characters] == ["Zoë", "小龙"]
    assert [line.speaker for line in story.scene("雪").lines] == ["Zoë", "小龙"]


def test_comments_full_line_and_trailing() -> None:
    story = parse('# top\ntitle: x  # about the title\nscene a\n  # inside\n  "hi" # after\n')
    assert story.comments == (
        Comment("# top", Span("t.story", 1, 1, 1, 6)),
        Comment("# about the title", Span("t.story", 2, 11, 2, 28), trailing=True),
        Comment("# inside", Span("t.story", 4, 3, 4, 11)),
        Comment("# after", Span("t.story", 5, 8, 5, 15), trailing=True))


def test_hash_inside_quotes_is_not_a_comment() -> None:
    story = parse('scene a\n  "Room #5 is here" # real\n')
    assert story.scenes[0].lines[0].text == "Room #5 is here"
    assert [c.text for c in story.comments] == ["# real"]


@pytest.mark.parametrize("indent", ["  ", "    ", "\t"])
def test_indentation_units(indent: str) -> None:
    story = parse(f"scene a\n{indent}title: x\n{indent}\"hi\"\n")
    assert story.scenes[0].text("title") == "x"


def test_blank_lines_crlf_and_bom() -> None:
    story = parse('\ufeff\r\ntitle: x\r\n\r\nscene a\r\n  "hi"\r\n\r\n')
    assert story.text("title") == "x"
    assert story.scenes[0].lines[0].text == "hi"


def test_blocks_may_interleave_and_header_may_follow() -> None:
    story = parse("scene b\ncharacter Luna\nvoice v\ntitle: late\n")
    assert (story.scenes[0].id, story.characters[0].name, story.voices[0].name) == (
        "b", "Luna", "v")
    assert story.text("title") == "late"


def test_keywords_as_keys_and_names() -> None:
    story = parse("character Luna\n  voice: child\nscene scene\n")
    assert story.character("Luna").text("voice") == "child"
    assert story.scenes[0].id == "scene"


def test_premise_only_story() -> None:
    story = parse("title: The Brave Little Snail\npremise: a snail learns to enjoy puddles\n"
                  "scenes: 5\ncharacter Sam\n  description: a tiny green snail\n")
    assert story.text("premise") == "a snail learns to enjoy puddles"
    assert story.scenes == ()
    assert isinstance(story.characters[0], Character)


def test_unquoted_dialogue_is_kept_as_a_field_for_check() -> None:
    scene = parse("scene a\n  Luna: hello\n").scenes[0]
    assert without_spans(scene.fields) == (field("Luna", "hello"),)
    assert scene.lines == ()
