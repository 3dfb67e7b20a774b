"""Font files by name (system font folders first, then the DejaVu matplotlib ships), the
characters each one draws, and which font of a fallback chain draws each character."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto",
             "/usr/share/fonts/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/TTF",
             "/usr/share/fonts/google-noto-emoji", "/usr/local/share/fonts", "/Library/Fonts",
             "/System/Library/Fonts", "C:/Windows/Fonts")

INVISIBLE = {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"}
"""Character categories that need no glyph of their own (spaces, joiners, variation selectors,
combining marks drawn with their base)."""


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


@functools.cache
def characters(font: Path) -> frozenset[int]:
    """The code points `font` has a glyph for (its cmap; the first face of a collection)."""
    from fontTools.ttLib import TTCollection, TTFont

    if font.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(font), lazy=True)
        face = collection.fonts[0]
    else:
        face = TTFont(str(font), lazy=True)
    return frozenset(face.getBestCmap() or {})


def needs_glyph(char: str) -> bool:
    return unicodedata.category(char) not in INVISIBLE


def font_for(char: str, chain: Sequence[Path]) -> Path | None:
    """The first font of `chain` that draws `char` (None: none does)."""
    code = ord(char)
    return next((font for font in chain if code in characters(font)), None)


def undrawable(text: str, chain: Sequence[Path]) -> str:
    """The characters of `text` (each once, in order) that no font of `chain` draws."""
    missing = dict.fromkeys(c for c in text if needs_glyph(c) and font_for(c, chain) is None)
    return "".join(missing)


def runs(text: str, chain: Sequence[Path]) -> list[tuple[str, Path | None]]:
    """`text` cut into runs each drawn with one font: a character goes to the first font of the
    chain that has it (else the first font, which draws its missing-glyph box); spaces, marks and
    joiners stay in the run they follow. None: the chain is empty (Pillow's default font)."""
    out: list[tuple[str, Path | None]] = []
    for char in text:
        if out and not needs_glyph(char):
            out[-1] = (out[-1][0] + char, out[-1][1])
            continue
        font = font_for(char, chain) or (chain[0] if chain else None)
        if out and out[-1][1] == font:
            out[-1] = (out[-1][0] + char, font)
        else:
            out.append((char, font))
    return out
