"""Captions: SRT and WebVTT files from cues (with per-word karaoke timestamps), wrapped for
children's reading."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.files import write_atomically

MAX_CHARS = 38
"""Characters per caption row: short rows are easier for young readers (BBC guidance: ~37)."""


@dataclass(frozen=True, slots=True)
class Word:
    """A word as it is heard: from `start` to `end` seconds (of its clip, or of the video)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Cue:
    """A caption: shown from `start` to `end` seconds; `speaker` is named in it when set.

    `words` (when known) time each of `display_words(text)`, in order, inside the cue."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    words: tuple[Word, ...] = ()


def wrap(text: str, fits: Callable[[str], bool] | None = None, max_chars: int = MAX_CHARS) -> list[str]:
    """Rows for a caption: as few as fit, balanced in length, breaking after punctuation if it helps.

    Rows break at spaces and, in scripts written without them (Chinese, Japanese, Korean, emoji),
    between any two characters, never before closing punctuation. `fits(row)` says whether a row
    fits (e.g. by rendered pixel width); by default a row fits when it is at most `max_chars`
    columns wide (a wide character takes two). A single word too long for any row gets a row alone.
    """
    fits = fits or within(max_chars)
    words = _tokens(" ".join(text.split()))
    if not words:
        return []
    rows_needed = len(_greedy(words, fits))
    # Among wrappings with that many rows, prefer even rows and breaks after punctuation.
    best = _balanced(words, rows_needed, fits)
    return best or _greedy(words, fits)


def within(max_chars: int = MAX_CHARS) -> Callable[[str], bool]:
    """Whether a row fits in `max_chars` columns (the subtitle files' measure of a row)."""
    return lambda row: columns(row) <= max_chars


def columns(text: str) -> int:
    """How wide `text` is in a fixed-width grid: East Asian wide characters take two columns."""
    if text.isascii():  # no ASCII character is wide: the common case, without a look-up each
        return len(text)
    return sum(2 if _wide(c) else 1 for c in text)


@functools.cache
def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def display_words(text: str) -> list[str]:
    """The words a caption shows, in order: what a row may break between (a word with the
    punctuation on it, or one character of a script written without spaces)."""
    return [token.lstrip(" ") for token in _tokens(" ".join(text.split()))]


def word_places(rows: Sequence[str]) -> list[tuple[int, int, int]]:
    """Where each of the caption's words sits in its wrapped rows: (row, first character, end
    character), in the order of `display_words`."""
    places = []
    for index, row in enumerate(rows):
        at = 0
        for token in _tokens(row):
            word = token.lstrip(" ")
            begin = at + len(token) - len(word)
            places.append((index, begin, begin + len(word)))
            at += len(token)
    return places


_ASCII_TOKEN = re.compile(r" ?[^ ]+")
"""An ASCII token: no character of ASCII is wide, so each joins the one before it unless a
space comes between (and a run of spaces counts as one)."""


def _tokens(text: str) -> list[str]:
    """The places a row may break, as tokens that keep the space before them (` word`): words,
    and single wide characters, with punctuation, marks and joiners kept on what they follow."""
    if text.isascii():
        return _ASCII_TOKEN.findall(text)
    return _tokens_by_character(text)


def _tokens_by_character(text: str) -> list[str]:
    """`_tokens` of any text, deciding character by character."""
    tokens: list[str] = []
    glue = spaced = False  # glue: the next character joins the token before it
    for char in text:
        kind = unicodedata.category(char)
        if char == " ":
            spaced = True
        elif tokens and not spaced and (glue or kind in ("Mn", "Me", "Cf", "Pe", "Pf", "Po")
                                        or not (_wide(char) or _wide(tokens[-1][-1]))):
            tokens[-1] += char
        else:
            tokens.append(" " + char if spaced else char)
            spaced = False
        glue = kind in ("Ps", "Pi") or char == "\u200d"
    return tokens


def _row(tokens: list[str]) -> str:
    return "".join(tokens).lstrip(" ")


def _greedy(words: list[str], fits: Callable[[str], bool]) -> list[str]:
    rows: list[list[str]] = []
    for word in words:
        if rows and fits(_row([*rows[-1], word])):
            rows[-1].append(word)
        else:
            rows.append([word])
    return [_row(row) for row in rows]


def _balanced(words: list[str], rows: int, fits: Callable[[str], bool]) -> list[str] | None:
    """The best split of `words` into `rows` rows that all fit (dynamic programming on breaks)."""
    n = len(words)
    if rows <= 1 or n > 200:
        return None
    infinity = float("inf")
    # cost[r][i]: best cost of putting words[:i] into r rows; choice[r][i]: where row r starts.
    cost = [[infinity] * (n + 1) for _ in range(rows + 1)]
    choice = [[0] * (n + 1) for _ in range(rows + 1)]
    cost[0][0] = 0.0
    target = columns(_row(words)) / rows
    for r in range(1, rows + 1):
        for i in range(r, n + 1):
            for j in range(r - 1, i):
                if cost[r - 1][j] == infinity:
                    continue
                row = _row(words[j:i])
                if not fits(row) and i - j > 1:
                    continue
                penalty = (columns(row) - target) ** 2
                if i < n and not re.search(r"[,.;:!?—，。、；：！？]$", words[i - 1]):
                    penalty += target * 2  # a break that is not after punctuation reads worse
                if cost[r - 1][j] + penalty < cost[r][i]:
                    cost[r][i] = cost[r - 1][j] + penalty
                    choice[r][i] = j
    if cost[rows][n] == infinity:
        return None
    out: list[str] = []
    i = n
    for r in range(rows, 0, -1):
        j = choice[r][i]
        out.append(_row(words[j:i]))
        i = j
    return out[::-1]


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def caption_text(cue: Cue) -> str:
    """A cue's words on one line, after its speaker's name when it has one: `Owl: Hoo!`."""
    text = " ".join(cue.text.split())
    return f"{cue.speaker}: {text}" if cue.speaker and text else text


def srt_text(cues: Sequence[Cue], *, max_chars: int = MAX_CHARS) -> str:
    """SubRip: numbered cues, `HH:MM:SS,mmm --> …`, wrapped rows (at most two: a longer cue
    is split as the burned captions split theirs, `engine.caption_fit.fit_cues`)."""
    from engine.caption_fit import fit_cues  # it splits with this module's rows

    blocks: list[str] = []
    for cue in fit_cues(cues, within(max_chars)):
        rows = wrap(caption_text(cue), max_chars=max_chars)
        if not rows:  # a silent line has nothing to show, and an empty cue upsets players
            continue
        blocks.append(f"{len(blocks) + 1}\n{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}\n"
                      + "\n".join(rows) + "\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cues: Sequence[Cue], *, max_chars: int = MAX_CHARS, karaoke: bool = False) -> str:
    """WebVTT: a header, then cues; a cue's speaker as a voice span (`<v Owl>…`).

    `karaoke` puts each word's time before it (`<00:00:01.400>`) where the cue knows its words:
    players show the words spoken so far as past text, one word after the other. A cue longer
    than two rows is split, as in `srt_text`."""
    from engine.caption_fit import fit_cues

    blocks = ["WEBVTT\n"]
    for cue in fit_cues(cues, within(max_chars)):
        rows = wrap(" ".join(cue.text.split()), max_chars=max_chars)
        if not rows:
            continue
        rows = _timed_rows(rows, cue) if karaoke else [_vtt_escape(row) for row in rows]
        if cue.speaker:
            rows[0] = f"<v {_vtt_escape(cue.speaker)}>{rows[0]}"
        blocks.append(f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}\n"
                      + "\n".join(rows) + "\n")
    return "\n".join(blocks)


def _timed_rows(rows: list[str], cue: Cue) -> list[str]:
    """The rows with a timestamp tag before each word after the first, strictly increasing and
    inside the cue (WebVTT's rule); rows as they are when the words do not match them."""
    tokens = [_tokens(row) for row in rows]
    if len(cue.words) != sum(len(row) for row in tokens):
        return [_vtt_escape(row) for row in rows]
    out, index, last = [], 0, _timestamp(cue.start, ".")
    for row in tokens:
        pieces = []
        for token in row:
            stamp = _timestamp(cue.words[index].start, ".")
            text = _vtt_escape(token.lstrip(" "))
            if index and last < stamp < _timestamp(cue.end, "."):
                text, last = f"<{stamp}>{text}", stamp
            pieces.append((" " if token.startswith(" ") else "") + text)
            index += 1
        out.append("".join(pieces))
    return out


def write_srt(cues: Sequence[Cue], path: Path) -> Path:
    return write_atomically(path, srt_text(cues))


def write_vtt(cues: Sequence[Cue], path: Path, *, karaoke: bool = False) -> Path:
    return write_atomically(path, vtt_text(cues, karaoke=karaoke))
