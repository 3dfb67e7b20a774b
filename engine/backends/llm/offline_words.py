"""Reading a story's words for the offline writer: settings, characters, premises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from engine.backends.llm import CharacterBrief
from engine.backends.llm import offline_templates as T

PREPOSITIONS = ("under", "in", "inside", "on", "at", "by", "near", "above", "below", "beside",
                "behind", "among", "through", "around", "over", "between", "across", "along")
SPLIT = re.compile(r"\s*(?:[,;]|\b(?:and|with|full of|of|" + "|".join(PREPOSITIONS) + r")\b)\s*",
                   re.IGNORECASE)
ON_PLACES = ("hill", "beach", "shore", "island", "mountain", "path", "road", "bridge", "roof",
             "rooftop", "top", "boat", "ship", "cloud", "meadow", "field", "lawn", "moon")
PARTS = {"top": "on", "bottom": "at", "edge": "at", "middle": "in", "side": "by", "foot": "at",
         "end": "at", "heart": "in", "corner": "in", "bank": "on"}
"""Words that name part of a place, and how to say "there" of them."""
TIMES = {"night": "night", "midnight": "night", "starry": "night", "stars": "night",
         "moonlight": "night", "evening": "evening", "dusk": "evening", "sunset": "evening",
         "twilight": "evening", "dawn": "morning", "sunrise": "morning", "morning": "morning",
         "afternoon": "afternoon", "noon": "day"}
"""Time words of a setting → the time of day the templates say."""


_SMALL = frozenset({"a", "an", "the", "some", "one", "of", "and", "with", "full", *PREPOSITIONS})


def _wordy(text: str) -> bool:
    """Whether text holds a word that names something (not only small words or punctuation)."""
    return any(w not in _SMALL for w in re.findall(r"[^\W\d_][\w'\-]*", text.lower()))


def strip_article(phrase: str) -> str:
    return re.sub(r"^(a|an|the|some|one)\s+", "", phrase.strip(), flags=re.I)


def definite(phrase: str) -> str:
    """'a quiet village' → 'the quiet village'; possessives and names stay as they are."""
    phrase = phrase.strip()
    if "'s " in phrase or phrase[:1].isupper() and not re.match(r"^(A|An|The)\b", phrase):
        return phrase
    return "the " + strip_article(phrase)


def indefinite(phrase: str) -> str:
    bare = strip_article(phrase)
    return ("an " if bare[:1].lower() in "aeiou" else "a ") + bare


def join(names: Iterable[str]) -> str | None:
    names = list(names)
    if not names:
        return None
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Setting:
    """A setting read for its words: the place, how to say "there", its things, the time of day."""

    text: str
    place: str
    where: str
    things: tuple[str, ...]
    time: str

    @classmethod
    def read(cls, text: str | None) -> Setting:
        text = (text or "").strip().rstrip(".")
        if not text:
            return cls("", "this place", "here", ("everything around",), "day")
        lowered = text.lower()
        time = next((t for word, t in TIMES.items() if re.search(rf"\b{word}\b", lowered)), "day")
        chunks = [c.strip() for c in SPLIT.split(text) if _wordy(c)]
        nouns = [c for c in chunks if strip_article(c).lower() not in TIMES]
        first = next((part.strip() for part in text.split(",") if _wordy(part)), "")
        if not first or not nouns:  # only small words ("at night", "the"): no place named
            return cls(text, "this place", "here", ("everything around",), time)
        lead = first.split()[0].lower()
        if lead in PREPOSITIONS:
            rest = first[len(first.split()[0]):].strip()
            where = f"{first.split()[0]} {definite(rest)}" if rest else first
            place = definite(nouns[0]) if nouns else "this place"
            if len(nouns) > 1 and strip_article(nouns[0]).lower() in PARTS:
                place = f"{place} of {definite(nouns[1])}"
                nouns = [place, *nouns[2:]]
        elif part := re.match(rf"^(?:the |a |an )?({'|'.join(PARTS)}) of (.+)$", first, re.I):
            # "the top of a snowy mountain" is one place, not a top and a mountain
            owner = SPLIT.split(part.group(2))[0]
            place = f"the {part.group(1).lower()} of {definite(owner)}"
            where = f"{PARTS[part.group(1).lower()]} {place}"
            nouns = [place, *nouns[2:]]
        else:
            place = definite(nouns[0]) if nouns else definite(first)
            head = re.findall(r"[a-z]+", place.lower())
            preposition = "on" if head and any(head[-1].startswith(w) for w in ON_PLACES) else "in"
            where = f"{preposition} {place}"
        things = tuple(definite(n) for n in nouns[1:]) or (place,)
        return cls(text, place, where, things, time)


@dataclass(frozen=True, slots=True)
class Who:
    """A character as the templates speak of it."""

    name: str
    description: str
    kind: str | None
    tags: tuple[str, ...]

    @classmethod
    def of(cls, brief: CharacterBrief | None, name: str) -> Who:
        if brief is None:
            return cls(name, "", None, ())
        words = f"{brief.description} {' '.join(brief.tags)}".lower()
        kind = next((k for k in T.KINDS if re.search(rf"\b{k}s?\b", words)), None)
        return cls(name, brief.description.strip().rstrip("."), kind, brief.tags)

    def intro(self, young: bool) -> str:
        """'a tiny green snail called Sam' (the short form for young listeners)."""
        desc = self.description
        if not desc or not re.match(r"^(a|an|the|one|[a-z])", desc):
            return self.name
        if young and self.kind:
            match = re.search(rf"\b{self.kind}s?\b", desc, re.I)
            if match:
                desc = desc[:match.end()]
        return f"{indefinite(desc)} called {self.name}"


@dataclass(frozen=True, slots=True)
class Premise:
    """What the premise (and title) say about the hero: a fear, something lost, a wish."""

    fear: str | None = None
    lost: str | None = None
    want: str | None = None

    @classmethod
    def read(cls, *texts: str | None) -> Premise:
        text = " . ".join(t for t in texts if t)
        end = r"(?=\s+(?:and|but|until|so|who|when|because|learns|finds)\b|[,.;!?]|$)"

        def grab(pattern: str) -> str | None:
            match = re.search(pattern + r"\s+(.+?)" + end, text, re.I)
            if not match:
                return None
            words = match.group(1).split()[:6]
            return " ".join(words).lower() if words else None

        return cls(fear=grab(r"\b(?:afraid|scared|frightened|fearful|terrified) of"),
                   lost=grab(r"\b(?:lost|loses|lose)(?=\s+(?:her|his|its|their|my|the|a|an)\b)"),
                   want=grab(r"\b(?:learns|learned|wants|wanted|tries|decides|hopes|longs) to"))
