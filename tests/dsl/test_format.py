"""The canonical form: golden output, idempotence, comments kept, stories made in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.dsl.format import can_be_bare, format_story, is_name, quote, to_name
from engine.dsl.parse import parse_text
from engine.ir import Character, Field, Line, Scene, Story, Value, Voice, without_spans

STORIES = Path(__file__).resolve().parents[2] / "stories"

MESSY = '''\
# The Moon
# by someone

title:    The Moon   # trailing
scene one
    # lead inner
    "hello \\"there\\""     # t1
    setting: a "quiet" place
    Luna(worried):"Oh"
    narrator (soft): ...
    narrator: "Once."
    # tail of one


# Act two

voice narrator
    category: narrator
character Luna
    voice: "child"
audience: 3-6
# end of file
'''

CANONICAL = '''\
# The Moon
# by someone

title: The Moon  # trailing
audience: 3-6

# Act two

voice narrator
  category: narrator

character Luna
  voice: "child"

scene one
  setting: a "quiet" place
  # lead inner
  "hello \\"there\\""  # t1
  Luna (worried): "Oh"
  narrator (soft): ...
  "Once."
  # tail of one

# end of file
'''


def parse(text: str) -> Story:
    story, problems = parse_text(text, "t.story")
    assert problems == ()
    return story


def test_golden() -> None:
    assert format_story(parse(MESSY)) == CANONICAL


def test_idempotent_and_same_meaning() -> None:
    story = parse(MESSY)
    once = format_story(story)
    assert format_story(parse(once)) == once
    assert without_spans(parse(once)) == without_spans(story)


@pytest.mark.parametrize("path", sorted(STORIES.rglob("*.story")), ids=lambda p: p.name)
def test_example_stories_are_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_story(parse(text)) == text


def test_escapes_stay_escapes() -> None:
    text = 'scene a\n  "a \\t b \\n c \\\\ \\" d"\n'
    assert format_story(parse(text)) == text
    tab = format_story(parse('scene a\n  "raw\ttab"\n'))
    assert tab == 'scene a\n  "raw\\ttab"\n'  # a tab inside quotes is written as its escape


def test_comments_between_blocks_and_in_empty_blocks() -> None:
    text = "scene a\n  # todo: write this\n\n# ---\nscene b\n  \"x\"  # end\n"
    assert format_story(parse(text)) == text


def test_story_made_in_memory() -> None:
    story = Story(
        "mem.story",
        fields=(Field("title", Value("Glow #1")), Field("style", Value("  padded"))),
        voices=(Voice("narrator", (Field("category", Value("narrator")),)),),
        characters=(Character("Zoë", (Field("description", Value("a girl")),)),),
        scenes=(Scene("a", (Field("trainedness", Value("0.4"), argument="Zoë"),),
                      (Line(None, 'She said "hi"\nthen left.'), Line("Zoë", None, direction="shy"),
                       Line("Zoë", "Yes (really)!", direction="happy (very)"),
                       Line(None, None))),
                Scene("empty")))
    text = format_story(story)
    assert text == '''\
title: "Glow #1"
style: "  padded"

voice narrator
  category: narrator

character Zoë
  description: a girl

scene a
  trainedness Zoë: 0.4
  "She said \\"hi\\"\\nthen left."
  Zoë (shy): ...
  Zoë (happy very): "Yes (really)!"
  narrator: ...

scene empty
'''
    again = parse(text)
    assert again.scenes[0].lines[0].text == 'She said "hi"\nthen left.'
    assert format_story(again) == text


def test_empty_story() -> None:
    assert format_story(Story("x")) == ""


def test_names_that_cannot_be_written_are_refused() -> None:
    with pytest.raises(ValueError, match="a name is one word"):
        format_story(Story("x", scenes=(Scene("The Search"),)))
    with pytest.raises(ValueError, match="cannot speak"):
        format_story(Story("x", scenes=(Scene("a", lines=(Line("title", "hi"),)),)))


def test_helpers() -> None:
    assert quote('a "b" \\ c\n') == '"a \\"b\\" \\\\ c\\n"'
    assert can_be_bare("a quiet place") and not can_be_bare("...") and not can_be_bare("x # y")
    assert not can_be_bare('"x') and not can_be_bare("x ") and not can_be_bare("")
    assert is_name("Zoë") and is_name("小龙") and is_name("O'Malley") and not is_name("a b")
    assert to_name("The Big Search!") == "the-big-search" and to_name("???") == "unnamed"


def test_trainedness_auto_round_trips() -> None:
    text = ("character Luna\n  model: m\n  trainedness:   auto\nscene a\n  with: Luna\n"
            "  trainedness Luna: auto  # chosen per scene\n")
    story = parse(text)
    once = format_story(story)
    assert "  trainedness: auto\n" in once and "  trainedness Luna: auto  # chosen per scene\n" \
        in once
    assert without_spans(parse(once)) == without_spans(story)
    scene = story.scenes[0]
    assert story.trainedness_is_auto(scene, "Luna")
    assert story.trainedness_for(scene, "Luna", 0.7) == 0.7  # the draw stage resolves auto
