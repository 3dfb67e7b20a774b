"""Delivery directions (`Luna (whispering): ...`): the words for them in every language the
stories are written in, what each does to a voice, and which only a voice or only a picture shows.

One table for every reader: `check` (unknown directions), the TTS backends (how a line is said)
and the illustrator (what a picture may show).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Container

# Settings that several words share (synonyms sound the same).
_SHOUTED = {"rate": 1.05, "pitch": 1.25, "range": 1.3, "volume": 1.6}
_HAPPY = {"rate": 1.08, "pitch": 1.12, "range": 1.3, "volume": 1.05}
_AFRAID = {"rate": 1.15, "pitch": 1.15, "range": 0.9, "volume": 0.85}
_SLEEPY = {"rate": 0.75, "pitch": 0.88, "range": 0.5, "volume": 0.75}

DIRECTIONS: dict[str, dict[str, float | bool]] = {
    "whisper": {"rate": 0.9, "volume": 0.75, "range": 0.7, "whisper": True},
    "shout": _SHOUTED,
    "yell": _SHOUTED,
    "call": {"pitch": 1.12, "range": 1.2, "volume": 1.3},
    "loud": {"volume": 1.4},
    "sad": {"rate": 0.85, "pitch": 0.88, "range": 0.6, "volume": 0.85},
    "happy": _HAPPY,
    "cheerful": _HAPPY,
    "laugh": {"rate": 1.1, "pitch": 1.15, "range": 1.4, "volume": 1.1},
    "giggle": {"rate": 1.12, "pitch": 1.2, "range": 1.4},
    "excited": {"rate": 1.18, "pitch": 1.2, "range": 1.5, "volume": 1.15},
    "surprised": {"rate": 1.05, "pitch": 1.2, "range": 1.5, "volume": 1.1},
    "curious": {"pitch": 1.08, "range": 1.25},
    "proud": {"rate": 0.95, "pitch": 1.05, "range": 1.2, "volume": 1.15},
    "brave": {"rate": 0.97, "pitch": 0.97, "volume": 1.15},
    "worried": {"rate": 1.1, "pitch": 1.08, "range": 0.8, "volume": 0.9},
    "nervous": {"rate": 1.12, "pitch": 1.08, "range": 0.8, "volume": 0.85},
    "scared": _AFRAID,
    "afraid": _AFRAID,
    "frightened": _AFRAID,
    "trembling": _AFRAID,
    "soft": {"rate": 0.92, "pitch": 0.97, "volume": 0.7},
    "gentle": {"rate": 0.92, "pitch": 0.97, "volume": 0.75},
    "quiet": {"rate": 0.95, "volume": 0.65},
    "angry": {"rate": 1.05, "pitch": 0.92, "range": 1.2, "volume": 1.35},
    "grumpy": {"rate": 0.95, "pitch": 0.9, "range": 0.7, "volume": 1.1},
    "cry": {"rate": 0.85, "pitch": 1.1, "range": 0.7, "volume": 0.9},
    "sleepy": _SLEEPY,
    "tired": {"rate": 0.8, "pitch": 0.9, "range": 0.6, "volume": 0.8},
    "yawn": _SLEEPY,
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

KNOWN_DIRECTIONS = frozenset(DIRECTIONS) | ACTIONS
"""Every English entry a direction's word may mean: what a voice says and what a picture shows."""

