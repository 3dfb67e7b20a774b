"""Captions: SRT and WebVTT files from cues (with per-word karaoke timestamps), wrapped for
children's reading."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
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
    """SubRip: numbered cues, `HH:MM:SS,mmm --> …`, wrapped rows (at most MAX_ROWS: a longer
    cue is split as the burned captions split theirs, `fit_cues`)."""
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
    than MAX_ROWS rows is split, as in `srt_text`."""
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


MAX_ROWS = 2
"""Rows a caption shows at once: a longer line becomes successive captions."""
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–，、；：][\"'”’»)\]]*$")

Fits = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class _Piece:
    """A place a caption may break (` word`, or part of a word too wide for a row), the word
    of the line it is part of, and which part of that word (fractions of its length)."""

    token: str
    word: int
    begin: float = 0.0
    end: float = 1.0


def fit_cues(cues: Sequence[Cue], fits: Fits | None = None,
             max_rows: int = MAX_ROWS) -> tuple[Cue, ...]:
    """The cues, each one too long to show at once split into successive cues that wrap into
    at most `max_rows` rows that fit (`fits` as for `wrap`): at sentence ends first, then
    after clause punctuation, then between words; a word too wide for a row is hyphenated.
    The pieces share the cue's time by its words' times when it has them, else by length."""
    fits = fits or within()
    return tuple(piece for cue in cues for piece in split_cue(cue, fits, max_rows))


def split_cue(cue: Cue, fits: Fits, max_rows: int = MAX_ROWS) -> list[Cue]:
    """`cue` as successive cues that each fit (see `fit_cues`); itself when it fits."""
    pieces = _hyphenated(_tokens(" ".join(cue.text.split())), fits)
    head = _tokens(f"{cue.speaker}: " if cue.speaker else "")

    def shows(group: list[_Piece]) -> bool:
        return _rows_within(_group_tokens(head, group), fits, max_rows)

    if not pieces or shows(pieces):
        return [cue]
    groups = _grouped(pieces, shows, (_SENTENCE_END, _CLAUSE_END))
    timed = bool(cue.words) and len(cue.words) == len({p.word for p in pieces})
    # Word times out of order (a TTS's events gone astray) are not trusted at all.
    starts = _timed_starts(cue, groups) if timed else None
    timed = starts is not None
    starts = starts or _shared_starts(cue, groups)
    out = []
    for index, group in enumerate(groups):
        start, end = starts[index], starts[index + 1] if index + 1 < len(groups) else cue.end
        words = tuple(_word_of(cue.words[p.word], p) for p in group) if timed else ()
        out.append(Cue(start, end, _row([p.token for p in group]), cue.speaker, words))
    return out


def _group_tokens(head: list[str], group: Sequence[_Piece]) -> list[str]:
    """The tokens of the speaker's `head` and a run of pieces shown as one caption: what
    `_tokens` gives for the head's text and the pieces' row (a token's breaks depend only on the
    characters beside it, so the pieces stay the tokens they are; the first follows a space)."""
    if not group:
        return list(head)
    first = group[0].token.lstrip(" ")
    return [*head, " " + first if head else first, *(p.token for p in group[1:])]


def _rows_within(words: list[str], fits: Fits, max_rows: int) -> bool:
    """Whether `_greedy` (as many rows as `wrap` gives) lays the words out in `max_rows` rows."""
    rows, row = 1, [words[0]] if words else []
    for word in words[1:]:
        if fits(_row([*row, word])):
            row.append(word)
        elif rows == max_rows:
            return False
        else:
            rows, row = rows + 1, [word]
    return True


def _hyphenated(tokens: list[str], fits: Fits) -> list[_Piece]:
    """The tokens as pieces; a word too wide for a row broken into parts that each fit with
    a hyphen after them (each part a token of its own, after a space)."""
    pieces: list[_Piece] = []
    for index, token in enumerate(tokens):
        word = token.lstrip(" ")
        if fits(word) or len(word) < 2:
            pieces.append(_Piece(token, index))
            continue
        at, space = 0, token[:len(token) - len(word)]
        while at < len(word):
            stop = at + 1
            while stop < len(word) and fits(word[at:stop + 1] + ("-" * (stop + 1 < len(word)))):
                stop += 1
            part = word[at:stop] + ("-" if stop < len(word) else "")
            pieces.append(_Piece((space if at == 0 else " ") + part, index,
                                 at / len(word), stop / len(word)))
            at = stop
    return pieces


def _grouped(pieces: list[_Piece], shows: Callable[[list[_Piece]], bool],
             breaks: tuple[re.Pattern[str], ...]) -> list[list[_Piece]]:
    """Pieces gathered into as few groups as show, in order, breaking at the first of `breaks`
    that splits the line, then the next inside a part still too long, then between pieces."""
    if shows(pieces):
        return [pieces]
    if breaks and not any(breaks[0].search(pieces[i].token) for i in range(len(pieces) - 1)):
        return _grouped(pieces, shows, breaks[1:])  # no break of this kind splits the line
    spans = _spans(pieces, breaks[0] if breaks else None)
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []
    for span in spans:
        if current and shows(current + span):
            current += span
            continue
        if current:
            groups.append(current)
        current = span if shows(span) or not breaks else []
        if not current:
            groups.extend(_grouped(span, shows, breaks[1:]))
    return groups + [current] if current else groups


def _spans(pieces: list[_Piece], at: re.Pattern[str] | None) -> Iterator[list[_Piece]]:
    """The pieces in runs that each end with a break `at` (or one piece a run), one by one."""
    span: list[_Piece] = []
    for piece in pieces:
        span.append(piece)
        if at is None or at.search(piece.token):
            yield span
            span = []
    if span:
        yield span


def _timed_starts(cue: Cue, groups: list[list[_Piece]]) -> list[float] | None:
    """When each group's first word is heard, if those times are in order inside the cue."""
    firsts = [_word_of(cue.words[group[0].word], group[0]).start for group in groups]
    firsts[0] = cue.start
    ordered = all(a < b for a, b in zip(firsts, firsts[1:])) and firsts[-1] < cue.end
    return firsts if ordered else None


def _shared_starts(cue: Cue, groups: list[list[_Piece]]) -> list[float]:
    """When each group starts if the cue's time is shared out by characters."""
    lengths = [sum(columns(p.token) for p in group) for group in groups]
    total, starts, done = max(sum(lengths), 1), [], 0
    for length in lengths:
        starts.append(cue.start + (cue.end - cue.start) * done / total)
        done += length
    return starts


def _word_of(word: Word, piece: _Piece) -> Word:
    """The part of `word`'s time that `piece` takes (all of it unless the word was broken)."""
    length = word.end - word.start
    return Word(word.start + length * piece.begin, word.start + length * piece.end,
                piece.token.lstrip(" "))
