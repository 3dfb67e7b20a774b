"""The design stage: characters' reference images → tags (cached), written into the story."""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

from engine.backends.tagger import Tagger, TagRequest
from engine.ir import Character, Field, Story, Value, images_at, resolve_path
from engine.steps import Step

VERSION = 1


def needs_tags(character: Character) -> bool:
    """A character with a design image and no tags of its own."""
    return character.get("reference") is not None and not character.tags


def tag_characters(story: Story, tagger: Tagger, step: Step,
                   advance: Callable[[], None] = lambda: None) -> dict[str, tuple[str, ...]]:
    """Tags for every character that has a reference image and no `tags:`; name → tags."""
    found: dict[str, tuple[str, ...]] = {}
    for character in story.all_characters():
        if not needs_tags(character) or character.name in found:
            continue
        images = images_at(resolve_path(character.get("reference"), story))  # type: ignore
        if not images:
            advance()
            continue  # check has warned; a missing design image tags nothing
        image = images[0]  # a folder of references: its first image, in name order
        path = step.run(
            "design", VERSION, {}, tagger, "tags.json",
            lambda out, i=image: out.write_text(json.dumps(list(tagger.tag(TagRequest(i))))),
            label=character.name, inputs=[step.digest(image)])
        found[character.name] = tuple(json.loads(path.read_text()))
        advance()
    return found


def with_tags(story: Story, tags: dict[str, tuple[str, ...]]) -> Story:
    """The story with each tagged character given its `tags:` line, wherever it is defined."""
    if not tags:
        return story

    def tagged(character: Character) -> Character:
        if character.name not in tags or not tags[character.name]:
            return character
        line = Field("tags", Value(", ".join(tags[character.name])))
        return dataclasses.replace(character, fields=character.fields + (line,))

    return dataclasses.replace(
        story, characters=tuple(tagged(c) for c in story.characters),
        used=tuple(with_tags(u, tags) for u in story.used))
