"""What every command checks of its words the same way: the story file it was given."""

from __future__ import annotations

from pathlib import Path

from engine.errors import UsageError


def story_file(word: str | None, usage: str, asking: str = "which story?") -> Path:
    """The story file a command was given, made absolute; a UsageError when none, missing, or
    not a file (a folder, a pipe: never opened)."""
    if word is None:
        raise UsageError(asking, usage)
    path = Path(word).absolute()
    if path.is_dir():
        raise UsageError(f"{word} is a folder, not a story file: name one of its .story files")
    if path.exists() and not path.is_file():
        raise UsageError(f"{word} is not a regular file: name a .story file")
    if not path.is_file():
        raise UsageError(f"no such story file: {word}")
    return path
