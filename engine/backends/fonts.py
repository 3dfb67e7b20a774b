"""TrueType fonts by file name: the system's font folders first, then the DejaVu matplotlib ships."""

from __future__ import annotations

import functools
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/TTF", "/usr/local/share/fonts", "/Library/Fonts",
             "C:/Windows/Fonts")


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
