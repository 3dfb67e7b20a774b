"""What a scene's words ask the procedural illustrator for, in the story's language."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.looks import COLOURS, KIND_WORDS, RGB, in_english
from engine.backends.image.pose_words import EVERYONE, MUTUAL, POSES, described, negated
from engine.backends.image.words import (COLOUR_WORDS, COLOURS_AFTER_NOUN, ELEMENTS, STOPWORDS,
                                         TABLES, TIMES, language_of, wrap)

COLOURABLE = frozenset({"boat", "rocket", "castle", "village", "garden", "planets", "sea",
                        "moon_surface", "forest", "tree", "market", "kitchen", "bedroom",
                        "classroom", "room", "sky", "lake", "river", "hill"})
"""Elements a colour word can paint ('a red boat', 'un château violet')."""

_CLAUSE = re.compile(r"[,.;:!?，。；：！？、]|\b(?:then|while|but|puis|pendant|mientras|während|dann)\b")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Match:
    """One understood phrase: what it asks for ('e:sea', 'p:running', 'c:red') and where."""

    kind: str
    value: str
    start: int
    end: int
    text: str


@functools.lru_cache(maxsize=8)
def _matcher(language: str) -> re.Pattern[str]:
    """One regular expression for the language's words and English's: a named group each."""
    languages = [language] if language == "en" else [language, "en"]
    groups: list[str] = []

    def group(name: str, patterns: list[str]) -> None:
        found = [p for p in patterns if p]
        if found:
            groups.append(f"(?P<{name}>{'|'.join(found)})")

    for element in ELEMENTS:
        group(f"e_{element}", [wrap(TABLES[lang][element], lang) for lang in languages
                               if element in TABLES[lang]])
    for pose in POSES["en"]:
        group(f"p_{pose}", [wrap(POSES[lang][pose], lang) for lang in languages])
    colours: dict[str, list[str]] = {}
    for lang in languages:
        for pattern, name in COLOUR_WORDS[lang].items():
            colours.setdefault(name, []).append(wrap(pattern, lang))
    for name, patterns in colours.items():
        group(f"c_{name}", patterns)
    return re.compile("|".join(groups))


def find(text: str, language: str) -> list[Match]:
    """Every understood phrase of `text` (lower-cased), left to right, none overlapping."""
    out = []
    for m in _matcher(language).finditer(text):
        name = m.lastgroup or ""
        kind, value = name[0], name[2:]
        out.append(Match(kind, value, m.start(), m.end(), m.group()))
    return out


def _cast_words(characters: tuple[CharacterLook, ...]) -> frozenset[str]:
    text = " ".join(f"{c.name} {c.description} {' '.join(c.tags)}" for c in characters)
    return frozenset(re.findall(r"[^\W\d_]+", text.lower()))


def _unknown(text: str, matches: list[Match], language: str,
             characters: tuple[CharacterLook, ...], style: str) -> list[str]:
    """The words no table knows, less the cast's and the style's: what an author may rephrase."""
    covered = [False] * len(text)
    for m in matches:
        covered[m.start:m.end] = [True] * (m.end - m.start)
    stop = STOPWORDS.get(language, frozenset()) | STOPWORDS["en"]
    cast = _cast_words(characters) | frozenset(re.findall(r"[^\W\d_]+", style))
    out: list[str] = []
    for token in re.finditer(r"[^\W\d_]+", text):
        word, start, end = token.group(), token.start(), token.end()
        if _CJK.search(word):
            runs = re.findall(r"[^\x00]+", "".join(
                "\x00" if covered[start + i] or ch in stop else ch for i, ch in enumerate(word)))
            out.extend(runs)
        elif not any(covered[start:end]) and word not in stop and word not in cast \
                and len(word) > 1 and not word.isspace():
            out.append(word)
    return list(dict.fromkeys(out))


def _whole(text: str, m: Match) -> str:
    """The whole word a match lies in ('sturmwolken' for 'sturmwolke'); Chinese as matched."""
    if _CJK.search(m.text):
        return m.text
    start, end = m.start, m.end
    while start > 0 and text[start - 1].isalpha() and not _CJK.match(text[start - 1]):
        start -= 1
    while end < len(text) and text[end].isalpha() and not _CJK.match(text[end]):
        end += 1
    return text[start:end]


def _without_names(text: str, characters: tuple[CharacterLook, ...]) -> str:
    """The text with the cast's names blanked out: a character called Snow brings no snow."""
    for name in (c.name.lower() for c in characters if c.name.strip()):
        pattern = re.escape(name) if _CJK.search(name) else rf"(?<!\w){re.escape(name)}(?!\w)"
        text = re.sub(pattern, lambda m: " " * len(m.group()), text)
    return text


