"""The words the language knows: keys per block, voice categories, cameras and transitions."""

from __future__ import annotations

import re

HEADER_KEYS = ("title", "audience", "style", "language", "premise", "scenes", "music", "use",
               "seed")
"""Fields at the top of a file (outside every block)."""

VOICE_BACKEND_KEYS = ("espeak", "edge", "piper", "openai", "kokoro", "coqui", "elevenlabs")
"""Per-backend voice ids a `voice` block may carry (`edge: en-GB-SoniaNeural`)."""

VOICE_KEYS = ("category", "rate", "pitch") + VOICE_BACKEND_KEYS

CHARACTER_KEYS = ("description", "voice", "tags", "reference", "model", "token", "trainedness")

SCENE_KEYS = ("title", "setting", "image", "with", "trainedness", "camera", "transition",
              "duration", "seed", "music")
"""Keys that are settings inside a scene; any other `NAME: "text"` there is a dialogue line."""

PATH_KEYS = frozenset({"use", "reference", "model", "music"})
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

TRANSITIONS = ("cut", "crossfade")
"""How a scene gives way to the next (`transition:`); `cut` when left out."""

RESERVED_NAMES = frozenset({"voice", "character", "scene"})
"""Words that open blocks: no character may be called one of them."""

RATE_RANGE = (0.25, 4.0)
"""`rate:` and `pitch:` are factors of a voice's normal speed and pitch."""

MAX_SCENES = 100
