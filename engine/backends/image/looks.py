"""A character's stable look for the procedural illustrator: kind, colours, accessories."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from engine.backends.image import CharacterLook
from engine.backends.image.words import (COLOUR_WORDS, COLOURS_AFTER_NOUN, DESCRIPTIONS,
                                         SUBSTRING_LANGUAGES, wrap)

RGB = tuple[int, int, int]

COLOURS: dict[str, RGB] = {
    "red": (214, 64, 58), "scarlet": (220, 50, 40), "crimson": (180, 30, 50),
    "orange": (240, 140, 50), "amber": (240, 175, 40), "peach": (250, 190, 150),
    "coral": (245, 125, 100), "yellow": (250, 215, 60), "golden": (235, 185, 50),
    "gold": (235, 185, 50), "cream": (250, 240, 210), "beige": (225, 205, 170),
    "green": (110, 180, 80), "mint": (160, 225, 180), "olive": (130, 140, 60),
    "teal": (40, 150, 150), "turquoise": (60, 200, 200), "blue": (70, 120, 215),
    "navy": (40, 55, 120), "indigo": (75, 60, 150), "purple": (145, 85, 190),
    "violet": (150, 100, 210), "lilac": (200, 160, 225), "lavender": (190, 170, 230),
    "pink": (245, 150, 185), "rosy": (240, 140, 150), "rose": (235, 120, 140),
    "brown": (150, 100, 60), "chocolate": (110, 70, 40), "tan": (210, 170, 120),
    "ginger": (220, 120, 50), "black": (45, 45, 55), "white": (248, 248, 245),
    "grey": (150, 150, 160), "gray": (150, 150, 160), "silver": (200, 205, 215),
    "rainbow": (200, 120, 220),
}
"""Colour words an author may use, as picture-book (slightly soft) RGB."""

_SHADES = {"light": 0.35, "pale": 0.45, "pastel": 0.4, "dark": -0.35, "deep": -0.25}

KIND_WORDS: dict[str, str] = {
    "moon": "moon", "sun": "sun", "star": "star", "owl": "owl", "bird": "bird", "robin": "bird",
    "sparrow": "bird", "chick": "bird", "parrot": "bird", "duck": "bird", "duckling": "bird",
    "penguin": "penguin", "snail": "snail", "turtle": "turtle", "tortoise": "turtle",
    "fox": "fox", "rabbit": "rabbit", "bunny": "rabbit", "hare": "rabbit", "cat": "cat",
    "kitten": "cat", "kitty": "cat", "dog": "dog", "puppy": "dog", "bear": "bear", "cub": "bear",
    "mouse": "mouse", "lion": "lion", "pig": "pig", "piglet": "pig", "sheep": "sheep",
    "lamb": "sheep", "hedgehog": "hedgehog", "fish": "fish", "whale": "fish", "goldfish": "fish",
    "dragon": "dragon", "dinosaur": "dragon", "frog": "frog", "toad": "frog",
    "butterfly": "butterfly", "bee": "bee", "firefly": "bee", "ladybird": "bee",
    "robot": "robot", "girl": "girl",
    "princess": "girl", "queen": "girl", "grandma": "girl", "granny": "girl", "woman": "girl",
    "mother": "girl", "mum": "girl", "boy": "boy", "prince": "boy", "king": "boy",
    "grandpa": "boy", "man": "boy", "father": "boy", "dad": "boy", "child": "child", "kid": "child",
    "baby": "child", "elephant": "bear", "monkey": "bear", "squirrel": "fox",
}
"""Words of a description → the figure that draws it (close cousins share a figure)."""

DEFAULTS: dict[str, tuple[RGB, RGB]] = {
    "moon": ((245, 232, 165), (225, 210, 140)), "sun": ((250, 200, 60), (245, 150, 50)),
    "star": ((250, 215, 80), (240, 180, 60)), "owl": ((150, 110, 80), (230, 210, 170)),
    "bird": ((90, 160, 220), (250, 200, 80)), "penguin": ((50, 55, 70), (245, 245, 240)),
    "snail": ((170, 200, 120), (190, 130, 80)), "turtle": ((130, 190, 110), (120, 150, 70)),
    "fox": ((235, 130, 50), (250, 245, 235)), "rabbit": ((225, 220, 215), (245, 180, 190)),
    "cat": ((160, 160, 170), (240, 235, 230)), "dog": ((200, 160, 110), (250, 240, 225)),
    "bear": ((150, 100, 65), (215, 180, 140)), "mouse": ((175, 170, 175), (245, 180, 190)),
    "lion": ((235, 185, 80), (190, 110, 50)), "pig": ((245, 175, 185), (235, 140, 160)),
    "sheep": ((248, 248, 240), (70, 65, 70)), "hedgehog": ((170, 130, 95), (110, 80, 60)),
    "fish": ((245, 140, 60), (250, 230, 200)), "dragon": ((110, 180, 90), (250, 215, 110)),
    "frog": ((110, 185, 80), (200, 230, 140)), "butterfly": ((190, 120, 220), (250, 200, 80)),
    "bee": ((250, 205, 60), (45, 45, 55)), "robot": ((190, 200, 215), (90, 140, 220)),
}
"""A kind's body and accent colours when the author names none."""

