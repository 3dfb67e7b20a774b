"""Captions: wrapping for young readers, and SRT/WebVTT that third-party parsers read back."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import srt
import webvtt

from engine.caption_fit import MAX_ROWS, fit_cues
from engine.captions import (
    MAX_CHARS,
    Cue,
    caption_text,
    srt_text,
    vtt_text,
    within,
    wrap,
    write_srt,
    write_vtt,
)

CUES = (
    Cue(0.4, 1.9, "Look, the moon is coming up over the hill, round and bright as a lantern!", "Owl"),
    Cue(2.25, 3.0, "Hush.", None),
    Cue(3.5, 3.6, "   ", "Fox"),  # a silent line: no cue in the files
    Cue(3661.5, 3663.0, "Fish & <chips>", "Fox"),
)
UNNAMED = tuple(replace(cue, speaker=None) for cue in CUES)
"""The cues as the cut stage hands them on when captions name no speaker."""


def test_short_text_stays_on_one_row():
    assert wrap("Hello, moon.") == ["Hello, moon."]
    assert wrap("   ") == []


def test_long_text_is_wrapped_into_balanced_rows_that_fit():
    text = "Look, the moon is up over the hill, round and bright as a lantern!"
    rows = wrap(text)
    assert " ".join(rows) == text
    assert len(rows) == 2 and all(len(r) <= MAX_CHARS for r in rows)
    assert rows[0].endswith(",")  # a break after punctuation when one is close to the middle
    assert abs(len(rows[0]) - len(rows[1])) < 15


def test_a_word_longer_than_a_row_gets_a_row_alone():
    rows = wrap("a " + "x" * 50 + " b", max_chars=20)
    assert rows == ["a", "x" * 50, "b"]


def test_wrap_can_measure_rows_by_pixel_width():
    rows = wrap("one two three four five six", fits=lambda row: len(row) * 10 <= 120)
    assert all(len(r) * 10 <= 120 for r in rows) and " ".join(rows) == "one two three four five six"


def test_srt_reads_back_with_the_srt_package(tmp_path: Path):
    path = write_srt(UNNAMED, tmp_path / "captions.srt")
    subtitles = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [s.index for s in subtitles] == [1, 2, 3]
    assert [(s.start, s.end) for s in subtitles] == [
        (timedelta(seconds=0.4), timedelta(seconds=1.9)),
        (timedelta(seconds=2.25), timedelta(seconds=3.0)),
        (timedelta(seconds=3661.5), timedelta(seconds=3663.0))]
    assert subtitles[0].content.replace("\n", " ") == CUES[0].text
    assert subtitles[2].content == "Fish & <chips>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captions.srt"]


def test_srt_names_a_cue_speaker():
    subtitles = list(srt.parse(srt_text(CUES)))
    assert subtitles[0].content.startswith("Owl: Look,")  # three rows at 38: two cues
    assert subtitles[1].content.startswith("Owl: ")
    assert " ".join(s.content.replace("Owl: ", "") for s in subtitles[:2]).split() == \
        CUES[0].text.split()
    assert subtitles[2].content == "Hush."
    assert len(subtitles) == 4  # a silent line's speaker alone makes no cue
    assert caption_text(CUES[3]) == "Fox: Fish & <chips>" and caption_text(CUES[2]) == ""


def test_vtt_reads_back_with_webvtt_py(tmp_path: Path):
    path = write_vtt(CUES, tmp_path / "captions.vtt")
    captions = webvtt.read(str(path))
    times = [(c.start, c.end) for c in captions]
    assert times[0][0] == "00:00:00.400" and times[0][1] == times[1][0]  # the first, split
    assert times[1:] == [(times[1][0], "00:00:01.900"), ("00:00:02.250", "00:00:03.000"),
                         ("01:01:01.500", "01:01:03.000")]
    assert captions[0].voice == "Owl" and captions[1].voice == "Owl"
    assert " ".join(c.text.replace("\n", " ") for c in captions[:2]) == CUES[0].text
    # WebVTT escapes & and < (a bare < would open a tag); webvtt-py leaves the entities in
    assert html.unescape(captions[3].text) == "Fish & <chips>"
    assert path.read_text(encoding="utf-8").startswith("WEBVTT\n")


def test_vtt_without_speakers_has_plain_text():
    text = vtt_text(UNNAMED[:2])
    assert "<v " not in text and "00:00:00.400 --> 00:00:01.900" in text


def test_a_cue_fitted_to_a_wide_video_shows_the_same_pieces_in_the_files():
    text = ("Once upon a time, in a meadow full of clover, a small hedgehog named Mo woke up "
            "under the moon and went looking for the owl who sang every night in the old oak.")
    wide = fit_cues([Cue(1.0, 9.0, text, "Owl")], within(70))  # a 16:9 video's caption width
    # A row never takes more than the files' MAX_CHARS, whatever the frame allows: the SRT and
    # the WebVTT split nothing further.
    assert all(len(wrap(caption_text(cue))) <= MAX_ROWS for cue in wide)
    subtitles = list(srt.parse(srt_text(wide)))
    assert [" ".join(c.content.split()) for c in subtitles] == [caption_text(c) for c in wide]
    assert [(c.start.total_seconds(), c.end.total_seconds()) for c in subtitles] == [
        (round(c.start, 3), round(c.end, 3)) for c in wide]
    assert subtitles[0].start == timedelta(seconds=1) and subtitles[-1].end == timedelta(seconds=9)
    blocks = vtt_text(wide).split("\n\n")[1:]
    assert len(blocks) == len(subtitles)
    assert all(len(block.strip().splitlines()) - 1 <= MAX_ROWS for block in blocks)


def test_columns_count_wide_characters_twice_and_ascii_once():
    from engine.captions import columns

    assert columns("Mo: \"What a lovely place!\"") == 26
    assert columns("日本語") == 6 and columns("Mo 日本") == 7 and columns("café") == 4


def test_ascii_text_is_tokenized_as_character_by_character():
    import random

    from engine.captions import _tokens, _tokens_by_character

    rng = random.Random(7)
    alphabet = "ab Z9 .,;:!?()[]{}'\"-\t" + " " * 6
    texts = ["", " ", "   a", "a   ", "(a) b", "a ,b", "x\ty  z"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(40))) for _ in range(500)]
    for text in texts:
        assert _tokens(text) == _tokens_by_character(text), repr(text)
