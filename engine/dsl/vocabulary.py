"""The words the language knows: keys per block, voice categories, cameras and transitions."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

HEADER_KEYS = ("title", "audience", "style", "language", "premise", "scenes", "music", "use",
               "seed")
"""Fields at the top of a file (outside every block)."""

VOICE_BACKEND_KEYS = ("espeak", "edge", "piper", "openai")
"""Per-backend voice ids a `voice` block may carry (`edge: en-GB-SoniaNeural`): one per tts
backend there is (conf/tts/), so an id for a backend that does not exist is an unknown key."""

VOICE_KEYS = ("category", "rate", "pitch") + VOICE_BACKEND_KEYS

CHARACTER_KEYS = ("description", "voice", "tags", "reference", "model", "token", "trainedness")

SCENE_KEYS = ("title", "setting", "image", "with", "trainedness", "camera", "transition",
              "duration", "seed", "music")
"""Keys that are settings inside a scene; any other `NAME: "text"` there is a dialogue line."""

MEDIA_KEYS = {"music": "audio", "reference": "image"}
"""Keys whose value is a media file, and the kind of media `check` makes sure it holds."""

AUTO = "auto"
"""A `trainedness:` value: the draw stage tries `render.auto_trainedness.alphas` and keeps the α
whose picture scores best for identity and prompt fidelity together."""

MEDIA_FOLDER_KEYS = frozenset({"reference"})
"""Media keys that may also name a folder: every image in it (not its subfolders) counts."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
"""The files of such a folder that are images; any other file there is a mistake."""

PATH_KEYS = frozenset({"use", "model", *MEDIA_KEYS})
"""Keys whose value is a path, relative to the file that names it."""

VOICE_CATEGORIES = ("narrator", "child", "adult", "elder", "creature")
"""What a voice sounds like; a TTS backend maps each category to one of its own voices."""

CATEGORY_WORDS: dict[str, frozenset[str]] = {
    "narrator": frozenset({"narrator", "storyteller", "teller"}),
    "creature": frozenset({"creature", "monster", "dragon", "troll", "giant", "robot", "ghost",
                           "beast", "goblin", "ogre", "witch", "alien"}),
    "elder": frozenset({"elder", "old", "elderly", "aged", "ancient", "wise", "grandma", "granny",
                        "grandmother", "grandpa", "grandfather", "grandad", "granddad", "nana",
                        "grandparent"}),
    "child": frozenset({"child", "kid", "girl", "boy", "baby", "young", "little", "small", "tiny",
                        "toddler", "kitten", "puppy", "cub", "chick", "duckling"}),
    "adult": frozenset({"adult", "man", "woman", "mother", "father", "mum", "mom", "dad", "lady",
                        "gentleman", "king", "queen", "prince", "princess", "teacher", "aunt",
                        "uncle", "baker", "farmer", "parent", "grownup"}),
}
"""Words that name or describe a voice category, tried in this order ("an old dragon" is a
creature). One table for check's hints (`category: kid`), the guess from a character's
description, and the TTS backends' reading of free-text categories."""

FEMALE_WORDS = frozenset({"female", "f", "woman", "women", "girl", "lady", "mother", "mum", "mom",
                          "queen", "princess", "grandma", "granny", "grandmother", "nana", "aunt",
                          "sister", "daughter", "she", "her", "witch"})
MALE_WORDS = frozenset({"male", "m", "man", "men", "boy", "gentleman", "father", "dad", "king",
                        "prince", "grandpa", "grandfather", "grandad", "granddad", "uncle",
                        "brother", "son", "he", "him"})
"""Words that make a category female or male (`little girl` → child-female)."""


def words_of(text: str) -> set[str]:
    """The lowercase words of a text (`Child (female)` → child, female)."""
    return set(re.findall(r"[a-z]+", text.lower()))


def category_in(text: str) -> str | None:
    """The first voice category (in CATEGORY_WORDS' order) that a word of `text` names."""
    words = words_of(text)
    return next((name for name, known in CATEGORY_WORDS.items() if known & words), None)


def category_named(word: str) -> str | None:
    """The voice category one word stands for (`kid` → child), else None."""
    return next((name for name, known in CATEGORY_WORDS.items() if word.lower() in known), None)


