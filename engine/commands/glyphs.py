"""`storyreel check`'s look at the captions: lines with characters no configured caption font
draws (they would show as boxes), found with the fonts the story's configuration names, and
lines so long that their caption would be a long run of successive cues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import ConfigError, Diagnostic
from engine.ir import Story


def needs_fonts(story: Story) -> bool:
    """Whether a line has anything beyond ASCII (only then is the configuration composed)."""
    return any(line.text and not line.text.isascii()
               for scene in story.scenes for line in scene.lines)


def caption_fonts(story: Path) -> tuple[Path, ...] | None:
    """The caption font chain the story's render would use (None: captions are not burned)."""
    from engine.backends.fonts import find_fonts
    from engine.config import compose_config

    video: Any = compose_config([], story=story).get("video") or {}
    if not video.get("burn_subtitles", False) or "font" not in video:
        return None
    return find_fonts([str(video.font), *(str(f) for f in video.get("fallback_fonts") or [])])


def undrawable_lines(story: Story, chain: tuple[Path, ...]) -> list[Diagnostic]:
    """A warning at each line with characters no font of `chain` draws."""
    from engine.backends.fonts import undrawable

    found = []
    for scene in story.scenes:
        for line in scene.lines:
            missing = undrawable(line.text or "", chain)
            if missing:
                names = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in missing)
                fonts = ", ".join(font.name for font in chain) or "Pillow's default font"
                found.append(Diagnostic(
                    line.span, "warning", "undrawable-characters",
                    f"no caption font draws {names}: the burned captions show boxes",
                    hint=f"the fonts are {fonts}; install one that draws them and add it to "
                         f"video.fallback_fonts"))
    return found


MAX_CUES = 4
"""A line whose caption needs more successive cues than this (two rows of 38 columns each) is
hard to read along with: `check` suggests splitting it."""


def long_lines(story: Story) -> list[Diagnostic]:
    """A warning at each line whose caption would be split into more than MAX_CUES cues."""
    from engine.captions import Cue, fit_cues

    found = []
    for scene in story.scenes:
        for line in scene.lines:
            cues = len(fit_cues([Cue(0.0, 1.0, line.text or "")]))
            if cues > MAX_CUES:
                found.append(Diagnostic(
                    line.span, "warning", "long-line",
                    f"this line's caption is {cues} captions shown one after the other",
                    hint="split it into several lines (each a sentence or two)"))
    return found


def glyph_warnings(story: Story) -> list[Diagnostic]:
    """The warnings for one loaded story (fonts only when a line is not all ASCII)."""
    found = long_lines(story)
    if not needs_fonts(story):
        return found
    try:
        chain = caption_fonts(Path(story.path))
    except ConfigError:  # `render` reports a configuration that does not compose
        return found
    return found if chain is None else found + undrawable_lines(story, chain)
