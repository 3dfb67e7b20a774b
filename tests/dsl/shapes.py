"""Pathological story files of a given size, shared by the parser's tests and its benchmark."""

from __future__ import annotations


def shapes(size: int) -> dict[str, str]:
    """Files of about `size` characters, each of one shape that once cost a parser dearly."""
    return {
        "one long line": "title: " + "a" * size + "\nscene a\n",
        "one long quoted line": 'scene a\n  "' + "a" * size + '"\n',
        "one long line of words": 'scene a\n  "' + "word, " * (size // 6) + '"\n',
        "an unclosed long line": 'scene a\n  "' + "a" * size + "\nscene b\n",
        "a long comment run": ("# " + "c" * 97 + "\n") * (size // 100) + "scene a\n  \"x\"\n",
        "a broken line after another": "title x\n" * (size // 8) + "scene a\n",
        "a block of broken lines": "scene a\n" + '  Luna "x"\n' * (size // 11),
        "control characters": "scene a\n" + '  "\x1b[31m a red line, and on"\n' * (size // 30),
        "many tiny scenes": "".join(f"scene s{i}\n" for i in range(size // 12)),
    }
