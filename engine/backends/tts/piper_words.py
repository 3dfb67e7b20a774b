"""Word times from a Piper voice: its alignment output (audio samples per phoneme id) summed over
each word's phonemes, and the words named from the line's text."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np

from engine.captions import Word

BOS, EOS, PAD, SPACE = "^", "$", "_", " "
"""Piper's sentence start and end, the pad after every phoneme, and espeak's word break."""

Span = tuple[int, int]


def word_spans(phonemes: Sequence[str], ids: Sequence[int], id_samples: np.ndarray | None,
               id_map: Mapping[str, Sequence[int]]) -> list[Span] | None:
    """[start, end) samples of each word of a sentence (its phonemes' samples, each with the
    pad after it), or None when the model gives no alignment or the ids do not follow the
    phonemes as Piper lays them out (BOS, each phoneme and a pad, EOS)."""
    if id_samples is None or len(id_samples) != len(ids):
        return None
    counts, index = [], 0
    for phoneme in (BOS, *phonemes, EOS):
        expected = [*id_map.get(phoneme, ()), *(id_map.get(PAD, ()) if phoneme != EOS else ())]
        if list(ids[index:index + len(expected)]) != expected:
            return None
        counts.append(int(np.sum(id_samples[index:index + len(expected)])))
        index += len(expected)
    edges = np.cumsum([0, *counts])  # phoneme k of the sentence: [edges[k + 1], edges[k + 2])
    spans, first = [], None
    for k, phoneme in enumerate((*phonemes, SPACE)):
        if phoneme != SPACE and first is None:
            first = k
        elif phoneme == SPACE and first is not None:
            if not all(unicodedata.category(p).startswith("P") for p in phonemes[first:k]):
                spans.append((int(edges[first + 1]), int(edges[k + 1])))
            first = None
    return spans


def named_words(text: str, spans: Sequence[Span], rate: float) -> tuple[Word, ...] | None:
    """The spans (samples at `rate`) as words named from `text`, one word of it each in order;
    None when the counts differ (espeak read a number or a symbol as several words)."""
    names = [word for word in text.split() if any(char.isalnum() for char in word)]
    if len(names) != len(spans) or not spans:
        return None
    return tuple(Word(round(float(start) / rate, 4), round(float(end) / rate, 4), name)
                 for name, (start, end) in zip(names, spans))
