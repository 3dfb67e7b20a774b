"""The words the language knows: keys per block, voice categories, cameras and transitions."""

from __future__ import annotations

import re
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
              "duration", "seed", "music", "sfx", "lines")
"""Keys that are settings inside a scene; any other `NAME: "text"` there is a dialogue line."""

REPEATABLE_KEYS = frozenset({"use", "sfx"})
"""Keys a block may give more than once (`use:` files, a scene's sound effects)."""

MEDIA_KEYS = {"music": "audio", "reference": "image", "sfx": "audio"}
"""Keys whose value is a media file, and the kind of media `check` makes sure it holds."""

NO_LINES = "none"
"""`lines: none`: a scene without words (its picture and its sound only); the writer writes none."""

AUTO = "auto"
"""A `trainedness:` value: the draw stage tries `render.auto_trainedness.alphas` and keeps the α
whose picture scores best for identity and prompt fidelity together."""

MEDIA_FOLDER_KEYS = frozenset({"reference"})
"""Media keys that may also name a folder: every image in it (not its subfolders) counts."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
"""The files of such a folder that are images; any other file there is a mistake."""

PATH_KEYS = frozenset({"use", "model", *MEDIA_KEYS})
"""Keys whose value is a path, relative to the file that names it (an `sfx:` value goes on after
its path: `path_part` finds where the path ends)."""

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

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def number(text: str | None) -> float | None:
    """The value as a plain decimal number (`0.5`, `.5`, `2`), or None when it is not one."""
    stripped = text.strip() if text is not None else ""
    return float(stripped) if _NUMBER.fullmatch(stripped) else None


SFX_OFFSET = (0.0, 3600.0)
"""`sfx: FILE at 2.5s`: seconds after the scene starts."""

SFX_LEVEL = (-60.0, 12.0)
"""`sfx: FILE level -6dB`: the effect's gain over the file as it is, in dB."""

SFX_FORM = "`sfx: FILE at 2.5s level -6dB`, or `at line 2`"
"""How an `sfx:` value is written (both clauses optional: the scene's start, the file's level)."""


@dataclass(frozen=True, slots=True)
class SoundPlacement:
    """An `sfx:` value read: the file, where it plays (seconds into the scene, or when its line
    N starts; neither: at the scene's start), its level in dB, and what in the text is wrong
    (start, end, message), each part's place in the text by name (`path`, `at`, `line`,
    `level`)."""

    path: str
    seconds: float | None = None
    line: int | None = None
    level: float = 0.0
    places: tuple[tuple[str, int, int], ...] = ()
    problems: tuple[tuple[int, int, str], ...] = ()

    def place(self, part: str) -> tuple[int, int]:
        return next((start, end) for name, start, end in self.places if name == part)


_CLAUSES = ("at", "level")
_UNITS = {"at": ("s",), "level": ("db",)}


def path_part(key: str, text: str) -> str:
    """The path a path key's value names: the whole value, but for `sfx:` the text before its
    clauses (`door.wav at 2.5s` → `door.wav`)."""
    return sound_placement(text).path if key == "sfx" else text


def sound_placement(text: str) -> SoundPlacement:
    """An `sfx:` value (`door.wav at 2.5s level -6dB`, `thunder.ogg at line 2`) read into its
    parts. The path ends at the first word `at` or `level` after it."""
    words = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    first = next((i for i, (w, _, _) in enumerate(words) if i and w.lower() in _CLAUSES),
                 len(words))
    path_end = words[first - 1][2] if first else 0
    found: dict[str, float] = {}
    places = [("path", len(text) - len(text.lstrip()), path_end)]
    problems: list[tuple[int, int, str]] = []
    index = first
    while index < len(words):
        clause, start, end = words[index]
        clause = clause.lower()
        if clause not in _CLAUSES:
            problems.append((start, end, f"unexpected '{words[index][0]}' in `sfx:`"))
            index += 1
            continue
        if clause in found or (clause == "at" and "line" in found):
            problems.append((start, end, f"`{clause}` is given twice in `sfx:`"))
        index = _clause(clause, words, index + 1, (start, end), found, places, problems)
    line = found.get("line")
    return SoundPlacement(text[:path_end].strip(), found.get("at"),
                          None if line is None else int(line), found.get("level", 0.0),
                          tuple(places), tuple(problems))


def _clause(clause: str, words: list[tuple[str, int, int]], index: int, where: tuple[int, int],
            found: dict[str, float], places: list[tuple[str, int, int]],
            problems: list[tuple[int, int, str]]) -> int:
    """Reads the value after `at` or `level` (`2.5s`, `2.5 s`, `line 2`, `-6dB`, `-6 dB`) into
    `found`; the index of the word after it."""
    if index >= len(words):
        problems.append((*where, f"`{clause}` needs a value in `sfx:`"))
        return index
    word, start, end = words[index]
    if clause == "at" and word.lower() == "line":
        if index + 1 >= len(words):
            problems.append((start, end, "`at line` needs a line number in `sfx:`"))
            return index + 1
        word, start, end = words[index + 1]
        places.append(("line", start, end))
        if re.fullmatch(r"\+?[0-9]+", word):
            found["line"] = int(word)
        else:
            problems.append((start, end, f"a line number is a whole number, not '{word}'"))
        return index + 2
    unit = next((u for u in _UNITS[clause] if word.lower().endswith(u)), None)
    value = number(word[: len(word) - len(unit)] if unit else word)
    following = words[index + 1][0].lower() if index + 1 < len(words) else None
    skip = 2 if unit is None and following in _UNITS[clause] else 1
    places.append((clause, start, words[index + skip - 1][2]))
    if value is None:
        what = "a number of seconds (`2.5s`)" if clause == "at" else "a number of dB (`-6dB`)"
        problems.append((start, end, f"`{clause}` takes {what}, not '{word}'"))
    else:
        found[clause] = value
    return index + skip
