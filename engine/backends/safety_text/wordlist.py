"""`safety_text=wordlist`: offline word lists: glin-profanity's, a starter deny list, the repo's own."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from engine.backends.safety_text import TextCheckRequest, TextFlag
from engine.backends.weights import package_version
from engine.errors import ConfigError, MissingDependency

BACKEND = "safety_text=wordlist"
STARTER = "starter_deny.txt"
"""The deny list shipped in this package (violence, weapons, death, fear, adult, insults,
swearing)."""
PROFANITY = "profanity"
"""The category of a hit in glin-profanity's lists."""
UNSORTED = "deny"
"""The category of a repository deny-list entry above any `[category]` line."""
LANGUAGES = {
    "ar": "arabic", "zh": "chinese", "cs": "czech", "da": "danish", "nl": "dutch",
    "en": "english", "eo": "esperanto", "fi": "finnish", "fr": "french", "de": "german",
    "hi": "hindi", "hu": "hungarian", "it": "italian", "ja": "japanese", "ko": "korean",
    "no": "norwegian", "nb": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese",
    "ru": "russian", "es": "spanish", "sv": "swedish", "th": "thai", "tr": "turkish",
}
"""A story's `language:` (ISO 639-1) → glin-profanity's list; any other reads the English one."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One list line: `pattern` as written (`*` at a word's end: any ending), and its category."""

    pattern: str
    category: str

    @property
    def normal(self) -> str:
        return " ".join(self.pattern.casefold().split())


def parse_list(text: str, default_category: str, where: str) -> tuple[Entry, ...]:
    """A list file's entries: one word or phrase a line, `[category]` lines, `#` comments."""
    entries, category = [], default_category
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1].strip()
            if not category:
                raise ConfigError(f"{where}:{number}: an empty [category]")
            continue
        entries.append(Entry(line, category))
    return tuple(entries)


def _pattern(entry: Entry, wildcards: bool) -> str:
    """Whole words of the entry, any run of white space between them (Unicode `\\w` bounds)."""
    words = []
    for word in entry.pattern.split():
        if wildcards and word.endswith("*") and len(word) > 1:
            words.append(re.escape(word[:-1]) + r"\w*")
        else:
            words.append(re.escape(word))
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def _compile(entries: list[Entry], wildcards: bool) -> re.Pattern[str] | None:
    if not entries:
        return None
    longest_first = sorted({_pattern(e, wildcards) for e in entries}, key=len, reverse=True)
    return re.compile("|".join(longest_first), re.IGNORECASE)


class WordlistChecker:
    """Flags whole-word hits of the deny lists (glin-profanity's, the starter list, the story
    repository's own), except where the repository's allow list covers them."""

    def __init__(self, root: str | None = None, allow: str | None = "safety/allow.txt",
                 deny: str | None = "safety/deny.txt", starter: bool = True,
                 profanity: bool = True):
        self.root = Path(root).expanduser() if root else Path.cwd()
        self.starter, self.profanity = bool(starter), bool(profanity)
        starter_text = (resources.files(__package__) / STARTER).read_text(encoding="utf-8")
        allow_text, deny_text = self._read(allow, "allow"), self._read(deny, "deny")
        self.allowed = parse_list(allow_text, "allow", str(allow))
        own = parse_list(deny_text, UNSORTED, str(deny))
        shipped = parse_list(starter_text, UNSORTED, STARTER) if self.starter else ()
        allowed = {e.normal for e in self.allowed}
        self.denied = tuple(e for e in (*shipped, *own) if e.normal not in allowed)
        if self.profanity and package_version("glin-profanity") is None:
            raise MissingDependency(BACKEND, "glin-profanity", "pip install glin-profanity")
        self._digest = hashlib.sha256("\0".join(
            (starter_text if self.starter else "", allow_text, deny_text)).encode()).hexdigest()
        self._by_language: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self._allow = _compile(list(self.allowed), wildcards=True)

    def _read(self, setting: str | None, name: str) -> str:
        """A repository list's text ('' when the setting is null or the file does not exist)."""
        if not setting:
            return ""
        path = Path(setting).expanduser()
        path = path if path.is_absolute() else self.root / path
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"safety_text.{name}: cannot read {path}: "
                              f"{getattr(error, 'strerror', None) or error}") from None

    def identity(self) -> dict[str, Any]:
        return {"backend": "wordlist", "lists": self._digest[:16], "starter": self.starter,
                "profanity": package_version("glin-profanity") if self.profanity else None}

    def check(self, request: TextCheckRequest) -> tuple[TextFlag, ...]:
        text = request.text
        covered = [m.span() for m in self._allow.finditer(text)] if self._allow else []
        flags = []
        for category, pattern in self._patterns(request.language):
            for hit in pattern.finditer(text):
                start, end = hit.span()
                if any(a <= start and end <= b for a, b in covered):
                    continue
                flags.append(TextFlag(category, 1.0, (start, end)))
        return tuple(sorted(flags, key=lambda f: (f.span or (0, 0), f.category)))

    def _patterns(self, language: str) -> list[tuple[str, re.Pattern[str]]]:
        """One pattern per category for this language (built once)."""
        name = LANGUAGES.get(language.replace("_", "-").split("-")[0].lower(), "english")
        if name not in self._by_language:
            by_category: dict[str, list[Entry]] = {}
            for entry in self.denied:
                by_category.setdefault(entry.category, []).append(entry)
            compiled = [(c, _compile(e, wildcards=True)) for c, e in by_category.items()]
            if self.profanity:
                compiled.append((PROFANITY, _compile(self._profanity(name), wildcards=False)))
            self._by_language[name] = [(c, p) for c, p in compiled if p is not None]
        return self._by_language[name]

    def _profanity(self, language: str) -> list[Entry]:
        from glin_profanity.data.dictionary import DictionaryLoader

        allowed = {e.normal for e in self.allowed}
        return [Entry(word, PROFANITY) for word in DictionaryLoader().get_words(language)
                if " ".join(word.casefold().split()) not in allowed]
