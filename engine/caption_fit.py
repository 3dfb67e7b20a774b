"""A caption too long to show at once as successive cues: where a line is split, and when
each piece is shown."""

from __future__ import annotations

import itertools
import math
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from engine.captions import MAX_CHARS, Cue, Word, _row, _tokens, columns, within

MAX_ROWS = 2
"""Rows a caption shows at once: a longer line becomes successive captions."""
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–，、；：][\"'”’»)\]]*$")
MIN_SECONDS = 1.0
"""The shortest a piece of a split line is shown where the line's time allows (subtitle
guidelines: about a second; less is a flash no child can read)."""
READING_SPEED = 17.0
"""Characters a second a caption can be read at (subtitle guidelines: 15 to 17)."""
SPEAKING_SPEED = 15.0
"""Characters a second a storyteller reads aloud at (about 150 words a minute): how long a line
is expected to take before a voice has spoken it (`spoken_seconds`)."""
SHORT_COST = 2000.0
"""What a piece shown no time at all costs (see `_best_breaks`): even a twentieth of MIN_SECONDS
short costs more than any choice of breaks, so only a line too quick for every piece to last
MIN_SECONDS has one shown less (and then the shortfall is shared out: no piece a flash)."""

Fits = Callable[[str], bool]
Times = Sequence[float]
"""Seconds: when each piece starts, then when the cue ends (an `array('d')`)."""


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
    at most `max_rows` rows that fit both `fits` (as for `wrap`, e.g. the burned captions' pixel
    width) and the files' MAX_CHARS columns, so the SRT, the WebVTT, the soft track and the
    burned captions show the same pieces. See `split_cue` for where a line is split."""
    rows_fit = within() if fits is None else _both(fits)
    return tuple(piece for cue in cues for piece in split_cue(cue, rows_fit, max_rows))


def spoken_seconds(text: str) -> float:
    """About how long `text` takes to say, at SPEAKING_SPEED: for counting its captions
    (`fit_cues`) before it is spoken."""
    return max(columns(" ".join(text.split())), 1) / SPEAKING_SPEED


def _both(fits: Fits) -> Fits:
    return lambda row: columns(row) <= MAX_CHARS and fits(row)


def split_cue(cue: Cue, fits: Fits, max_rows: int = MAX_ROWS) -> list[Cue]:
    """`cue` as successive cues that each fit; itself when it fits.

    Of the splits into pieces that each show in `max_rows` rows that fit, the one chosen breaks
    at sentence ends, then after clause punctuation, then between phrases (before `and`, never
    after `the`), a word too wide for a row hyphenated; it keeps every piece on screen at least
    MIN_SECONDS where the line's time allows, and uses as few pieces as that leaves. The pieces
    share the cue's time by its words' times when it has them in order, else by length."""
    pieces = _hyphenated(_tokens(" ".join(cue.text.split())), fits)
    head = _tokens(f"{cue.speaker}: " if cue.speaker else "")

    def shows(group: list[_Piece]) -> bool:
        return _rows_within(_group_tokens(head, group), fits, max_rows)

    if not pieces or shows(pieces):
        return [cue]
    timed = bool(cue.words) and len(cue.words) == len({p.word for p in pieces})
    # Word times out of order (a TTS's events gone astray) are not trusted at all.
    at = _timed_starts(cue, pieces) if timed else None
    timed = at is not None
    at = at or _shared_starts(cue, pieces)
    bounds = _best_breaks(pieces, at, _run_ends(pieces, head, fits, max_rows))
    out = []
    for begin, stop in zip(bounds, bounds[1:]):
        group = pieces[begin:stop]
        words = tuple(_word_of(cue.words[p.word], p) for p in group) if timed else ()
        out.append(Cue(at[begin], at[stop], _row([p.token for p in group]), cue.speaker, words))
    return out


def _best_breaks(pieces: list[_Piece], at: Times,
                 stops: Callable[[int], Iterator[int]]) -> list[int]:
    """Where the pieces are split (indices, from 0 to len(pieces)): the cheapest split into runs
    that each show, `stops(begin)` giving where a run from `begin` may end (dynamic programming).

    A run costs one for its cue, how badly it ends (`_break_cost`), one for each second it is
    shown less than reading it at READING_SPEED takes, and far more when it is shown less than
    MIN_SECONDS: SHORT_COST by the square of the part of MIN_SECONDS it lacks."""
    n = len(pieces)  # arrays, not lists: one long line may hold a million words
    cost, back = array("d", [0.0]) * (n + 1), array("q", [0]) * (n + 1)
    cost[1:] = array("d", [math.inf]) * n
    ending = array("d", (1.0 + _break_cost(pieces, stop) for stop in range(1, n)))
    ending.append(1.0)  # the line's end
    widths = array("q", [0])
    widths.extend(itertools.accumulate(columns(p.token) for p in pieces))
    for begin in range(n):
        for stop in stops(begin):
            seconds = at[stop] - at[begin]
            short = MIN_SECONDS - seconds
            total = (cost[begin] + ending[stop - 1]
                     + max(0.0, (widths[stop] - widths[begin]) / READING_SPEED - seconds)
                     + (SHORT_COST * short * short / MIN_SECONDS ** 2 if short > 0 else 0.0))
            if total < cost[stop]:
                cost[stop], back[stop] = total, begin
    bounds = [n]
    while bounds[-1]:
        bounds.append(back[bounds[-1]])
    return bounds[::-1]


def _run_ends(pieces: list[_Piece], head: list[str], fits: Fits,
              max_rows: int) -> Callable[[int], Iterator[int]]:
    """For a run of pieces from `begin`: where it may end, in order (one piece always may): as
    long as `_rows_within` lays out the speaker's head and the run in `max_rows` rows, found by
    laying the pieces out one after the other (a row's text is its tokens joined, the first
    without its space)."""
    def ends(begin: int) -> Iterator[int]:
        yield begin + 1
        lead = _group_tokens(head, pieces[begin:begin + 1])
        following = (pieces[index].token for index in range(begin + 1, len(pieces)))
        rows, row = 1, ""
        for count, token in enumerate(itertools.chain(lead, following)):
            if not row:
                row = token.lstrip(" ")
            elif fits(row + token):
                row += token
            elif rows == max_rows:
                return
            else:
                rows, row = rows + 1, token.lstrip(" ")
            if count >= len(lead):  # pieces[begin + 1 + count - len(lead)] joined the run
                yield begin + 2 + count - len(lead)
    return ends


def _break_cost(pieces: list[_Piece], stop: int) -> float:
    """How badly a cue reads that ends before pieces[stop]: nothing at a sentence's end, a
    little after a clause, more between words (less before a word that begins a phrase, more
    after one that needs its next), most inside a hyphenated word."""
    before, after = pieces[stop - 1], pieces[stop]
    if before.word == after.word:
        return 12.0
    if _SENTENCE_END.search(before.token):
        return 0.0
    if _CLAUSE_END.search(before.token):
        return 1.0
    last, first = before.token.strip().lower(), after.token.strip().lower()
    return 6.0 + 3.0 * (last in _LEADS) - 2.0 * (first in _PHRASE_STARTS)


_PHRASE_STARTS = frozenset(
    "and but or so because before after when while where who which that if until as than "
    "then to in on at of for with from under over into onto by about".split())
"""English words that begin a phrase: a caption may end before one."""
_LEADS = frozenset("a an the my your his her its our their this that these those to of in on "
                   "at for with from by and but or very".split())
"""English words that lean on the next: a caption should not end with one."""


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


def _timed_starts(cue: Cue, pieces: list[_Piece]) -> Times | None:
    """When each piece is first heard (the cue's start and end around them), if those times are
    in order inside the cue."""
    at = array("d", [cue.start])
    at.extend(_word_of(cue.words[p.word], p).start for p in pieces[1:])
    at.append(cue.end)
    return at if all(at[i] <= at[i + 1] for i in range(len(at) - 1)) else None


def _shared_starts(cue: Cue, pieces: list[_Piece]) -> Times:
    """When each piece starts (and the cue ends) if the cue's time is shared out by characters."""
    total = max(sum(columns(p.token) for p in pieces), 1)
    at, done = array("d"), 0
    for piece in pieces:
        at.append(cue.start + (cue.end - cue.start) * done / total)
        done += columns(piece.token)
    at.append(cue.end)
    return at


def _word_of(word: Word, piece: _Piece) -> Word:
    """The part of `word`'s time that `piece` takes (all of it unless the word was broken)."""
    length = word.end - word.start
    return Word(word.start + length * piece.begin, word.start + length * piece.end,
                piece.token.lstrip(" "))