_CLOTHES = ((214, 64, 58), (70, 120, 215), (110, 180, 80), (250, 215, 60), (145, 85, 190),
            (245, 150, 185), (240, 140, 50), (40, 150, 150))
_SKIN = ((250, 220, 190), (235, 195, 160), (200, 150, 110), (150, 100, 70), (110, 75, 55))
_HAIR = ((90, 60, 40), (40, 35, 35), (220, 180, 90), (170, 80, 40), (130, 90, 60))
_FALLBACK = ((150, 200, 230), (240, 170, 120), (180, 160, 230), (150, 210, 150), (245, 190, 200))

ACCESSORIES = ("nightcap", "hat", "cap", "scarf", "bow", "ribbon", "crown", "glasses",
               "cape", "umbrella", "backpack", "bag")
_ACCENT_PARTS = ("shell", "belly", "tummy", "wing", "wings", "hair", "mane", "tail", "spots",
                 "stripes", "fins", "fin", "ears", "beak", "patch", "scales", "chest", "wool")
_CLOTHING = ("dress", "shirt", "jacket", "coat", "raincoat", "sweater", "jumper", "overalls",
             "pajamas",
             "pyjamas", "skirt", "cloak", "robe", "hoodie", "t-shirt", "suit")

NAMED_PARTS = ("antenna", "boots", "wellies", "eyes", "nose")
"""Parts a figure draws in the colour they are named with ('a red antenna', 'yellow boots')."""
_PART_NAMES = {"wellies": "boots", "eye": "eyes", "antennae": "antenna"}

_PARTS = frozenset((*ACCESSORIES, *_ACCENT_PARTS, *_CLOTHING, *NAMED_PARTS, *KIND_WORDS, "skin",
                    "fur",
                    "feathers", "body", "cheeks", "cheek", "nose", "eyes", "eye"))


@dataclass(frozen=True, slots=True)
class Look:
    """How a character is drawn in every scene: the same words give the same look."""

    kind: str
    body: RGB
    accent: RGB
    skin: RGB
    accessories: tuple[tuple[str, RGB], ...]
    cheeks: bool
    size: float  # relative figure height (1.0: a child-sized figure)
    parts: tuple[tuple[str, RGB], ...] = ()
    """Named parts and their colours: antenna, boots, eyes, nose; clothes on an animal."""

    def part(self, name: str, default: RGB) -> RGB:
        return dict(self.parts).get(name, default)


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved a fraction `t` of the way to `b`."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def shade(colour: RGB, amount: float) -> RGB:
    """Lighter (amount > 0, towards white) or darker (amount < 0, towards a cool dark)."""
    if amount >= 0:
        return mix(colour, (255, 255, 255), amount)
    return mix(colour, (20, 20, 40), -amount)


def _colour_runs(words: list[str]) -> list[tuple[RGB, str | None]]:
    """Each colour word with the noun it colours ('yellow shell' → (yellow, 'shell'))."""
    runs: list[tuple[RGB, str | None]] = []
    for index, word in enumerate(words):
        if word not in COLOURS:
            continue
        colour = COLOURS[word]
        before = words[index - 1] if index else ""
        if before in _SHADES:
            colour = shade(colour, _SHADES[before])
        ahead = [w for w in words[index + 1:index + 4]
                 if w not in COLOURS and w not in _SHADES and w not in ("and", "with", "a")]
        known = [w for w in ahead if w in _PARTS or w.rstrip("s") in _PARTS]
        noun = known[0] if known else (ahead[0] if ahead else None)
        runs.append((colour, noun))
    return runs


@functools.lru_cache(maxsize=8)
def _description_words(language: str) -> re.Pattern[str]:
    """The language's description and colour words, one named group each, longest first."""
    table = {**DESCRIPTIONS[language], **COLOUR_WORDS[language]}
    return re.compile("|".join(f"(?P<w{i}>{wrap(pattern, language)})"
                               for i, pattern in enumerate(table)))


def _english_word(language: str, group: str) -> str:
    table = {**DESCRIPTIONS[language], **COLOUR_WORDS[language]}
    return list(table.values())[int(group[1:])]


