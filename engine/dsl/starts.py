"""Whether a regular expression's match can begin with a given character, read from its parse."""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_CLASSES = {sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D",
            sre.CATEGORY_SPACE: r"\s", sre.CATEGORY_NOT_SPACE: r"\S",
            sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W"}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}  # a lookaround only narrows: passed over


def may_start_with(pattern: str, char: str) -> bool:
    """Whether some match of `pattern` (no flags outside it) begins with `char`.

    Conservative: True whenever the answer is not plain from the pattern's parse (an empty match,
    a back-reference, a construct not known here), so a False is a proof."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return True
    if parsed.state.flags & re.IGNORECASE and char.lower() != char.upper():
        return True
    starts, empty = _first(list(parsed), char)
    return starts or empty


def _first(items: list, char: str) -> tuple[bool, bool]:
    """(whether the sequence's match may begin with `char`, whether it may match nothing)."""
    for op, arg in items:
        starts, empty = _item(op, arg, char)
        if starts:
            return True, False
        if not empty:
            return False, False
    return False, True


def _item(op: Any, arg: Any, char: str) -> tuple[bool, bool]:
    code = ord(char)
    if op is sre.LITERAL:
        return arg == code, False
    if op is sre.NOT_LITERAL:
        return arg != code, False
    if op is sre.IN:
        return _in(arg, char), False
    if op in _REPEATS:
        least, _, body = arg
        starts, empty = _first(list(body), char)
        return starts, empty or least == 0
    if op is sre.SUBPATTERN:
        _, added, removed, body = arg
        if (added | removed) & re.IGNORECASE and char.lower() != char.upper():
            return True, True
        return _first(list(body), char)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _first(list(arg), char)
    if op is sre.BRANCH:
        outcomes = [_first(list(branch), char) for branch in arg[1]]
        return any(s for s, _ in outcomes), any(e for _, e in outcomes)
    if op in _ZERO_WIDTH:
        return False, True
    return True, True  # ANY, references, conditionals, …: maybe


def _in(items: list, char: str) -> bool:
    """Whether a character set (`[...]`) holds `char`."""
    code, negated, found = ord(char), False, False
    for op, arg in items:
        if op is sre.NEGATE:
            negated = True
        elif op is sre.LITERAL:
            found |= arg == code
        elif op is sre.RANGE:
            found |= arg[0] <= code <= arg[1]
        elif op is sre.CATEGORY and arg in _CLASSES:
            found |= re.fullmatch(_CLASSES[arg], char) is not None
        else:
            return True
    return found != negated


def run_of(pattern: str) -> str:
    """The characters when `pattern` is one or more of a set of characters, `[...]+` (its
    match is the longest run of them), else ""."""
    try:
        parsed = list(sre_parse.parse(pattern))
    except re.error:
        return ""
    if len(parsed) != 1 or parsed[0][0] is not sre.MAX_REPEAT:
        return ""
    least, _, body = parsed[0][1]
    body = list(body)
    if least != 1 or len(body) != 1 or body[0][0] not in (sre.IN, sre.LITERAL):
        return ""
    items = body[0][1] if body[0][0] is sre.IN else [body[0]]
    if not all(op is sre.LITERAL for op, _ in items):
        return ""
    return "".join(sorted(chr(code) for _, code in items))
