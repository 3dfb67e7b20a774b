"""What every TTS backend shares: category resolution, delivery directions, speakable text."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Any, Mapping

from engine.dsl.vocabulary import DIRECTIONS as DEFAULT_DIRECTIONS
from engine.dsl.vocabulary import direction_word

log = logging.getLogger(__name__)

BASE_CATEGORIES = ("narrator", "creature", "elder", "child", "adult")
"""The five categories of engine.voices; checked in this order when a category is free text."""

_CATEGORY_WORDS: dict[str, frozenset[str]] = {
    "narrator": frozenset({"narrator", "storyteller", "teller"}),
    "creature": frozenset({"creature", "monster", "dragon", "troll", "giant", "robot", "ghost",
                           "beast", "goblin", "ogre", "witch", "alien", "creature"}),
    "elder": frozenset({"elder", "old", "elderly", "aged", "ancient", "wise", "grandma", "granny",
                        "grandmother", "grandpa", "grandfather", "grandad", "granddad", "nana"}),
    "child": frozenset({"child", "kid", "girl", "boy", "baby", "young", "little", "small", "tiny",
                        "toddler", "kitten", "puppy", "cub", "chick", "duckling"}),
    "adult": frozenset({"adult", "man", "woman", "mother", "father", "mum", "mom", "dad", "lady",
                        "gentleman", "king", "queen", "prince", "princess", "teacher", "aunt",
                        "uncle", "baker", "farmer"}),
}
_FEMALE = frozenset({"female", "f", "woman", "women", "girl", "lady", "mother", "mum", "mom",
                     "queen", "princess", "grandma", "granny", "grandmother", "nana", "aunt",
                     "sister", "daughter", "she", "her", "witch"})
_MALE = frozenset({"male", "m", "man", "men", "boy", "gentleman", "father", "dad", "king",
                   "prince", "grandpa", "grandfather", "grandad", "granddad", "uncle", "brother",
                   "son", "he", "him"})


def resolve_category(category: str, known: Mapping[str, Any]) -> str:
    """The key of `known` that voices `category`: exact, else base + gender words, else adult.

    `child-female`, `Child (female)`, `girl` and `little girl` all become `child-female` when
    `known` has it (else `child`); an unknown word falls back to `adult` with a debug log.
    """
    words = re.findall(r"[a-z]+", category.lower())
    exact = "-".join(words)
    if exact in known:
        return exact
    base = next((name for name in BASE_CATEGORIES if _CATEGORY_WORDS[name] & set(words)), None)
    if base is None:
        base = "adult"
        log.debug("voice category %r is not one of %s: spoken as %s", category,
                  ", ".join(sorted(known)), base)
    gender = ("female" if _FEMALE & set(words) else "male" if _MALE & set(words) else None)
    if gender and f"{base}-{gender}" in known:
        return f"{base}-{gender}"
    if base in known:
        return base
    return next(iter(known))


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a direction changes a voice: factors on rate, pitch, pitch range, volume; whisper."""

    rate: float = 1.0
    pitch: float = 1.0
    range: float = 1.0
    volume: float = 1.0
    whisper: bool = False

    def then(self, other: Delivery) -> Delivery:
        return Delivery(self.rate * other.rate, self.pitch * other.pitch,
                        self.range * other.range, self.volume * other.volume,
                        self.whisper or other.whisper)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Delivery:
        names = {f.name for f in fields(cls)}
        unknown = set(settings) - names
        if unknown:
            raise ValueError(f"unknown direction setting(s) {sorted(unknown)}; "
                             f"use {sorted(names)}")
        return cls(**{k: (bool(v) if k == "whisper" else float(v)) for k, v in settings.items()})


NEUTRAL = Delivery()

def direction_table(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Delivery]:
    """The default directions with a backend's own entries merged over them, key by key."""
    table = {name: dict(values) for name, values in DEFAULT_DIRECTIONS.items()}
    for name, values in (overrides or {}).items():
        table[name.lower()] = {**table.get(name.lower(), {}), **dict(values)}
    return {name: Delivery.from_settings(values) for name, values in table.items()}


def delivery_for(direction: str | None, table: Mapping[str, Delivery]) -> Delivery:
    """The combined delivery of a direction like `whispering` or `softly, a little scared`."""
    if not direction:
        return NEUTRAL
    result, unknown = NEUTRAL, []
    for word in re.findall(r"[a-z]+", direction.lower()):
        name = direction_word(word, table)
        if name is None:
            unknown.append(word)
        else:
            result = result.then(table[name])
    if unknown:
        log.debug("direction %r: ignored %s (known: %s)", direction, ", ".join(unknown),
                  ", ".join(sorted(table)))
    return result


_QUOTES = str.maketrans({c: None for c in "\"“”„«»‹›「」『』`"})
_DASHES = re.compile(r"\s*[—–]\s*|\s+-\s+|\s*--+\s*")
_ELLIPSIS = re.compile(r"\s*(?:…|\.\s*\.\s*\.(?:\s*\.)*)\s*")
_EMPHASIS = re.compile(r"[*_~#]+")


def speakable(text: str) -> str:
    """Text a synthesizer reads well: no quote marks or markup, ellipses and dashes as pauses."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'")
    text = text.translate(_QUOTES)
    text = re.sub(r"(?<![A-Za-z])'|'(?![A-Za-z])", " ", text)  # quote marks, not apostrophes
    text = _EMPHASIS.sub("", text)
    text = _ELLIPSIS.sub(", ", text)
    text = _DASHES.sub(", ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    return text.strip(" ,;:")


def describe_line(text: str, limit: int = 48) -> str:
    """A line named in an error message: its first words, quoted."""
    flat = " ".join(text.split())
    return f'line "{flat if len(flat) <= limit else flat[: limit - 1] + "…"}"'
