"""What every TTS backend shares: category resolution, delivery directions, speakable text."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Any, Mapping, TypeVar

from engine.dsl.directions import DIRECTIONS
from engine.dsl.directions import HEARD_ONLY, direction_meanings, direction_word
from engine.dsl.vocabulary import category_in, gender_in

log = logging.getLogger(__name__)

VoiceSettings = TypeVar("VoiceSettings")


def resolve_category(category: str, known: Mapping[str, Any]) -> str:
    """The key of `known` that voices `category`: exact, else base + gender words, else adult.

    `child-female`, `Child (female)`, `girl` and `little girl` all become `child-female` when
    `known` has it (else `child`); an unknown word falls back to `adult` with a debug log.
    """
    exact = "-".join(re.findall(r"[a-z]+", category.lower()))
    if exact in known:
        return exact
    base = category_in(category)
    if base is None:
        base = "adult"
        log.debug("voice category %r is not one of %s: spoken as %s", category,
                  ", ".join(sorted(known)), base)
    gender = gender_in(category)
    if gender and f"{base}-{gender}" in known:
        return f"{base}-{gender}"
    if base in known:
        return base
    return next(iter(known))


def category_table(categories: Mapping[str, Mapping[str, Any] | None] | None,
                   settings: type[VoiceSettings], backend: str) -> dict[str, VoiceSettings]:
    """A backend's voice per category from its `categories:` (conf/tts/<backend>.yaml has them)."""
    if not categories:
        raise ValueError(f"{backend}: no voice categories; conf/tts/{backend.split('=')[-1]}.yaml "
                         f"lists one voice per category (narrator, child, adult, elder, creature)")
    try:
        return {str(name).lower(): settings(**dict(values or {}))
                for name, values in categories.items()}
    except TypeError as error:
        takes = ", ".join(f.name for f in fields(settings))  # type: ignore[arg-type]
        raise ValueError(f"{backend} categories: {error}; an entry takes {takes}") from error


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
    table = {name: dict(values) for name, values in DIRECTIONS.items()}
    for name, values in (overrides or {}).items():
        table[name.lower()] = {**table.get(name.lower(), {}), **dict(values)}
    return {name: Delivery.from_settings(values) for name, values in table.items()}


def delivery_for(direction: str | None, table: Mapping[str, Delivery]) -> Delivery:
    """The combined delivery of a direction like `whispering` or `softly, a little scared`."""
    if not direction:
        return NEUTRAL
    result = NEUTRAL
    names, unknown = direction_meanings(direction, table)
    for name in names:
        result = result.then(table[name])
    if unknown:
        log.debug("direction %r: ignored %s (known: %s)", direction, ", ".join(unknown),
                  ", ".join(sorted(table)))
    return result


def heard_only(word: str) -> bool:
    """True for a direction word (in any form: `whispering`, `loudly`) that only a voice shows."""
    return direction_word(word.lower(), HEARD_ONLY) is not None


def visible_direction(direction: str | None) -> str | None:
    """The words of a direction a picture can show: `sadly, whispering` → `sadly`; None when
    the direction is only heard."""
    words = [w for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", (direction or "").lower())
             if not heard_only(w)]
    return " ".join(words) or None


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