_SUFFIXES = (("ily", "y"), ("ly", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
             ("ied", "y"), ("ies", "y"), ("es", ""), ("s", ""), ("", "e"))


def direction_word(word: str, table: Container[str] = DIRECTIONS) -> str | None:
    """The entry of `table` a direction's word means (`whispering` → `whisper`, `chuchotant` →
    `whisper`, `低声` → `whisper`), or None."""
    if word in table:
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            stem = word[: len(word) - len(suffix)] + replacement
            if stem in table:
                return stem
            if stem[-1:] == stem[-2:-1] and stem[:-1] in table:  # "sadd(er)", "shouting" forms
                return stem[:-1]
    meant = _foreign(word)
    return meant if meant is not None and meant in table else None


TRANSLATIONS: dict[str, dict[str, str]] = {
    "fr": {"chuchotant": "whisper", "chuchote": "whisper", "chuchotement": "whisper",
           "murmurant": "whisper", "criant": "shout", "crie": "shout", "hurlant": "yell",
           "appelant": "call", "fort": "loud", "triste": "sad", "tristement": "sad",
           "joyeux": "happy", "joyeuse": "happy", "joyeusement": "happy", "heureux": "happy",
           "heureuse": "happy", "gaiement": "cheerful", "gai": "cheerful", "riant": "laugh",
           "rit": "laugh", "gloussant": "giggle", "excité": "excited", "surpris": "surprised",
           "curieux": "curious", "curieuse": "curious", "fier": "proud", "fière": "proud",
           "courageux": "brave", "courageuse": "brave", "inquiet": "worried",
           "inquiète": "worried", "nerveux": "nervous", "nerveuse": "nervous",
           "effrayé": "scared", "apeuré": "scared", "tremblant": "scared", "peur": "afraid",
           "doux": "soft", "douce": "soft", "doucement": "soft", "gentiment": "gentle",
           "calme": "calm", "calmement": "calm", "basse": "quiet", "bas": "quiet",
           "fâché": "angry", "colère": "angry", "grognon": "grumpy", "pleurant": "cry",
           "pleure": "cry",
           "endormi": "sleepy", "somnolent": "sleepy", "fatigué": "tired", "bâillant": "yawn",
           "émerveillé": "amazed", "mystérieux": "mysterious", "mystérieuse": "mysterious",
           "chantant": "sing", "grognant": "growl", "rugissant": "roar", "lentement": "slow",
           "vite": "fast", "rapidement": "quick", "timide": "shy", "timidement": "shy",
           "souriant": "smile", "espiègle": "playful", "chaleureux": "warm",
           "courant": "run", "sautant": "jump", "volant": "fly", "dormant": "sleep",
           "assis": "sit", "montrant": "point", "saluant": "wave", "câlinant": "hug"},
    "es": {"susurrando": "whisper", "susurra": "whisper", "gritando": "shout", "grita": "shout",
           "chillando": "yell", "llamando": "call", "fuerte": "loud", "triste": "sad",
           "tristemente": "sad", "feliz": "happy", "contento": "happy", "contenta": "happy",
           "alegre": "cheerful", "alegremente": "cheerful", "riendo": "laugh",
           "emocionado": "excited", "emocionada": "excited", "sorprendido": "surprised",
           "sorprendida": "surprised", "curioso": "curious", "curiosa": "curious",
           "orgulloso": "proud", "orgullosa": "proud", "valiente": "brave",
           "preocupado": "worried", "preocupada": "worried", "nervioso": "nervous",
           "nerviosa": "nervous", "asustado": "scared", "asustada": "scared",
           "temblando": "scared", "miedo": "afraid",
           "suave": "soft", "suavemente": "soft", "dulcemente": "gentle", "tranquilo": "calm",
           "tranquila": "calm", "baja": "quiet", "enfadado": "angry", "enfadada": "angry",
           "enojado": "angry", "enojada": "angry", "gruñón": "grumpy", "llorando": "cry",
           "somnoliento": "sleepy", "somnolienta": "sleepy", "cansado": "tired",
           "cansada": "tired", "bostezando": "yawn", "asombrado": "amazed",
           "asombrada": "amazed", "misterioso": "mysterious", "misteriosa": "mysterious",
           "cantando": "sing", "gruñendo": "growl", "rugiendo": "roar", "despacio": "slow",
           "lentamente": "slow", "rápido": "fast", "rápidamente": "quick", "tímido": "shy",
           "tímida": "shy", "sonriendo": "smile", "juguetón": "playful", "juguetona": "playful",
           "corriendo": "run", "saltando": "jump", "volando": "fly", "durmiendo": "sleep",
           "sentado": "sit", "sentada": "sit", "señalando": "point", "saludando": "wave",
           "abrazando": "hug"},
    "de": {"flüsternd": "whisper", "flüstert": "whisper", "rufend": "call", "ruft": "call",
           "schreiend": "shout", "schreit": "shout", "brüllend": "yell", "laut": "loud",
           "traurig": "sad", "fröhlich": "happy", "glücklich": "happy", "heiter": "cheerful",
           "lachend": "laugh", "lacht": "laugh", "kichernd": "giggle", "aufgeregt": "excited",
           "überrascht": "surprised", "neugierig": "curious", "stolz": "proud",
           "mutig": "brave", "besorgt": "worried", "nervös": "nervous", "ängstlich": "scared",
           "verängstigt": "scared", "erschrocken": "frightened", "zitternd": "scared",
           "sanft": "gentle", "leise": "quiet", "ruhig": "calm", "wütend": "angry",
           "zornig": "angry", "böse": "angry", "mürrisch": "grumpy", "weinend": "cry",
           "weint": "cry",
           "schläfrig": "sleepy", "verschlafen": "sleepy", "müde": "tired", "gähnend": "yawn",
           "staunend": "amazed", "erstaunt": "amazed", "geheimnisvoll": "mysterious",
           "singend": "sing", "knurrend": "growl", "langsam": "slow", "schnell": "fast",
           "schüchtern": "shy", "lächelnd": "smile", "verspielt": "playful", "warm": "warm",
           "rennend": "run", "laufend": "run", "springend": "jump", "hüpfend": "jump",
           "fliegend": "fly", "schlafend": "sleep", "sitzend": "sit", "zeigend": "point",
           "winkend": "wave", "umarmend": "hug"},
    "zh": {"低声": "whisper", "小声": "whisper", "悄悄": "whisper", "耳语": "whisper",
           "大喊": "shout", "喊": "shout", "大叫": "yell", "叫": "call", "呼唤": "call",
           "大声": "loud", "伤心": "sad", "难过": "sad", "悲伤": "sad", "开心": "happy",
           "高兴": "happy", "快乐": "happy", "愉快": "cheerful", "笑": "laugh",
           "咯咯笑": "giggle", "兴奋": "excited", "激动": "excited", "惊讶": "surprised",
           "吃惊": "surprised", "好奇": "curious", "骄傲": "proud", "自豪": "proud",
           "勇敢": "brave", "担心": "worried", "紧张": "nervous", "害怕": "scared",
           "恐惧": "afraid", "温柔": "gentle", "轻柔": "soft", "轻声": "quiet", "安静": "quiet",
           "平静": "calm", "生气": "angry", "愤怒": "angry", "哭": "cry", "困倦": "sleepy",
           "累": "tired", "疲惫": "tired", "打哈欠": "yawn", "惊奇": "amazed", "神秘": "mysterious",
           "唱": "sing", "吼": "growl", "咆哮": "roar", "慢慢": "slow", "缓慢": "slow",
           "快速": "fast", "害羞": "shy", "微笑": "smile", "调皮": "playful", "温暖": "warm",
           "跑": "run", "跳": "jump", "飞": "fly", "睡": "sleep", "坐": "sit", "指": "point",
           "挥手": "wave", "拥抱": "hug"},
}
"""A direction's words in the languages stories are written in (their usual forms: adjective,
adverb, participle) → the entry of DIRECTIONS or ACTIONS they mean. Adjective endings are tried
off too (`traurige` → `traurig`); Chinese words are found inside a run of characters (`低声地`)."""

_FOREIGN = {word: meant for words in TRANSLATIONS.values() for word, meant in words.items()}
_ENDINGS = ("es", "en", "er", "e", "s", "n")
_HAN = re.compile(r"[\u3400-\u9fff]")
_HAN_WORDS = re.compile("|".join(sorted(TRANSLATIONS["zh"], key=len, reverse=True)))


def _foreign(word: str) -> str | None:
    """The entry a word of another language means (its first Chinese word, for Chinese)."""
    if _HAN.search(word):
        found = _HAN_WORDS.search(word)
        return TRANSLATIONS["zh"][found.group()] if found else None
    if word in _FOREIGN:
        return _FOREIGN[word]
    return next((_FOREIGN[word[: -len(end)]] for end in _ENDINGS
                 if word.endswith(end) and word[: -len(end)] in _FOREIGN), None)


def english_direction(word: str) -> str | None:
    """The English entry a direction's word of any language means, in any form (`effrayée` →
    `scared`, `crying` → `cry`, `伤心地` → `sad`), or None."""
    return direction_word(word.lower(), KNOWN_DIRECTIONS)


def language_directions(language: str | None) -> Collection[str]:
    """The direction words of a story's `language:` (`fr`, `fr-CA`): the English entries for
    English or a language the table lacks."""
    primary = (language or "en").replace("_", "-").split("-")[0].lower()
    return TRANSLATIONS.get(primary, KNOWN_DIRECTIONS)


def direction_words(direction: str | None) -> list[str]:
    """A direction's words, lowercase, in any script (`en chuchotant`, `低声地`)."""
    return re.findall(r"[^\W\d_]+", (direction or "").lower())


def direction_meanings(direction: str | None,
                       table: Container[str] = DIRECTIONS) -> tuple[list[str], list[str]]:
    """The entries of `table` a direction's words mean, in order (every Chinese word of a run
    of characters), and the words that mean none."""
    meant, unknown = [], []
    for word in direction_words(direction):
        names = ([TRANSLATIONS["zh"][m] for m in _HAN_WORDS.findall(word)] if _HAN.search(word)
                 else [direction_word(word, table)])
        found = [name for name in names if name is not None and name in table]
        meant += found
        if not found:
            unknown.append(word)
    return meant, unknown
