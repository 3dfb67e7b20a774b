"""Template choice for the offline writer: a stable digest, and a picker that avoids repeats."""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass, field
from typing import Iterable

from engine.backends.llm.offline_words import cap

_SLOT = string.Formatter()


_TOGETHER = re.compile(r"\b(we|us|our|let's|they all|together)\b", re.I)


def alone(pools: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The pools without the templates that need company ("We did it!", "And they all lived
    happily ever after."), for one who is alone in a scene."""
    return [tuple(t for t in pool if not _TOGETHER.search(t)) for pool in pools]


def digest(*parts: object) -> int:
    """A stable number from text (Python's `hash` changes between runs; sha256 does not)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@dataclass(slots=True)
class TemplatePicker:
    """Chooses templates by hash, avoiding repeats within the story while the pool allows."""

    root: str
    used: set[str] = field(default_factory=set)
    last: str = ""
    avoid: frozenset[str] = frozenset()
    """Texts a reviewer rejected: a template that would write one of them is passed over."""

    def pick(self, pools: Iterable[tuple[str, ...]], slots: dict[str, str | None],
             *key: object) -> str:
        """The first pool with an unused template that fits wins; later pools are fallbacks."""
        first: list[str] = []
        for pool in pools:
            usable = [t for t in pool
                      if all(slots.get(f) is not None for _, f, _, _ in _SLOT.parse(t) if f)
                      and (not self.avoid or _filled(t, slots) not in self.avoid)]
            if not usable:
                continue
            start = digest(self.root, *key) % len(usable)
            ordered = usable[start:] + usable[:start]
            first = first or ordered
            fresh = [t for t in ordered if t not in self.used]
            if fresh:
                return self._fill(fresh[0], slots)
        if not first:
            raise ValueError("no template fits")  # every call site ends with a slot-free pool
        return self._fill(first[0], slots)

    def _fill(self, template: str, slots: dict[str, str | None]) -> str:
        self.used.add(template)
        self.last = template
        return _filled(template, slots)


def _filled(template: str, slots: dict[str, str | None]) -> str:
    return cap(template.format_map({k: v for k, v in slots.items() if v is not None}))
