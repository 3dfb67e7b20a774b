"""`storyreel check`'s look at the captions and titles: lines with characters no configured
caption font draws and scene titles with characters no banner font draws (they would show as
boxes), found with the fonts the story's configuration names, scene titles the banner cuts short
at the configured frame size, and lines so long that their caption would be a long run of
successive cues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import ConfigError, Diagnostic
from engine.ir import Line, Span, Story


SHORT_TITLE = 30
"""Characters of a title no banner of a frame 1080 pixels or more across cuts short (about 18 a
row at full size in portrait, 36 shrunk): a story whose titles are all this short and ASCII is
checked without composing its configuration."""


def needs_fonts(story: Story) -> bool:
    """Whether a line or a scene title has anything beyond ASCII, or a title is longer than
    SHORT_TITLE (only then is the configuration composed)."""
    return any(len(scene.text("title") or "") > SHORT_TITLE for scene in story.scenes) or any(
        not text.isascii() for scene in story.scenes
        for text in (scene.text("title") or "", *(line.text or "" for line in scene.lines)))


Chains = tuple[tuple[Path, ...] | None, tuple[Path, ...] | None, tuple[int, int]]
"""The caption font chain and the title banner's (None: not drawn), and the frame's size."""


def configured_fonts(story: Path) -> Chains:
    """The font chains the story's render would draw captions and scene titles with, and its
    frame size (render.width × render.height as its configuration sets them)."""
    from engine.backends.fonts import find_fonts
    from engine.config import compose_config

    config: Any = compose_config([], story=story)
    video: Any = config.get("video") or {}
    image: Any = config.get("image") or {}
    captions = None
    if video.get("burn_subtitles", False) and "font" in video:
        captions = find_fonts([str(video.font),
                               *(str(f) for f in video.get("fallback_fonts") or [])])
    titles = None
    if image.get("banner", False) and "title_fonts" in image:
        titles = find_fonts([str(f) for f in image.title_fonts or []])
    render: Any = config.get("render") or {}
    return captions, titles, (int(render.get("width", 1280)), int(render.get("height", 720)))


def _at_character(span: Span, after: int, char: str) -> Span:
    """The one column of `char`'s first appearance on `span`'s line from column `after` on (the
    value, past the speaker, the direction and the opening quote), else `span` itself."""
    from engine.dsl.load import source_line

    text = source_line(span.file, span.line)
    index = -1 if text is None else text.find(char, after - 1, span.end_column - 1)
    if index < 0:
        return span
    return Span(span.file, span.line, index + 1, span.line, index + 2)


def _undrawable(text: str, chain: tuple[Path, ...], span: Span, after: int, what: str, key: str
                ) -> Diagnostic | None:
    from engine.backends.fonts import undrawable

    missing = undrawable(text, chain)
    if not missing:
        return None
    span = _at_character(span, after, missing[0])
    names = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in missing)
    fonts = ", ".join(font.name for font in chain) or "Pillow's default font"
    return Diagnostic(span, "warning", "undrawable-characters",
                      f"no {what} font draws {names}: the {what}s show boxes",
                      hint=f"the fonts are {fonts}; install one that draws them and add it to "
                           f"{key}")


def undrawable_titles(story: Story, chain: tuple[Path, ...]) -> list[Diagnostic]:
    """A warning at each scene title with characters no font of `chain` (the banner's) draws."""
    found = []
    for scene in story.scenes:
        title = scene.get("title")
        if title is not None:
            found.append(_undrawable(title.value.text, chain, title.span,
                                     title.value.span.column, "title banner",
                                     "image.title_fonts"))
    return [warning for warning in found if warning is not None]


def cut_titles(story: Story, chain: tuple[Path, ...], frame: tuple[int, int]
               ) -> list[Diagnostic]:
    """A warning at each scene title the banner of a `frame`-sized picture cuts short."""
    from engine.backends.image.banner import ROWS, layout

    found = []
    for scene in story.scenes:
        title = scene.get("title")
        if title is None or not title.value.text.strip():
            continue
        banner = layout(title.value.text, *frame, chain)
        if banner.cut:
            found.append(Diagnostic(
                title.value.span, "warning", "title-cut",
                f"this title does not fit the title banner of a {frame[0]}×{frame[1]} frame, "
                f"even in {ROWS} rows: it shows as \"{' / '.join(banner.rows)}\"",
                hint="shorten it (the chapter keeps the whole title); checked at the size the "
                     "story's configuration sets (render.width, render.height), not one given "
                     "on the render command line (e.g. video=shorts)"))
    return found


def undrawable_lines(story: Story, chain: tuple[Path, ...]) -> list[Diagnostic]:
    """A warning at each line with characters no font of `chain` draws."""
    found = [_undrawable(line.text or "", chain, line.span, _text_column(line), "caption",
                         "video.fallback_fonts")
             for scene in story.scenes for line in scene.lines]
    return [warning for warning in found if warning is not None]


def _text_column(line: Line) -> int:
    """The column from which a line's statement holds only its quoted text."""
    header = line.direction_span or line.speaker_span
    return header.end_column if header is not None else line.span.column


MAX_CUES = 4
"""A line whose caption needs more successive cues than this (two rows of 38 columns each) is
hard to read along with: `check` suggests splitting it. The cues are counted by `fit_cues`, as
the cut splits them, over the time the line is expected to take (`spoken_seconds`)."""


COUNTED_UP_TO = 5000
"""Characters of a line whose cues `check` counts as the cut would split them; a longer one
(minutes of speech in one line) is warned about with the least count its length allows, which
costs nothing, where splitting it costs time in proportion (seconds for megabytes)."""


def long_lines(story: Story) -> list[Diagnostic]:
    """A warning at each line whose caption would be split into more than MAX_CUES cues."""
    from engine.caption_fit import fit_cues, spoken_seconds
    from engine.captions import MAX_CHARS, Cue

    found = []
    for scene in story.scenes:
        for line in scene.lines:
            text = line.text or ""
            at_least = len(text) > COUNTED_UP_TO  # a cue holds two rows: a count it can't go under
            count = (-(-len(text) // (2 * MAX_CHARS + 1)) if at_least
                     else len(fit_cues([Cue(0.0, spoken_seconds(text), text)])))
            if count > MAX_CUES:
                found.append(Diagnostic(
                    line.span, "warning", "long-line",
                    f"this line's caption is {'at least ' if at_least else ''}{count} captions "
                    "shown one after the other",
                    hint="split it into several lines (each a sentence or two)"))
    return found


def glyph_warnings(story: Story) -> list[Diagnostic]:
    """The warnings for one loaded story (fonts only when a line or title is not all ASCII)."""
    found = long_lines(story)
    if not needs_fonts(story):
        return found
    try:
        captions, titles, frame = configured_fonts(Path(story.path))
    except ConfigError:  # `render` reports a configuration that does not compose
        return found
    if captions is not None:
        found += undrawable_lines(story, captions)
    if titles is not None:
        found += undrawable_titles(story, titles) + cut_titles(story, titles, frame)
    return found
