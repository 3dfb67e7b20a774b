"""The design stage: reference images → tags, cached, and written into the story."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine.cache import Cache
from engine.dsl.format import format_story
from engine.dsl.parse import parse_text
from engine.manifest import Recorder
from engine.stages.design import needs_tags, tag_characters, with_tags
from engine.steps import Step

pytest.importorskip("transformers")


def test_reference_images_become_tags_in_the_resolved_story(tmp_path: Path):
    from engine.backends.tagger.vit import ViTTagger
    from tests.tiny_models import tiny_vit

    Image.new("RGB", (32, 32), "orange").save(tmp_path / "pip.png")
    text = ("character Pip\n  description: a fox\n  reference: pip.png\n"
            "character Owl\n  description: an owl\n  tags: grey, wise\n"
            "scene a\n  \"Hello.\"\n")
    story, problems = parse_text(text, str(tmp_path / "fox.story"))
    assert not problems
    assert [needs_tags(c) for c in story.characters] == [True, False]
    tagger = ViTTagger(str(tiny_vit()), exclude=["general"])
    recorder = Recorder()
    tags = tag_characters(story, tagger, Step(Cache(tmp_path / "cache"), recorder))
    assert set(tags) == {"Pip"} and set(tags["Pip"]) == {"fox", "long hair"}
    resolved = with_tags(story, tags)
    assert resolved.character("Pip").tags == tags["Pip"]
    assert f"  tags: {', '.join(tags['Pip'])}" in format_story(resolved)
    again = Recorder()
    assert tag_characters(story, tagger, Step(Cache(tmp_path / "cache"), again)) == tags
    assert [a.made for a in recorder.artifacts + again.artifacts] == [True, False]