def _bind_colours(matches: list[Match], text: str, language: str
                  ) -> tuple[dict[str, RGB], set[int]]:
    """Each colour word with the element it colours; the indices of the colour matches bound."""
    colours: dict[str, RGB] = {}
    bound: set[int] = set()
    for index, m in enumerate(matches):
        if m.kind != "c":
            continue
        after = language not in COLOURS_AFTER_NOUN
        order = (1, -1) if after else (-1, 1)
        for step in order:
            near = index + step
            if not 0 <= near < len(matches) or matches[near].kind != "e":
                continue
            other = matches[near]
            gap = text[m.end:other.start] if step > 0 else text[other.end:m.start]
            if other.value in COLOURABLE and len(gap.split()) <= 2 and len(gap) <= 14:
                colours.setdefault(other.value, COLOURS[m.value])
                bound.add(index)
                break
    return colours, bound


def _who(clause: str, characters: tuple[CharacterLook, ...], language: str) -> list[str]:
    """The characters a clause names, by name or by the kind words of their description
    ('the fox', 'le renard', 'der Fuchs', '狐狸'), in the story's language."""
    named = []
    words = in_english(clause, language)
    for c in characters:
        kinds = [w for w in re.findall(r"[a-z]+", in_english(c.description, language))
                 if w in KIND_WORDS]
        if c.name and c.name.lower() in clause or any(
                re.search(rf"\b{k}s?\b", words) for k in kinds):
            named.append(c.name)
    return named


_PRONOUNS = frozenset({"he", "she", "it", "they", "then", "also", "too", "back", "il", "elle"})


def _verbs(text: str, matches: list[Match], characters: tuple[CharacterLook, ...],
           language: str) -> list[Match]:
    """'Mia waves' is a pose, 'the waves' the sea: 'waves' right after who does it (a name,
    a kind word, a pronoun, an -ly word) is read as the verb."""
    out = []
    for m in matches:
        before = re.findall(r"[^\W\d_]+", text[:m.start])[-1:]
        if m.kind == "e" and m.value == "waves" and m.text in ("wave", "waves") and before and (
                before[0] in _PRONOUNS or before[0].endswith("ly")
                or _who(before[0], characters, language)):
            m = Match("p", "waving", m.start, m.end, m.text)
        out.append(m)
    return out


def _doers(text: str, characters: tuple[CharacterLook, ...], language: str) -> list[str]:
    """Who a stretch of a clause names as the doer: by name or kind word, or the whole cast for
    'everyone' (EVERYONE)."""
    named = _who(text, characters, language)
    if not named and re.search(EVERYONE.get(language, EVERYONE["en"]), text):
        named = [c.name for c in characters]
    return named


def _poses(text: str, matches: list[Match], characters: tuple[CharacterLook, ...],
           language: str, everyone: bool = True) -> dict[str, str]:
    """Who does what: a pose word goes to the characters named before it in its clause (the
    subject), a MUTUAL one also to those named right after it; in the scene's own words
    (`everyone` True) else to those named after it. A pose its clause says is not done ('Hoot
    could not sleep') goes to no one, and a participle that describes a noun ('a sitting room',
    'a pointed hat') only to a character that noun names ('the sleeping fox')."""
    poses: dict[str, str] = {}
    bounds = [0, *(m.end() for m in _CLAUSE.finditer(text)), len(text)]
    previous = 0

    def subject(span: str) -> bool:
        return bool(_doers(span, characters, language))

    for m in (m for m in matches if m.kind == "p"):
        start = max(b for b in bounds if b <= m.start)
        end = min(b for b in bounds if b >= m.end)
        before, after = text[start:m.start], text[m.end:end]
        noun = described(before, m.text, after, language, subject)
        if negated(before, after, language, subject):
            named = []
        elif noun is not None:
            named = _who(noun, characters, language)
        else:
            named = _doers(text[max(start, previous):m.start], characters, language)
            if everyone and not named:
                named = _doers(after, characters, language)
            elif named and m.value in MUTUAL:  # 'Dot hugs Mole': Mole hugs back
                named += _who(" ".join(after.split()[:3]), characters, language)
        previous = m.end
        for name in named:
            poses.setdefault(name, m.value)
    return poses


