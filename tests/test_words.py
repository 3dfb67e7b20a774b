"""Word times: a TTS's words matched to the caption's, estimates, and karaoke WebVTT read back."""

from __future__ import annotations

from pathlib import Path

import pytest
import webvtt

from engine.captions import Cue, Word, display_words, vtt_text, write_vtt
from engine.words import align_words, estimate_words, read_words, write_words


def test_the_tts_words_time_the_words_the_caption_shows():
    spoken = [Word(0.1, 0.4, "Where"), Word(0.4, 0.6, "are"), Word(0.6, 0.8, "you"),
              Word(0.9, 1.2, "little"), Word(1.2, 1.5, "fox")]
    words = align_words("“Where are you,” — little fox?", spoken, 1.6)
    assert [w.text for w in words] == ["“Where", "are", "you,”", "—", "little", "fox?"]
    assert [(w.start, w.end) for w in words if w.text != "—"] == [
        (0.1, 0.4), (0.4, 0.6), (0.6, 0.8), (0.9, 1.2), (1.2, 1.5)]
    dash = words[3]
    assert 0.8 <= dash.start <= 0.9 and dash.end == dash.start  # punctuation takes no time


def test_a_word_spoken_otherwise_is_placed_between_its_neighbours():
    spoken = [Word(0.0, 0.2, "I"), Word(0.2, 0.4, "have"), Word(0.45, 0.8, "three"),
              Word(0.8, 1.2, "apples")]
    words = align_words("I have 3 apples.", spoken, 1.3)
    assert [w.text for w in words] == ["I", "have", "3", "apples."]
    assert words[2].start == pytest.approx(0.4) and words[2].end == pytest.approx(0.8)
    assert words[3].start == 0.8


def test_a_chinese_word_shares_its_time_over_its_characters():
    words = align_words("你好，小狐狸！", [Word(0.1, 0.5, "你好"), Word(0.6, 1.2, "小狐狸")], 1.3)
    assert [w.text for w in words] == ["你", "好，", "小", "狐", "狸！"]
    assert [round(w.start, 3) for w in words] == [0.1, 0.3, 0.6, 0.8, 1.0]
    assert words[-1].end == pytest.approx(1.2)


def test_a_piece_of_a_word_the_tts_reports_is_not_found_inside_a_later_word():
    """espeak reports "while" after "for a" as "or ", and "1999" as "1999", "999", "999": found
    inside "forest" (or "1999" again), every word between would be timed as said at once."""
    spoken = [Word(0.0, 0.3, "We"), Word(0.3, 0.6, "sat"), Word(0.6, 0.8, "for"),
              Word(0.8, 1.2, "or "), Word(1.2, 1.4, "and"), Word(1.4, 1.7, "then"),
              Word(1.7, 2.1, "walked"), Word(2.1, 2.3, "into"), Word(2.3, 2.5, "the"),
              Word(2.5, 3.0, "forest"), Word(3.0, 3.3, "in"), Word(3.3, 3.9, "1999"),
              Word(3.9, 4.2, "999 "), Word(4.2, 4.5, "999 "), Word(4.5, 4.8, "he"),
              Word(4.8, 5.0, "said")]
    text = "We sat for a while and then walked into the forest in 1999, he said."
    words = align_words(text, spoken, 5.2)
    starts = {w.text: w.start for w in words}
    assert starts["and"] == 1.2 and starts["walked"] == 1.7 and starts["forest"] == 2.5
    assert starts["he"] == 4.5 and starts["said."] == 4.8
    assert all(w.end > w.start for w in words)  # no word is said in no time


def test_without_matching_words_times_follow_the_letters():
    assert align_words("Hello there", [Word(0.0, 1.0, "Bonjour")], 2.2) == \
        estimate_words("Hello there", 2.2)
    words = estimate_words("Hi, big fox! 🦊", 2.0)
    assert [w.text for w in words] == ["Hi,", "big", "fox!", "🦊"]
    assert [round(w.end - w.start, 3) for w in words] == [0.5, 0.75, 0.75, 0.0]
    assert words[-1].start == pytest.approx(2.0) and estimate_words("  ", 1.0) == ()


def test_word_times_are_ordered_and_inside_the_clip_whatever_the_tts_said():
    spoken = [Word(0.5, 0.9, "b"), Word(0.2, 0.4, "c"), Word(1.5, 3.0, "d")]
    words = align_words("a b c d", spoken, 2.0)
    starts = [w.start for w in words]
    assert starts == sorted(starts) and all(0 <= w.start <= w.end <= 2.0 for w in words)


def test_words_json_round_trips(tmp_path: Path):
    words = (Word(0.0, 0.25, "Hush,"), Word(0.3, 0.9, "小狐狸"))
    assert read_words(write_words(words, tmp_path / "words.json")) == words


def cue_with_words(start: float, text: str, speaker: str | None, seconds: float) -> Cue:
    words = estimate_words(text, seconds)
    return Cue(start, start + seconds, text, speaker,
               tuple(Word(start + w.start, start + w.end, w.text) for w in words))


def test_karaoke_webvtt_times_each_word_inside_its_cue(tmp_path: Path):
    cues = [cue_with_words(0.4, "Look, the moon is coming up over the hill, round and bright!",
                           "Owl", 3.0),
            cue_with_words(4.0, "Fish & <chips>", None, 1.0),
            Cue(6.0, 7.0, "No words known.")]
    path = write_vtt(cues, tmp_path / "captions.words.vtt", karaoke=True)
    read = webvtt.read(str(path))
    assert [c.start for c in read] == ["00:00:00.400", "00:00:04.000", "00:00:06.000"]
    first = read[0].raw_text
    assert first.startswith("<v Owl>Look, <00:00:00.")
    stamps = [line.split(">")[0] for line in first.replace("\n", " ").split("<")[2:]]
    assert stamps == sorted(stamps) and len(stamps) == len(display_words(cues[0].text)) - 1
    assert all("00:00:00.400" < s < "00:00:03.400" for s in stamps)
    # "&" takes no time: "<chips>" starts with it (4 of 9 letters in), so it gets no stamp of its own
    assert read[1].raw_text == "Fish <00:00:04.444>&amp; &lt;chips&gt;"
    assert read[2].raw_text == "No words known."
    plain = vtt_text(cues)
    assert "<00:" not in plain and "Look, the moon" in plain
