"""What a diagnostic points at and suggests: spans inside a field, did-you-mean, word lists."""

from __future__ import annotations

import difflib
import functools
import unicodedata
from collections.abc import Iterable

from engine.dsl import vocabulary as vocab
from engine.ir import Field, Span, Value


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to `word`, ignoring case and accents first (`zoe` → `Zoë`), if it
    is at least `cutoff` alike (0 to 1)."""
    return _closest(word, tuple(dict.fromkeys(candidates)), cutoff)


@functools.lru_cache(maxsize=4096)
def _closest(word: str, candidates: tuple[str, ...], cutoff: float) -> str | None:
    """did_you_mean, remembered: a big story repeats one unknown name on thousands of lines."""
    pool = [c for c in candidates if c != word]
    folded = {fold(c): c for c in pool}
    if fold(word) in folded:
        return folded[fold(word)]
    close = difflib.get_close_matches(fold(word), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def fold(text: str) -> str:
    """`text` without case or accents (`Zoë` → `zoe`)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def hint(word: str, candidates: Iterable[str], otherwise: str | None) -> str | None:
    """`did you mean '…'?` (a category's other word first: `kid` → `child`), else `otherwise`."""
    candidates = list(candidates)
    category = vocab.category_named(fold(word))
    match = category if category in candidates else did_you_mean(word, candidates)
    return f"did you mean '{match}'?" if match else otherwise


def key_span(f: Field) -> Span:
    """The span of a field's key alone."""
    s = f.span
    return Span(s.file, s.line, s.column, s.line, s.column + len(f.key)) if s.line else s


def name_in_value(value: Value, start: int, end: int) -> Span:
    """The span of `value.text[start:end]` (exact for unquoted text; quotes shift it by one)."""
    s = value.span
    if not s.line:
        return s
    shift = s.column + (1 if value.quoted else 0)
    return Span(s.file, s.line, shift + start, s.line, shift + end)


def listing(words: Iterable[str]) -> str:
    """Words for a hint, comma separated."""
    return ", ".join(words)


BLOCK_COLON = ("write `{keyword} {name}`: a block line (`voice NAME`, `character NAME`, "
               "`scene ID`) has no ':'")
"""The hint for a block keyword written as a key (`scene: rainy`), over {keyword} and {name}."""


CURLY_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb"
"""Quotation marks a word processor types for `"` (the story's texts are in straight quotes)."""


def straight_quoted(text: str) -> str:
    """`text` in the story's quotes, for a hint: curly quotes around it become straight ones."""
    if len(text) >= 2 and text[0] in CURLY_QUOTES and text[-1] in CURLY_QUOTES:
        text = text[1:-1]
    return f'"{text}"'
