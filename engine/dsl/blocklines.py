"""Lines that meant to open a block: a misspelt keyword (`scen a`), a colon (`scene: a`), and
the unindented line that ended a block before its indented lines were done."""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.dsl import vocabulary as vocab
from engine.dsl.hints import did_you_mean

BLOCK_WORDS = ("voice", "character", "scene")

_NAME = r"(?:[^\W\d][\w'\-]*|\d[\w'\-]*)"  # the grammar's NAME
_BLOCK_LINE = re.compile(rf"({'|'.join(BLOCK_WORDS)})[ \t]+({_NAME})\s*(?:#.*)?")
_BLOCK_COLON = re.compile(rf"({'|'.join(BLOCK_WORDS)})[ \t]*:[ \t]*({_NAME})\s*(?:#.*)?")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")
"""A value for the key `scenes` (a count), not a scene's name."""
_SHOWN = 40
"""The most characters of another line a hint quotes."""
_KEYS = frozenset((*vocab.HEADER_KEYS, *vocab.VOICE_KEYS, *vocab.CHARACTER_KEYS,
                   *vocab.SCENE_KEYS))


def block_meant(text: str) -> str | None:
    """The block keyword that an unindented `WORD NAME` line misspells (`scen a`, `Scene a` →
    `scene`), or None (a key, or a word nearer a key, such as `scens`, is not a misspelt
    block; but the key `scenes` takes a number, so `scenes hill` meant `scene hill`)."""
    code = text.split("#")[0]
    words = code.split()
    if text[:1] in {" ", "\t"} or len(words) != 2 or ":" in code:
        return None
    if words[0] in _KEYS:
        singular = words[0][:-1]
        return singular if singular in BLOCK_WORDS and not _NUMBER.fullmatch(words[1]) else None
    closest = did_you_mean(words[0], (*BLOCK_WORDS, *sorted(_KEYS)))
    return closest if closest in BLOCK_WORDS else None  # `scens 3` is nearer `scenes`


def as_block(text: str) -> str | None:
    """The block line a misspelt one stands for (`scen a` → `scene a`)."""
    block = block_meant(text)
    return block + text.lstrip()[len(text.split()[0]):] if block else None


def statement_above(lines: Sequence[str], index: int) -> int | None:
    """The index of the nearest line above `lines[index]` with a statement (not blank, not
    only a comment)."""
    for above in range(index - 1, -1, -1):
        code = lines[above].split("#")[0]
        if code.strip():
            return above
    return None


def colon_block_above(lines: Sequence[str], index: int) -> tuple[int, dict[str, str]] | None:
    """For an unexpected indentation: the unindented `scene: NAME` line above it, if any."""
    above = statement_above(lines, index)
    match = _BLOCK_COLON.fullmatch(lines[above]) if above is not None else None
    if match is None:
        return None
    return above, {"keyword": match[1], "name": match[2],
                   "colon": str(lines[above].index(":") + 1)}


def block_ended_above(lines: Sequence[str], index: int) -> tuple[int, dict[str, str]] | None:
    """For an unexpected indentation: the unindented line above it that ended a block (the
    indented lines were meant to be in that block), if any."""
    ender = statement_above(lines, index)
    if ender is None or lines[ender][:1] in {" ", "\t"}:
        return None
    opener = ender
    while opener > 0:
        opener -= 1
        text = lines[opener]
        if text.split("#")[0].strip() and text[:1] not in {" ", "\t"}:
            break
    match = _BLOCK_LINE.fullmatch(lines[opener]) if opener < ender else None
    if match is None:
        return None
    key = lines[ender].split(":")[0].strip()
    said = lines[ender].strip()
    said = said if len(said) <= _SHOWN else said[:_SHOWN - 1] + "…"
    return ender, {"ender": said, "block": f"{match[1]} '{match[2]}'",
                   "or_header": ", or move it to the header (above the blocks)"
                   if key in vocab.HEADER_KEYS else ""}
