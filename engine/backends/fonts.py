"""Font files by name (system font folders first, then the DejaVu matplotlib ships), the
characters each one draws, and which font of a fallback chain draws each character."""

from __future__ import annotations

import bisect
import functools
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto",
             "/usr/share/fonts/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/TTF",
             "/usr/share/fonts/google-noto-emoji", "/usr/local/share/fonts", "/Library/Fonts",
             "/System/Library/Fonts", "C:/Windows/Fonts")

INVISIBLE = {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"}
"""Character categories that need no glyph of their own (spaces, joiners, variation selectors,
combining marks drawn with their base)."""

EMOJI_PRESENTATION = (
    (0x231A, 0x231B), (0x23E9, 0x23EC), (0x23F0, 0x23F0), (0x23F3, 0x23F3),
    (0x25FD, 0x25FE), (0x2614, 0x2615), (0x2648, 0x2653), (0x267F, 0x267F),
    (0x2693, 0x2693), (0x26A1, 0x26A1), (0x26AA, 0x26AB), (0x26BD, 0x26BE),
    (0x26C4, 0x26C5), (0x26CE, 0x26CE), (0x26D4, 0x26D4), (0x26EA, 0x26EA),
    (0x26F2, 0x26F3), (0x26F5, 0x26F5), (0x26FA, 0x26FA), (0x26FD, 0x26FD),
    (0x2705, 0x2705), (0x270A, 0x270B), (0x2728, 0x2728), (0x274C, 0x274C),
    (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757), (0x2795, 0x2797),
    (0x27B0, 0x27B0), (0x27BF, 0x27BF), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50),
    (0x2B55, 0x2B55), (0x1F004, 0x1F004), (0x1F0CF, 0x1F0CF), (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A), (0x1F1E6, 0x1F1FF), (0x1F201, 0x1F201), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F236), (0x1F238, 0x1F23A), (0x1F250, 0x1F251),
    (0x1F300, 0x1F320), (0x1F32D, 0x1F335), (0x1F337, 0x1F37C), (0x1F37E, 0x1F393),
    (0x1F3A0, 0x1F3CA), (0x1F3CF, 0x1F3D3), (0x1F3E0, 0x1F3F0), (0x1F3F4, 0x1F3F4),
    (0x1F3F8, 0x1F43E), (0x1F440, 0x1F440), (0x1F442, 0x1F4FC), (0x1F4FF, 0x1F53D),
    (0x1F54B, 0x1F54E), (0x1F550, 0x1F567), (0x1F57A, 0x1F57A), (0x1F595, 0x1F596),
    (0x1F5A4, 0x1F5A4), (0x1F5FB, 0x1F64F), (0x1F680, 0x1F6C5), (0x1F6CC, 0x1F6CC),
    (0x1F6D0, 0x1F6D2), (0x1F6D5, 0x1F6D9), (0x1F6DC, 0x1F6DF), (0x1F6EB, 0x1F6EC),
    (0x1F6F4, 0x1F6FC), (0x1F7E0, 0x1F7EB), (0x1F7F0, 0x1F7F0), (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945), (0x1F947, 0x1F9FF), (0x1FA70, 0x1FA7C), (0x1FA80, 0x1FAC6),
    (0x1FAC8, 0x1FAC8), (0x1FACC, 0x1FADD), (0x1FADF, 0x1FAEB), (0x1FAEF, 0x1FAFA),
)
"""The code point ranges (first, last) that Unicode shows as emoji by default (the property
Emoji_Presentation of emoji-data.txt, Unicode 17): drawn with the chain's colour font first."""
_EMOJI_STARTS = [first for first, _ in EMOJI_PRESENTATION]

VS16 = "\ufe0f"
"""The variation selector that asks for the emoji presentation of the character before it."""


def _folders() -> list[Path]:
    folders = [Path(folder) for folder in FONT_DIRS]
    try:
        import matplotlib
    except ImportError:
        return folders
    return [*folders, Path(matplotlib.get_data_path()) / "fonts" / "ttf"]


@functools.cache
def find_font(*names: str) -> Path | None:
    """The first folder's font among `names` (in the order given), or None: callers fall back to
    Pillow's default font and say so."""
    for folder in _folders():
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def find_fonts(names: Sequence[str]) -> tuple[Path, ...]:
    """Each named font that is installed, in order (a fallback chain; missing ones left out)."""
    found = (find_font(name) for name in names)
    return tuple(path for path in found if path is not None)


def _face(font: Path) -> Any:
    """The font's first face (fontTools, read lazily)."""
    from fontTools.ttLib import TTCollection, TTFont

    if font.suffix.lower() in (".ttc", ".otc"):
        return TTCollection(str(font), lazy=True).fonts[0]
    return TTFont(str(font), lazy=True)


@functools.cache
def characters(font: Path) -> frozenset[int]:
    """The code points `font` has a glyph for (its cmap; the first face of a collection)."""
    return frozenset(_face(font).getBestCmap() or {})


@functools.cache
def in_colour(font: Path) -> bool:
    """Whether `font` has colour glyphs (bitmap, layered or SVG tables: an emoji font)."""
    face = _face(font)
    return any(tag in face for tag in ("CBDT", "sbix", "COLR", "SVG "))


def shown_as_emoji(text: str, index: int) -> bool:
    """Whether `text[index]` asks for an emoji picture: emoji by default, or followed by VS16."""
    code = ord(text[index])
    at = bisect.bisect_right(_EMOJI_STARTS, code) - 1
    return (at >= 0 and code <= EMOJI_PRESENTATION[at][1]) or text[index + 1:index + 2] == VS16


def needs_glyph(char: str) -> bool:
    return unicodedata.category(char) not in INVISIBLE


def font_for(char: str, chain: Sequence[Path], emoji: bool = False) -> Path | None:
    """The first font of `chain` that draws `char` (None: none does); with `emoji`, the chain's
    colour fonts come first (a text font's outline emoji would win otherwise)."""
    code = ord(char)
    order = sorted(chain, key=lambda font: not in_colour(font)) if emoji else chain
    return next((font for font in order if code in characters(font)), None)


def undrawable(text: str, chain: Sequence[Path]) -> str:
    """The characters of `text` (each once, in order) that no font of `chain` draws."""
    missing = dict.fromkeys(c for c in text if needs_glyph(c) and font_for(c, chain) is None)
    return "".join(missing)


def runs(text: str, chain: Sequence[Path]) -> list[tuple[str, Path | None]]:
    """`text` cut into runs each drawn with one font: a character goes to the first font of the
    chain that has it (a colour font first for a character shown as emoji; else the first font,
    which draws its missing-glyph box); spaces, marks and joiners stay in the run they follow.
    None: the chain is empty (Pillow's default font)."""
    out: list[tuple[str, Path | None]] = []
    for index, char in enumerate(text):
        if out and not needs_glyph(char):
            out[-1] = (out[-1][0] + char, out[-1][1])
            continue
        font = (font_for(char, chain, shown_as_emoji(text, index))
                or (chain[0] if chain else None))
        if out and out[-1][1] == font:
            out[-1] = (out[-1][0] + char, font)
        else:
            out.append((char, font))
    return out
