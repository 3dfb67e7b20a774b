"""The offline writer's words: settings, characters, premises read; titles, scene ids made."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from engine.backends.llm import CharacterBrief
from engine.backends.llm import offline_templates as templates

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


def quoted(text: str, name: str, turn: int) -> str:
    """Words as the narrator tells them: '“I like it here,” said Hedgehog.'"""
    if turn % 2:
        return f"{name} said, “{text}”"
    body = text[:-1] + "," if text.endswith(".") else text
    return f"“{body}” said {name}."


def with_time_of_day(place: str, index: int, count: int) -> str:
    """A setting with the time of day advancing through the story (unless it names one)."""
    if any(re.search(rf"\b{w}\b", place) for w in TIMES):
        return place
    times = templates.TIMES_OF_DAY
    step = times[min(len(times) - 1, index * len(times) // max(count, 1))]
    return f"{place}, {step}"


def title_case(text: str) -> str:
    """Title case that leaves small words small: 'A Morning in the Garden'."""
    small = {"a", "an", "the", "in", "on", "at", "of", "by", "and", "with", "under", "to"}
    words = text.split()
    return " ".join(w if i and w.lower() in small else cap(w) for i, w in enumerate(words))


def unique_scene_id(title: str, index: int, taken: set[str]) -> str:
    """A scene id from its title, made unique among `taken` (and added to it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or f"scene-{index + 1}"
    if not slug[0].isalpha():
        slug = f"scene-{slug}"
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    taken.add(candidate)
    return candidate


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
        # the kind named first: "a penguin who hopes to see the sun" is a penguin
        found = [(m.start(), k) for k in templates.KINDS
                 if (m := re.search(rf"\b{k}s?\b", words))]
        kind = min(found)[1] if found else None
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
    """What the premise (and title) say about the hero: a fear, something lost, a wish (`want`,
    with `wished` when the premise wants it rather than learns it: 'wants to win a race')."""

    fear: str | None = None
    lost: str | None = None
    want: str | None = None
    wished: bool = False

    @classmethod
    def read(cls, *texts: str | None) -> Premise:
        text = " . ".join(t for t in texts if t)
        end = r"(?=\s+(?:and|but|until|so|who|when|because|learns|finds)\b|[,.;!?]|$)"

        def grab(pattern: str) -> tuple[str | None, str]:
            match = re.search(pattern + r"\s+(.+?)" + end, text, re.I)
            if not match:
                return None, ""
            words = match.group(1).split()[:6]
            return (" ".join(words).lower() if words else None), match.group(0).lower()

        fear = grab(r"\b(?:afraid|scared|frightened|fearful|terrified) of")[0]
        lost = grab(r"\b(?:lost|loses|lose)(?=\s+(?:her|his|its|their|my|the|a|an)\b)")[0]
        want, said = grab(r"\b(?:learns|learned|wants|wanted|tries|decides|hopes|longs) to")
        return cls(fear, lost, want, wished=bool(want) and not said.startswith("learn"))


_PAST = {"is": "was", "are": "were", "am": "was", "has": "had", "have": "had", "does": "did",
         "goes": "went", "go": "went", "loses": "lost", "lose": "lost", "finds": "found",
         "find": "found", "makes": "made", "make": "made", "gets": "got", "get": "got",
         "comes": "came", "becomes": "became", "become": "became", "sees": "saw",
         "takes": "took", "thinks": "thought", "can": "could", "will": "would",
         "can't": "couldn't", "cannot": "could not", "doesn't": "didn't", "isn't": "wasn't",
         "aren't": "weren't", "won't": "wouldn't", "meets": "met", "meet": "met",
         "flies": "flew", "runs": "ran", "swims": "swam", "sings": "sang", "falls": "fell",
         "feels": "felt", "forgets": "forgot", "leaves": "left", "builds": "built",
         "wakes": "woke", "hides": "hid", "gives": "gave", "keeps": "kept", "sleeps": "slept",
         "teaches": "taught", "catches": "caught", "brings": "brought", "knows": "knew",
         "grows": "grew", "draws": "drew", "says": "said", "tells": "told", "wins": "won",
         "shines": "shone", "digs": "dug", "stops": "stopped", "hops": "hopped",
         "plans": "planned", "drops": "dropped", "sets": "set", "spends": "spent"}
_REGULAR = frozenset(
    "fears wants learns learn tries try decides hopes longs dreams discovers helps saves needs "
    "loves likes hates misses wishes searches search looks look plays play starts follows "
    "visits dances explores worries waits asks wonders rescues returns travels lives turns "
    "refuses believes climbs jumps walks paints counts shares cries carries befriends glows "
    "sails escapes wanders imagines collects listens bakes wants want".split())
"""Third-person (and a few plural) present verbs whose past is regular."""
_RELATIVE = ("who", "that", "which", "whose")
_JOINS = ("and", "but", "then", "until", "so", "when", "because", "after", "before", "or")
_AFTER_NOUN = frozenset({"lost", "stuck", "trapped", "alone", "afraid", "scared", "left",
                         "looking", "living", "trying", "searching", "hiding", "without", "to"})
_NUMBERS = frozenset({"two", "three", "four", "five", "six", "seven", "some", "many", "all",
                      "several", "both"})
_DETERMINERS = frozenset({"a", "an", "the", "one", *_NUMBERS})
_NOT_SUBJECT = frozenset({*_JOINS, *_RELATIVE, "how", "why", "what", "where", "if", "it", "there",
                          "i", "we", "you", "they", "he", "she", "once", "this", "these"})
_SIZES = frozenset({"little", "tiny", "small", "big", "huge", "giant", "young", "old", "baby"})


def _finite(word: str) -> bool:
    return word.lower() in _PAST or word.lower() in _REGULAR


def past(word: str) -> str:
    """A present verb in the past: 'fears' → 'feared', 'is' → 'was' (other words unchanged)."""
    low = word.lower()
    if low in _PAST:
        return _PAST[low]
    if low not in _REGULAR:
        return word
    if low.endswith("ies") or (low.endswith("y") and low[-2:-1] not in "aeiou"):
        return low[:-3 if low.endswith("ies") else -1] + "ied"
    if re.search(r"(ch|sh|ss|x|z)es$", low):
        return low[:-2] + "ed"
    stem = low[:-1] if low.endswith("s") else low
    return stem + ("d" if stem.endswith("e") else "ed")


def past_clause(words: list[str]) -> list[str]:
    """A predicate in the past: its first verb, and each verb after a joining word."""
    out = list(words)
    for i, word in enumerate(out):
        if i == 0 or out[i - 1].lower() in _JOINS + _RELATIVE:
            out[i] = past(word)
    return out


@dataclass(frozen=True, slots=True)
class PremiseShape:
    """A premise read for its grammar: who it is about, and what is said of them.

    `subject` "a hedgehog", `relative` "who is scared of the dark", `rest` "lost in the woods"
    (what follows a noun phrase), `predicate` "loses her glow" (when the premise is a clause).
    """

    subject: str
    head: str
    plural: bool
    relative: str = ""
    rest: str = ""
    predicate: str = ""

    @classmethod
    def read(cls, premise: str | None) -> PremiseShape | None:
        words = re.sub(r"[.!?]+$", "", " ".join((premise or "").split())).split()
        if not words or not re.match(r"[^\W\d_]", words[0]) or words[0].lower() in _NOT_SUBJECT:
            return None
        if len(words) > 2 and all(w[:1].isupper() for w in words if w[:1].isalpha()):
            # a premise in title case ("The Moon Who Lost..."); a leading name stays a name
            keep = 0 if words[0].lower() in _DETERMINERS else 1
            words = words[:keep] + [w.lower() for w in words[keep:]]
        start = 1 if words[0].lower() in _DETERMINERS else 0
        end = start
        while end < len(words):  # the noun phrase runs to a verb, a relative or a preposition
            low = words[end].lower()
            stop = (low in _RELATIVE or _finite(low) or low in PREPOSITIONS or
                    low in _AFTER_NOUN or low.endswith("ed") or low in _JOINS[1:] or
                    low in ("of", "with", ","))
            if stop and end > start:
                break
            end += 1
        subject_words = words[:end]
        # "a dog and a cat become friends": the subject goes on after "and"
        if end + 1 < len(words) and words[end].lower() == "and" and not _finite(words[end + 1]):
            more = cls.read(" ".join(words[end + 1:]))
            if more:
                joined = " ".join(words[:end + 1]) + " " + more.subject
                return cls(joined, more.head, True, more.relative, more.rest, more.predicate)
        head = re.sub(r"[^\w'\-]", "", subject_words[-1])
        if not re.fullmatch(r"[^\W\d_][\w'\-]*", head) or head.lower().endswith("ing") or (
                head.lower() in _SMALL):
            return None  # "learning to share": not a noun phrase the templates can speak of
        plural = (words[0].lower() in _NUMBERS or "and" in (w.lower() for w in subject_words) or
                  (head.endswith("s") and not head.endswith(("ss", "us")) and head.islower()
                   and words[0].lower() not in ("a", "an", "one")))
        tail = words[end:]
        relative, predicate = "", ""
        if tail and tail[0].lower() in _RELATIVE:
            # "who is afraid of the rain learns to enjoy puddles": a second verb ends the relative
            cut = next((i for i in range(2, len(tail)) if _finite(tail[i])
                        and tail[i - 1].lower() not in _JOINS + _RELATIVE + ("to",)), len(tail))
            relative, tail = " ".join(tail[:cut]), tail[cut:]
        if tail and _finite(tail[0]):
            predicate, tail = " ".join(tail), []
        return cls(" ".join(subject_words), head, plural, relative, " ".join(tail), predicate)

    @property
    def named(self) -> str:
        """The subject as a sentence can carry it: 'dragon' → 'a dragon'."""
        bare = self.subject[:1].islower() and not self.plural and not re.match(
            r"^(a|an|the|one|some|my|our|his|her|their|its)\b", self.subject, re.I)
        return indefinite(self.subject) if bare else self.subject

    def opening(self) -> str:
        """'Once upon a time there was a little hedgehog who was scared of the dark.'"""
        subject = self.named
        superlative = any(w.lower().endswith("est") for w in subject.split()[1:])
        if re.match(r"^(a|an|the)\s", subject, re.I) and not self.plural and not superlative:
            # "there was the bear" is not English; a story's first bear is "a little bear"
            small = any(w.lower() in _SIZES for w in subject.split())
            subject = ("a " if small else "a little ") + strip_article(subject)
            if small:
                subject = indefinite(subject)
        if self.predicate and not self.relative:
            return (f"This is the story of how {self.named} "
                    f"{' '.join(past_clause(self.predicate.split()))}.")
        parts = [subject, " ".join(past_clause(self.relative.split())) if self.relative else "",
                 self.rest if not self.predicate else ""]
        be = "were" if self.plural else "was"
        text = "Once upon a time there " + be + " " + " ".join(p for p in parts if p) + "."
        if self.predicate:
            the = self.subject if self.subject[:1].isupper() else (
                "the " + self.head.lower())
            text += (f" This is the story of how {the} "
                     f"{' '.join(past_clause(self.predicate.split()))}.")
        return text

    def story_of(self) -> str:
        """'This is the story of how the moon loses her glow.' (present, after an opening)."""
        whole = " ".join(p for p in (self.named, self.relative, self.rest, self.predicate) if p)
        return f"This is the story of {'how ' if self.predicate else ''}{whole}."

    def protagonist(self) -> str | None:
        """A name for the one the premise is about ('Hedgehog'); none for a crowd or a clause
        about something that is not a creature or a thing with a name."""
        if self.plural:
            return None
        first = self.subject.split()[0]
        if first[:1].isupper() and first.isalpha() and first.lower() not in _DETERMINERS:
            return first  # "Boris the bear" is Boris
        return cap(self.head)
