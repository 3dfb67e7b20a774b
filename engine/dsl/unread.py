"""What syntax errors kept from the checks: the names on lines that could not be read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[\w'\-]+")


@dataclass(frozen=True, slots=True)
class Unread:
    """What syntax errors kept from the checks: the words of the lines that could not be read.

    A name on an unread block line may be declared there, and one on any unread line may appear
    there: the checks that would only echo the syntax error about such a name stay quiet.
    """

    declared: frozenset[str] = frozenset()
    """Words of unread lines outside every block (a `character NAME` line that broke)."""
    mentioned: frozenset[str] = frozenset()
    """Words of every unread line."""
    everything: bool = False
    """A file could not be read at all (a missing `use:`): any name may be declared."""
    scene: bool = False
    """An unread line starts with `scene`, indented or not: it may be the story's scene."""

    @classmethod
    def of(cls, lines: Iterable[str], everything: bool = False) -> Unread:
        declared: set[str] = set()
        mentioned: set[str] = set()
        scene = False
        for text in lines:
            words = _WORD.findall(text)
            mentioned.update(words)
            scene = scene or words[:1] == ["scene"]
            if text[:1] not in {" ", "\t"}:
                declared.update(words)
        return cls(frozenset(declared), frozenset(mentioned), everything, scene)

    def may_declare(self, name: str) -> bool:
        return self.everything or name in self.declared

    def may_mention(self, name: str) -> bool:
        return self.everything or name in self.mentioned
