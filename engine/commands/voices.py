"""`storyreel voices STORY`: the cast, each speaker's voice category, and the voice every tts
backend would speak it with."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from engine.config import CONF_DIR, build_backend, compose_config
from engine.errors import BackendError, ConfigError
from engine.ir import NARRATOR, Story

USAGE = """usage: storyreel voices STORY [--backends NAME,NAME] [KEY=VALUE ...]

Prints the cast: every speaker (the narrator, each character, anyone else who speaks), the voice
category it is spoken as, and the voice each tts backend would use for it in the story's language
(every tts choice, or only those --backends names; a backend that cannot be built here says
why). Overrides apply as for `render`:
  storyreel voices stories/moon.story --backends espeak,edge tts.languages.fr=fr-fr"""


def speakers(story: Story) -> list[str | None]:
    """The narrator, the characters in order, then anyone else who speaks (None: the narrator)."""
    found: dict[str | None, None] = {None: None}
    found.update(dict.fromkeys(c.name for c in story.all_characters()))
    found.update(dict.fromkeys(line.speaker for scene in story.scenes for line in scene.lines
                               if line.speaker not in (None, NARRATOR)))
    return list(found)


def backends() -> list[str]:
    return sorted(path.stem for path in (CONF_DIR / "tts").glob("*.yaml"))


def cast_table(story: Story, path: Path, overrides: list[str],
               names: list[str]) -> list[list[str]]:
    """Rows of speaker, category and one voice per backend (or why there is none)."""
    from engine.backends.tts import SpeakRequest
    from engine.voices import voice_spec

    language = story.text("language", "en") or "en"
    built: dict[str, object] = {}
    for name in names:
        try:
            built[name] = build_backend("tts", compose_config([*overrides, f"tts={name}"],
                                                              story=path).tts)
        except (ConfigError, BackendError) as error:
            built[name] = f"({_first_clause(error)})"
    rows = [["speaker", "category", *names]]
    for speaker in speakers(story):
        spec = voice_spec(story, speaker)
        request = SpeakRequest(text="", voice=spec, language=language)
        row = [speaker or NARRATOR, spec.category]
        for name in names:
            backend = built[name]
            if isinstance(backend, str):
                row.append(backend)
                continue
            try:
                row.append(backend.voice_id(request))  # type: ignore[attr-defined]
            except BackendError as error:
                row.append(f"({_first_clause(error)})")
        rows.append(row)
    return rows


def _first_clause(error: Exception) -> str:
    """The error's own words, without the backend and line (the column says which)."""
    return getattr(error, "message", None) or str(error).split("\n")[0]


NOTE_AT = 48
"""Columns past which a cell's words go under the table as a note, whole."""


def format_table(rows: list[list[str]]) -> str:
    """The rows in aligned columns (a wide character, 小, takes two); a cell too long for a
    column is a note under the table, in full."""
    notes: dict[tuple[str, str], int] = {}  # (column, words) → its number: said once a column
    shown = []
    for row in rows:
        cells = []
        for column, cell in enumerate(row):
            if _width(cell) > NOTE_AT:
                words = cell[1:-1] if cell.startswith("(") and cell.endswith(")") else cell
                number = notes.setdefault((rows[0][column], words), len(notes) + 1)
                cell = f"(note {number})"
            cells.append(cell)
        shown.append(cells)
    widths = [max(_width(row[i]) for row in shown) for i in range(len(shown[0]))]
    table = ["  ".join(cell + " " * (width - _width(cell))
                       for cell, width in zip(row, widths)).rstrip() for row in shown]
    said = [f"note {number} ({column}): {words}" for (column, words), number in notes.items()]
    return "\n".join([*table, *([""] + said if said else [])])


def _width(text: str) -> int:
    """Columns the text takes in a terminal."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _backends_option(argv: list[str]) -> tuple[list[str], list[str]]:
    """The names after --backends (every backend when absent), and the other arguments."""
    for index, arg in enumerate(argv):
        if arg == "--backends" and index + 1 < len(argv):
            chosen = [name.strip() for name in argv[index + 1].split(",") if name.strip()]
            return chosen, argv[:index] + argv[index + 2:]
        if arg.startswith("--backends="):
            chosen = [name.strip() for name in arg.split("=", 1)[1].split(",") if name.strip()]
            return chosen, argv[:index] + argv[index + 1:]
    return backends(), argv


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0
    from engine.commands.arguments import story_file
    from engine.commands.render import split_story
    from engine.dsl.load import load_story

    names, argv = _backends_option(argv)
    unknown = sorted(set(names) - set(backends()))
    if unknown:
        print(f"storyreel voices: no tts backend {unknown[0]!r} (there are "
              f"{', '.join(backends())})", file=sys.stderr)
        return 2
    story_arg, overrides = split_story(argv)
    path = story_file(story_arg, USAGE)
    story = load_story(path)  # a story's mistakes and bad settings: reported by engine.cli
    table = cast_table(story, path, overrides, names)
    print(format_table(table))
    return 0
