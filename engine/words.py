"""Word timings for captions: a TTS's own word times matched to the words a caption shows;
where the TTS gives none, line cues (or, as a setting, times shared out by the words' lengths)."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from engine.captions import Word, display_words
from engine.files import write_atomically

log = logging.getLogger(__name__)


def write_words(words: Sequence[Word], path: Path) -> Path:
    """A clip's word times as JSON: {"words": [{start, end, text}, ...]}."""
    return write_atomically(path, json.dumps({"words": [asdict(word) for word in words]},
                                             ensure_ascii=False) + "\n")


def read_words(path: Path) -> tuple[Word, ...]:
    """The words of a file `write_words` wrote."""
    return tuple(Word(float(w["start"]), float(w["end"]), str(w["text"]))
                 for w in json.loads(path.read_text(encoding="utf-8"))["words"])


def line_words(text: str, times: Path | None, duration: float, estimate: bool = False
               ) -> tuple[Word, ...]:
    """The caption's words timed from the TTS's word times (`times`, a `write_words` file);
    without them none, so the line is one cue with no word highlighted, unless `estimate`
    (`timeline.estimate_word_times`) shares the line's time out by the words' lengths."""
    if times is not None:
        return align_words(text, read_words(times), duration)
    return estimate_words(text, duration) if estimate else ()


def report_untimed(untimed: int, total: int, estimate: bool) -> None:
    """The log line for lines whose TTS gave no word times (nothing when every line has them)."""
    if not untimed:
        return
    if estimate:
        log.info("%d of %d lines come without word times from their TTS: their words are "
                 "estimated from their lengths (timeline.estimate_word_times)", untimed, total)
    else:
        log.info("%d of %d lines come without word times from their TTS: they fall back to line "
                 "cues (captions.words.vtt times their lines, no word is highlighted; "
                 "timeline.estimate_word_times=true estimates them)", untimed, total)


def _letters(text: str) -> str:
    """What two spellings of a word share: its letters and digits, case folded."""
    return "".join(char for char in text.casefold() if char.isalnum())


def _weights(words: Sequence[str]) -> list[int]:
    return [len(_letters(word)) for word in words]


def estimate_words(text: str, duration: float) -> tuple[Word, ...]:
    """The caption's words timed in proportion to their letters over `duration` seconds (for a
    TTS that reports no word times); a word of punctuation or emoji alone takes no time."""
    shown = display_words(text)
    weights = _weights(shown)
    total = sum(weights) or 1
    out, at = [], 0.0
    for word, weight in zip(shown, weights):
        length = duration * weight / total
        out.append(Word(at, at + length, word))
        at += length
    return tuple(out)


def align_words(text: str, spoken: Sequence[Word], duration: float) -> tuple[Word, ...]:
    """The caption's words (`display_words(text)`) timed from the words a TTS reported.

    The TTS's words are found in the caption by their letters, in order (a word it spelled
    otherwise, "3" spoken as "three", is skipped); each caption word then takes the time of the
    letters it holds, a spoken word's time shared over its letters (so a Chinese word covers
    its characters one after the other), and letters no spoken word matched are interpolated
    between their neighbours. Without any match the words are estimated (`estimate_words`).
    """
    shown = display_words(text)
    letters = "".join(_letters(word) for word in shown)
    matched = _find(letters, _starts(shown), spoken, duration)
    if not matched:
        return estimate_words(text, duration)
    # Anchors: every matched word's first letter at its start, its end letter at its end.
    xs = np.array([x for begin, end, _ in matched for x in (begin, end)], dtype=np.float64)
    ts = np.array([t for _, _, w in matched for t in (w.start, w.end)], dtype=np.float64)
    xs = np.concatenate(([0.0], xs, [len(letters)]))
    ts = np.concatenate(([min(0.0, ts[0])], ts, [max(duration, ts[-1])]))
    out: list[Word] = []
    position = 0
    for word, weight in zip(shown, _weights(shown)):
        start = _time_at(position, matched, xs, ts, start=True)
        end = _time_at(position + weight, matched, xs, ts, start=False) if weight else start
        previous = out[-1].start if out else 0.0
        start = min(max(start, previous), duration)
        out.append(Word(start, min(max(end, start), duration), word))
        position += weight
    return tuple(out)


def _find(letters: str, starts: frozenset[int], spoken: Sequence[Word],
          duration: float) -> list[tuple[int, int, Word]]:
    """(first letter, end letter, word) for each spoken word found in order in `letters`: right
    after the word found before it, or where a caption word starts (`starts`), and not far past
    where its time puts it. A TTS may report a piece of a word (espeak gives "or" after "for a"
    for "while", "999" twice after "1999"): found inside a later word ("forest"), it would time
    every word between as said at once."""
    found, cursor = [], 0
    reach = max(REACH_LETTERS, len(letters) // 4)
    for word in spoken:
        needle = _letters(word.text)
        if not needle:
            continue
        at = letters.find(needle, cursor)
        while at > cursor and at not in starts:
            at = letters.find(needle, at + 1)
        heard_at = len(letters) * word.start / duration if duration > 0 else cursor
        if at < 0 or at - max(cursor, heard_at) > reach:
            continue
        found.append((at, at + len(needle), word))
        cursor = at + len(needle)
    return found


REACH_LETTERS = 24
"""Letters past where a spoken word's time puts it in the caption that it may still be found
(or a quarter of the caption's letters, when more)."""


def _starts(shown: Sequence[str]) -> frozenset[int]:
    """Where each caption word's letters start; in a word of a script written without spaces
    (Chinese, Japanese), every letter, since a TTS says such a word in parts."""
    starts, at = set(), 0
    for word in shown:
        letters = _letters(word)
        unspaced = any(unicodedata.east_asian_width(char) in "WF" for char in letters)
        starts.update(range(at, at + len(letters)) if unspaced else (at,))
        at += len(letters)
    return frozenset(starts)


def _time_at(position: int, matched: list[tuple[int, int, Word]], xs: np.ndarray,
             ts: np.ndarray, *, start: bool) -> float:
    """When letter `position` is heard: inside a matched word, that share of the word's time
    (a word's start belongs to it, as its end does); elsewhere between the anchors around it."""
    for begin, end, word in matched:
        if begin <= position < end if start else begin < position <= end:
            return word.start + (word.end - word.start) * (position - begin) / (end - begin)
    return float(np.interp(position, xs, ts))