def gender_in(text: str) -> str | None:
    """`female` or `male` when a word of `text` says so (female first), else None."""
    words = words_of(text)
    return "female" if FEMALE_WORDS & words else "male" if MALE_WORDS & words else None

CAMERAS = ("still", "slow zoom in", "slow zoom out", "pan left", "pan right")
"""How the picture moves while a scene plays (`camera:`); `still` when left out."""

TRANSITIONS = ("cut", "crossfade", "dissolve", "fade through black",
               "wipe left", "wipe right", "wipe up", "wipe down",
               "slide left", "slide right", "slide up", "slide down",
               "circle open", "circle close")
"""How a scene begins, from the one before (`transition:`); `cut` when left out."""

RESERVED_NAMES = frozenset({"voice", "character", "scene"})
"""Words that open blocks: no character may be called one of them."""

RATE_RANGE = (0.25, 4.0)
"""`rate:` and `pitch:` are factors of a voice's normal speed and pitch."""

MAX_SCENES = 100


@dataclass(frozen=True, slots=True)
class Bounds:
    """A number's range: outside `low`..`high` is an error; outside the usual range, a warning."""

    low: float
    high: float
    usual_low: float
    usual_high: float


DURATION = Bounds(low=0.5, high=3600.0, usual_low=2.0, usual_high=300.0)
"""A scene's `duration:` in seconds: half a second to an hour; usually 2 s to 5 minutes."""

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters a story may not hold: C0 and C1 controls but tab and line ends, line and paragraph
separators, bidirectional embeddings, overrides and isolates. Printed, they drive the terminal;
spoken or captioned, they cut or reorder the text. (A carriage return may only end a line.)"""

DIRECTIONS: dict[str, dict[str, float | bool]] = {
    "whisper": {"rate": 0.9, "volume": 0.75, "range": 0.7, "whisper": True},
    "shout": {"rate": 1.05, "pitch": 1.25, "range": 1.3, "volume": 1.6},
    "yell": {"rate": 1.05, "pitch": 1.25, "range": 1.3, "volume": 1.6},
    "call": {"pitch": 1.12, "range": 1.2, "volume": 1.3},
    "loud": {"volume": 1.4},
    "sad": {"rate": 0.85, "pitch": 0.88, "range": 0.6, "volume": 0.85},
    "happy": {"rate": 1.08, "pitch": 1.12, "range": 1.3, "volume": 1.05},
    "cheerful": {"rate": 1.08, "pitch": 1.12, "range": 1.3, "volume": 1.05},
    "laugh": {"rate": 1.1, "pitch": 1.15, "range": 1.4, "volume": 1.1},
    "giggle": {"rate": 1.12, "pitch": 1.2, "range": 1.4},
    "excited": {"rate": 1.18, "pitch": 1.2, "range": 1.5, "volume": 1.15},
    "surprised": {"rate": 1.05, "pitch": 1.2, "range": 1.5, "volume": 1.1},
    "curious": {"pitch": 1.08, "range": 1.25},
    "proud": {"rate": 0.95, "pitch": 1.05, "range": 1.2, "volume": 1.15},
    "brave": {"rate": 0.97, "pitch": 0.97, "volume": 1.15},
    "worried": {"rate": 1.1, "pitch": 1.08, "range": 0.8, "volume": 0.9},
    "nervous": {"rate": 1.12, "pitch": 1.08, "range": 0.8, "volume": 0.85},
    "scared": {"rate": 1.15, "pitch": 1.15, "range": 0.9, "volume": 0.85},
    "afraid": {"rate": 1.15, "pitch": 1.15, "range": 0.9, "volume": 0.85},
    "frightened": {"rate": 1.15, "pitch": 1.15, "range": 0.9, "volume": 0.85},
    "soft": {"rate": 0.92, "pitch": 0.97, "volume": 0.7},
    "gentle": {"rate": 0.92, "pitch": 0.97, "volume": 0.75},
    "quiet": {"rate": 0.95, "volume": 0.65},
    "angry": {"rate": 1.05, "pitch": 0.92, "range": 1.2, "volume": 1.35},
    "grumpy": {"rate": 0.95, "pitch": 0.9, "range": 0.7, "volume": 1.1},
    "cry": {"rate": 0.85, "pitch": 1.1, "range": 0.7, "volume": 0.9},
    "sleepy": {"rate": 0.75, "pitch": 0.88, "range": 0.5, "volume": 0.75},
    "tired": {"rate": 0.8, "pitch": 0.9, "range": 0.6, "volume": 0.8},
    "yawn": {"rate": 0.75, "pitch": 0.88, "range": 0.5, "volume": 0.75},
    "amazed": {"rate": 0.95, "pitch": 1.15, "range": 1.5, "volume": 1.05},
    "wonder": {"rate": 0.92, "pitch": 1.08, "range": 1.3},
    "chuckle": {"rate": 1.05, "pitch": 1.05, "range": 1.2},
    "smile": {"pitch": 1.06, "range": 1.15},
    "glow": {"pitch": 1.06, "range": 1.2},
    "warm": {"rate": 0.95, "pitch": 1.03, "range": 1.1},
    "calm": {"rate": 0.9, "range": 0.8, "volume": 0.9},
    "hopeful": {"pitch": 1.06, "range": 1.15},
    "shy": {"rate": 0.92, "pitch": 1.05, "range": 0.8, "volume": 0.7},
    "playful": {"rate": 1.08, "pitch": 1.1, "range": 1.35},
    "mysterious": {"rate": 0.85, "pitch": 0.95, "range": 0.8, "volume": 0.8},
    "gasp": {"rate": 1.1, "pitch": 1.2, "range": 1.3},
    "cheer": {"rate": 1.1, "pitch": 1.2, "range": 1.4, "volume": 1.4},
    "sing": {"rate": 0.9, "pitch": 1.1, "range": 1.7},
    "growl": {"rate": 0.9, "pitch": 0.8, "range": 0.7, "volume": 1.3},
    "roar": {"rate": 0.95, "pitch": 0.85, "range": 1.2, "volume": 1.6},
    "squeak": {"rate": 1.1, "pitch": 1.35, "volume": 0.9},
    "sob": {"rate": 0.8, "pitch": 1.1, "range": 0.6, "volume": 0.8},
    "slow": {"rate": 0.8},
    "fast": {"rate": 1.2},
    "quick": {"rate": 1.2},
}
"""Delivery directions (`Luna (whispering): ...`) and how every TTS backend says them: factors
on rate, pitch, pitch range and volume, and whispering. A backend's `directions:` setting adds or
overrides; `check` warns about a direction none of whose words is here."""

HEARD_ONLY = frozenset({"whisper", "shout", "yell", "call", "loud", "soft", "quiet", "slow",
                        "fast", "quick", "squeak", "growl", "mutter", "murmur", "mumble", "hum"})
"""Directions a listener hears but a picture cannot show (`whispering`, `loudly`); the others
(`sad`, `laughing`, `yawn`) are expressions and actions an illustrator can draw."""

ACTIONS = frozenset({"run", "sleep", "fly", "wave", "hug", "sit", "jump", "point"})
"""Directions a picture shows and a voice does not (`waving`, `jumps`): the illustrator draws the
speaker in that pose, the line is said plainly, and `check` does not call them unknown."""

_SUFFIXES = (("ily", "y"), ("ly", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
             ("ied", "y"), ("ies", "y"), ("es", ""), ("s", ""), ("", "e"))


def direction_word(word: str, table: Container[str] = DIRECTIONS) -> str | None:
    """The entry of `table` a direction's word means (`whispering` → `whisper`), or None."""
    if word in table:
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            stem = word[: len(word) - len(suffix)] + replacement
            if stem in table:
                return stem
            if stem[-1:] == stem[-2:-1] and stem[:-1] in table:  # "sadd(er)", "shouting" forms
                return stem[:-1]
    return None


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def number(text: str | None) -> float | None:
    """The value as a plain decimal number (`0.5`, `.5`, `2`), or None when it is not one."""
    stripped = text.strip() if text is not None else ""
    return float(stripped) if _NUMBER.fullmatch(stripped) else None