def _colour_first(words: list[str]) -> list[str]:
    """'écharpe verte claire' read as 'light green scarf': a colour (and its shade) that follows
    the thing it colours goes before it, as the English reading expects."""
    out: list[str] = []
    index = 0
    while index < len(words):
        group = [words[index]]
        if group[0] in COLOURS and index + 1 < len(words) and words[index + 1] in _SHADES:
            group, index = [words[index + 1], group[0]], index + 1  # 'bleu clair': light blue
        index += 1
        if group[-1] in COLOURS and out and out[-1] not in COLOURS and out[-1] not in _SHADES \
                and out[-1] not in ("with", "and", "little", "tiny", "big"):
            out[-1:-1] = group
        else:
            out += group
    return out


@functools.lru_cache(maxsize=512)
def in_english(text: str, language: str) -> str:
    """A description in the story's language as the English words the figures know (kinds,
    colours, parts, clothes, sizes); words no table knows are kept, so English works too."""
    text = text.lower()
    if language not in DESCRIPTIONS:
        return text
    # between matches, English words; inside a German compound only what is word-sized
    kept = r"[a-z\-]{3,}" if language in SUBSTRING_LANGUAGES else r"[a-z\-]+"
    words: list[str] = []
    position = 0
    for m in _description_words(language).finditer(text):
        words += re.findall(kept, text[position:m.start()])
        words.append(_english_word(language, m.lastgroup or "w0"))
        position = m.end()
    words += re.findall(kept, text[position:])
    return " ".join(_colour_first(words) if language in COLOURS_AFTER_NOUN else words)


def look_of(character: CharacterLook, language: str = "en") -> Look:
    """The look of a character, from its name, description and tags only (never the scene),
    read in the story's language (a code of words.TABLES)."""
    text = in_english(f"{character.description} {' '.join(character.tags)}", language)
    words = re.findall(r"[a-z\-]+", text)
    found = [KIND_WORDS.get(w) or KIND_WORDS.get(w[:-1] if w.endswith("s") else w)
             for w in words]
    kind = next((k for k in found if k), "blob")
    seed = _stable(f"{character.name}|{character.description}|{'|'.join(character.tags)}")
    body, accent = DEFAULTS.get(kind, (_FALLBACK[seed % len(_FALLBACK)],
                                       _FALLBACK[(seed >> 3) % len(_FALLBACK)]))
    person = kind in ("girl", "boy", "child")
    if person:
        body, accent = _CLOTHES[seed % len(_CLOTHES)], _HAIR[(seed >> 5) % len(_HAIR)]
    skin = _SKIN[(seed >> 9) % len(_SKIN)]
    accessories: dict[str, RGB] = {}
    parts: dict[str, RGB] = {}
    body_named = False
    for colour, noun in _colour_runs(words):
        stem = (noun or "").rstrip("s") if noun not in ("glasses", "stripes") else noun
        if noun in ACCESSORIES or stem in ACCESSORIES:
            accessories[noun if noun in ACCESSORIES else stem] = colour
        elif noun in ("skin",):
            skin = colour
        elif noun in (*NAMED_PARTS, "eye", "antennae"):
            parts[_PART_NAMES.get(noun, noun)] = colour
        elif noun in ("cheeks", "cheek"):
            continue
        elif not person and (noun in _CLOTHING or stem in _CLOTHING):
            parts["clothes"] = colour
        elif noun in _ACCENT_PARTS or stem in _ACCENT_PARTS or (person and noun in ("hair",)):
            accent = colour
        elif person and noun not in _CLOTHING and not body_named and noun in ("fur", None):
            accent = colour
        elif not body_named:
            body, body_named = colour, True
    for accessory in ACCESSORIES:
        if re.search(rf"\b{accessory}s?\b", text) and accessory not in accessories:
            accessories[accessory] = _CLOTHES[(seed >> 13) % len(_CLOTHES)]
    if "crown" in accessories and not re.search(r"\b[a-z]+ crown", text):
        accessories["crown"] = COLOURS["gold"]
    for royal in ("princess", "prince", "king", "queen"):
        if re.search(rf"\b{royal}\b", text):
            accessories.setdefault("crown", COLOURS["gold"])
    size = {"moon": 1.15, "sun": 1.1, "mouse": 0.6, "snail": 0.8, "bird": 0.6, "bee": 0.45,
            "butterfly": 0.5, "fish": 0.9, "frog": 0.65, "dragon": 1.35, "bear": 1.15,
            "hedgehog": 0.6}.get(kind, 1.0)
    if re.search(r"\b(tiny|little|small|baby)\b", text):
        size *= 0.85
    if re.search(r"\b(big|huge|giant|tall|large)\b", text):
        size *= 1.2
    cheeks = "cheek" in text or kind in ("moon", "sun", "star", "girl", "pig", "mouse")
    ordered = tuple(sorted(accessories.items()))
    return Look(kind, body, accent, skin, ordered, cheeks, size, tuple(sorted(parts.items())))