def line_poses(lines: Iterable[tuple[str | None, str, str | None]],
               characters: tuple[CharacterLook, ...], language: str | None
               ) -> tuple[tuple[str, str], ...]:
    """What a scene's lines say its characters do, as pose words: (name, 'waving') pairs.

    Each line is (speaker, text, direction). A speaker's direction ('waving', 'en sautant') is
    the speaker's pose; a narration line gives a pose to the character it names as the one
    doing it ('Mia waves', 'le renard saute', 'everyone sleeps'), unless the line says it is not
    done ('Hoot could not sleep'). What characters say is not what they do, and the first pose
    said of a character counts."""
    table = language_of(language)
    poses: dict[str, str] = {}
    for speaker, text, direction in lines:
        if speaker is not None and direction:
            lowered = direction.lower()
            said = [m for m in find(lowered, table) if m.kind == "p" and not negated(
                lowered[:m.start], lowered[m.end:], table, lambda _: False)]
            if said and any(c.name == speaker for c in characters):
                poses.setdefault(speaker, said[0].value)
        elif speaker is None and text:
            lowered = text.lower()
            matches = _verbs(lowered, find(lowered, table), characters, table)
            for name, pose in _poses(lowered, matches, characters, table, everyone=False).items():
                poses.setdefault(name, pose)
    return tuple(sorted(poses.items()))


@dataclass(frozen=True, slots=True)
class Reading:
    """What the words of a scene ask the picture for, and which words were understood."""

    language: str
    time: str
    elements: frozenset[str]
    colours: tuple[tuple[str, RGB], ...]
    poses: tuple[tuple[str, str], ...]
    understood: tuple[str, ...]
    not_understood: tuple[str, ...]
    style: frozenset[str]

    @classmethod
    def of(cls, request: DrawRequest) -> Reading:
        language = language_of(request.language)
        sources = [t for t in dict.fromkeys((request.setting or "", request.prompt or "")) if t]
        text = " . ".join(sources).lower()
        unnamed = _without_names(text, request.characters)
        matches = _verbs(text, find(unnamed, language), request.characters, language)
        colours, bound = _bind_colours(matches, text, language)
        asked = {m.value for m in matches if m.kind == "e"}
        title = {m.value for m in find((request.title or "").lower(), language) if m.kind == "e"}
        time = next((t for t in TIMES if t in asked or t in title), "day")
        if time == "day" and asked & {"stars", "aurora"}:
            time = "night"
        cast = _cast_words(request.characters)
        understood = [_whole(text, m) for i, m in enumerate(matches) if m.kind != "c" or i in bound]
        unbound = [m.text for i, m in enumerate(matches) if m.kind == "c" and i not in bound
                   and m.text not in cast]  # 'a red boat' is understood; 'red' alone is not
        style = (request.style or "").lower()
        unknown = _unknown(unnamed, matches, language, request.characters, style)
        return cls(language, time, frozenset(asked - set(TIMES)), tuple(sorted(colours.items())),
                   tuple(sorted({**dict(request.poses),
                                 **_poses(text, matches, request.characters, language)}.items())),
                   tuple(dict.fromkeys(understood)), tuple(dict.fromkeys([*unknown, *unbound])),
                   frozenset(re.findall(r"[a-z]+", style)))

    def colour(self, element: str, default: RGB) -> RGB:
        """The colour the words give an element ('a red boat'), else `default`."""
        return dict(self.colours).get(element, default)

    def named_colour(self, element: str) -> RGB | None:
        """The colour the words give an element, or None when they name none."""
        return dict(self.colours).get(element)

    def pose(self, name: str) -> str | None:
        return dict(self.poses).get(name)
