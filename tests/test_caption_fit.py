"""Long lines become successive captions that fit the frame: split at sentences, clauses, words;
a word too wide for a row hyphenated; times shared by the words' times or the characters."""

from __future__ import annotations

from pathlib import Path

import pytest
import srt
from PIL import Image

from engine.backends.video.caption_box import (
    caption_fits,
    caption_limit,
    caption_overlay,
    caption_size,
)
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.backends.video.text import row_width
from engine.caption_fit import fit_cues
from engine.captions import Cue, Word, caption_text, display_words, wrap
from engine.stages.cut import CutLine, CutScene, cut
from engine.timeline import TimelineSettings
from tests.sounds import write_tone

W, H = 320, 180
STORY = " ".join(f"The snail looked up at cloud number {i}, and it wondered about the rain."
                 for i in range(40))
LONG_WORD = "".join("snail"[i % 5] for i in range(272))


def editor() -> FFmpegEditor:
    return FFmpegEditor(burn_subtitles=True)


def rows_fit(cue: Cue, max_rows: int = 2) -> bool:
    style = editor()._style()
    size = caption_size(W, H, style)
    rows = wrap(caption_text(cue), editor().caption_fits(W, H))
    return len(rows) <= max_rows and all(
        row_width(row, style.chain, size) <= caption_limit(W, size, style) for row in rows)


def test_a_long_line_becomes_successive_cues_that_fit_and_share_its_time_by_length():
    cue = Cue(10.0, 115.0, STORY)
    pieces = fit_cues([cue], editor().caption_fits(W, H))
    assert len(pieces) >= 20 and all(rows_fit(piece) for piece in pieces)
    assert " ".join(p.text for p in pieces) == STORY
    assert pieces[0].start == 10.0 and pieces[-1].end == 115.0
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:]))
    assert all(p.text.endswith((".", ",")) for p in pieces[:-1])  # sentence or clause ends
    for piece in pieces:  # each lasts its share of the characters
        share = len(" " + piece.text) / len(" " + STORY) * 105.0
        assert abs((piece.end - piece.start) - share) < 0.05


def test_pieces_of_a_timed_line_start_at_their_first_word_and_keep_their_words():
    words = display_words(STORY)
    timed = tuple(Word(2.0 + i * 0.3, 2.0 + i * 0.3 + 0.25, w) for i, w in enumerate(words))
    cue = Cue(2.0, 2.0 + len(words) * 0.3, STORY, "Narrator", timed)
    pieces = fit_cues([cue], editor().caption_fits(W, H))
    assert len(pieces) > 1 and all(rows_fit(piece) for piece in pieces)
    assert [w for p in pieces for w in p.words] == list(timed)
    for piece in pieces:
        assert piece.words[0].start == piece.start or piece is pieces[0]
        assert len(piece.words) == len(display_words(piece.text))
        assert piece.start <= piece.words[0].start and piece.words[-1].end <= piece.end + 1e-9


def test_a_word_too_wide_for_the_frame_is_hyphenated_and_shown_whole():
    cue = Cue(0.0, 8.0, f"Look: {LONG_WORD} ends here.", "Owl")
    pieces = fit_cues([cue], editor().caption_fits(W, H))
    assert all(rows_fit(piece) for piece in pieces)
    shown = "".join(piece.text for piece in pieces).replace("-", "").replace(" ", "")
    assert shown == f"Look:{LONG_WORD}endshere."
    assert all(p.speaker == "Owl" for p in pieces)


def test_cjk_lines_split_without_spaces_and_fit():
    line = "小蜗牛抬头看着天上的云，它很害怕下雨。" * 12
    pieces = fit_cues([Cue(0.0, 30.0, line)], editor().caption_fits(W, H))
    assert len(pieces) > 1 and "".join(p.text for p in pieces) == line
    assert all(rows_fit(piece) for piece in pieces)
    assert all(p.text.endswith(("。", "，")) for p in pieces[:-1])


def tone(path: Path, seconds: float) -> Path:
    return write_tone(path, seconds, 300, level=0.3)


def test_the_cut_splits_long_lines_in_the_burned_and_the_sidecar_captions(tmp_path: Path):
    Image.new("RGB", (W, H), (90, 140, 200)).save(tmp_path / "p.png")
    line = " ".join(STORY.split(". ")[:6]) + f" {LONG_WORD}."
    scene = CutScene("rain", tmp_path / "p.png", None, None,
                     (CutLine(tone(tmp_path / "a.wav", 6.0), line, None),))
    settings = TimelineSettings(lead_in=0.2, gap=0.2, tail=0.3, min_scene=1.0, crossfade=0.0)
    outcome = cut((scene,), editor(), settings, W, H, 10, tmp_path / "out", tmp_path / "work")
    cues = list(srt.parse(outcome.srt.read_text()))
    assert len(cues) > 4 and cues[0].start.total_seconds() == 0.2
    assert max((c.end - c.start).total_seconds() for c in cues) < 2.0
    style = editor()._style()
    fits = caption_fits(W, H, style)
    for cue in cues:  # what is burned in: at most two rows, inside the frame
        text = " ".join(cue.content.split())
        assert all(fits(row) for row in wrap(text, fits)) and len(wrap(text, fits)) <= 2
        overlay = caption_overlay(text, W, H, style)
        assert overlay.y >= 0 and overlay.y + overlay.size[1] <= H and overlay.size[0] < W
    assert "".join(c.content for c in cues).replace("-", "").replace(" ", "").replace(
        "\n", "").endswith(LONG_WORD + ".")


def test_check_warns_at_a_line_that_needs_many_captions(tmp_path: Path):
    from engine.commands.check import collect

    path = tmp_path / "snail.story"
    path.write_text(f'title: Snail\n\nscene rain\n  setting: a garden\n  "Short and sweet."\n'
                    f'  "{STORY}"\n', encoding="utf-8")
    (warning,) = [d for d in collect([str(path)]) if d.code == "long-line"]
    assert warning.severity == "warning" and warning.span.line == 6
    assert "captions shown one after the other" in warning.message


def test_word_times_out_of_order_fall_back_to_sharing_by_characters():
    words = display_words(STORY)
    astray = tuple(Word(2.0 + (i % 50) * 0.3, 2.0 + (i % 50) * 0.3 + 0.25, w)
                   for i, w in enumerate(words))  # the times start over every 50 words
    cue = Cue(2.0, 2.0 + len(words) * 0.3, STORY, None, astray)
    pieces = fit_cues([cue], editor().caption_fits(W, H))
    total = cue.end - cue.start
    for piece in pieces:
        assert piece.words == ()
        share = len(" " + piece.text) / len(" " + STORY) * total
        assert (piece.end - piece.start) == pytest.approx(share, rel=0.02)


def test_a_long_line_of_clauses_splits_in_memory_a_small_multiple_of_its_size():
    import tracemalloc

    text = "word, " * 10_000  # one clause a word: a run of pieces each
    fit_cues([Cue(0.0, 1.0, text)])
    tracemalloc.start()
    try:
        cues = fit_cues([Cue(0.0, 1.0, text)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert " ".join(c.text for c in cues).split() == text.split()
    # its pieces cost ~27 bytes a character; a list per run of them cost 13 more
    assert peak < 38 * len(text), f"{peak / len(text):.1f} bytes a character"


def soft_track(video: Path) -> list[str]:
    """The texts of the video's mov_text subtitle track (each sample: 2 bytes of length, text)."""
    import av

    with av.open(str(video)) as container:
        return [bytes(p)[2:].decode() for p in container.demux(subtitles=0) if p.size > 2]


def test_the_files_the_soft_track_the_burned_captions_and_check_agree_on_the_pieces(
        tmp_path: Path):
    from engine.caption_fit import MIN_SECONDS, spoken_seconds
    from engine.commands.check import collect

    story = tmp_path / "snail.story"
    story.write_text(f'title: Snail\n\nscene hill\n  setting: a hill\n  "{SNAIL}"\n', "utf-8")
    (warning,) = [d for d in collect([str(story)]) if d.code == "long-line"]
    Image.new("RGB", (W, H), (90, 140, 200)).save(tmp_path / "p.png")
    scene = CutScene("hill", tmp_path / "p.png", None, None,
                     (CutLine(tone(tmp_path / "a.wav", spoken_seconds(SNAIL)), SNAIL, None),))
    settings = TimelineSettings(lead_in=0.2, gap=0.2, tail=0.3, min_scene=1.0, crossfade=0.0)
    outcome = cut((scene,), editor(), settings, W, H, 10, tmp_path / "out", tmp_path / "work")
    burned = fit_cues(outcome.timeline.cues, editor().caption_fits(W, H))  # what the cut burns
    files = list(srt.parse(outcome.srt.read_text()))
    assert [" ".join(c.content.split()) for c in files] == [c.text for c in burned] == [
        "Once upon a time,",
        "a little snail who lived at the bottom of the hill looked at the sky,",
        "where the tall dark blue clouds were rolling in,",
        "and he wondered whether the sleepy old owl on the hill would tell him a story",
        "before the rain came down on all of them tonight."]
    assert [" ".join(text.split()) for text in soft_track(outcome.video)] == [c.text for c in burned]
    assert outcome.vtt.read_text().count(" --> ") == len(files)
    assert all((c.end - c.start).total_seconds() >= MIN_SECONDS for c in files)
    assert f"is {len(files)} captions shown one after the other" in warning.message


@pytest.mark.parametrize("size", [(1280, 720), (320, 180), (1920, 1080)])
def test_a_landscape_frame_splits_a_line_as_the_files_do(size):
    from engine.caption_fit import spoken_seconds
    from engine.captions import within

    cue = Cue(0.0, spoken_seconds(SNAIL), SNAIL)
    assert fit_cues([cue], editor().caption_fits(*size)) == fit_cues([cue], within())


@pytest.mark.parametrize("text", [
    "Pip woke up. Snow! Real snow, everywhere (on the hill, on the roof).",
    "A supercalifragilisticexpialidocious word, and an-other — «quoted» one…",
    "日本語の文章、とても長い。中文也一样！ 한국어 문장도 있어요.",
    "Family 👨‍👩‍👧 emoji, é accents, and ( spaced ) brackets , commas .",
])
@pytest.mark.parametrize("width", [4, 9, 16, 42])
@pytest.mark.parametrize("speaker", ["", "Owl", "小熊"])
def test_a_run_of_pieces_keeps_its_tokens_with_the_speakers_name_before_it(text, width, speaker):
    from engine.caption_fit import _group_tokens, _hyphenated
    from engine.captions import _row, _tokens, within

    fits = within(width)
    pieces = _hyphenated(_tokens(" ".join(text.split())), fits)
    prefix = f"{speaker}: " if speaker else ""
    head = _tokens(prefix)
    for start in range(len(pieces)):
        for stop in range(start + 1, len(pieces) + 1):
            group = pieces[start:stop]
            assert _group_tokens(head, group) == \
                _tokens(prefix + _row([p.token for p in group])), (start, stop)


QUICK = Cue(0.4, 1.9, "Look, the moon is coming up over the hill, round and bright as a lantern!", "Owl")


SNAIL = ("Once upon a time, a little snail who lived at the bottom of the hill looked at the sky, "
         "where the tall dark blue clouds were rolling in, and he wondered whether the sleepy old "
         "owl on the hill would tell him a story before the rain came down on all of them tonight.")
"""An author's line that used to leave pieces of half a second (`looked at the`, `before the`)."""


def test_a_long_line_splits_into_pieces_each_shown_at_least_the_minimum():
    from engine.caption_fit import MIN_SECONDS

    pieces = fit_cues([Cue(0.4, 14.943, SNAIL)])  # as espeak says it
    assert [p.text for p in pieces] == [
        "Once upon a time, a little snail who lived at the bottom of the hill looked",
        "at the sky, where the tall dark blue clouds were rolling in,",
        "and he wondered whether the sleepy old owl on the hill would tell him a story",
        "before the rain came down on all of them tonight."]
    assert all(p.end - p.start >= MIN_SECONDS for p in pieces)
    assert all(len(wrap(p.text)) <= 2 for p in pieces)
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:]))


def test_a_timed_line_breaks_at_its_clauses_when_each_piece_lasts():
    from engine.caption_fit import MIN_SECONDS

    words, at = [], 0.4
    for word in display_words(SNAIL):  # a slower voice: longer words take longer
        words.append(Word(at, at + 0.05 + 0.08 * len(word), word))
        at += 0.08 + 0.08 * len(word)
    pieces = fit_cues([Cue(0.4, at + 0.2, SNAIL, None, tuple(words))])
    assert [p.text for p in pieces] == [
        "Once upon a time,",
        "a little snail who lived at the bottom of the hill looked at the sky,",
        "where the tall dark blue clouds were rolling in,",
        "and he wondered whether the sleepy old owl on the hill would tell him a story",
        "before the rain came down on all of them tonight."]
    assert all(p.end - p.start >= MIN_SECONDS for p in pieces)
    assert [p.start for p in pieces[1:]] == [p.words[0].start for p in pieces[1:]]


def test_a_line_without_punctuation_breaks_between_phrases():
    from engine.caption_fit import spoken_seconds

    text = ("the little snail looked at the tall dark blue clouds that were rolling over the hill "
            "before the rain came down on the sleepy old owl in the tree")
    pieces = fit_cues([Cue(0.0, spoken_seconds(text), text)])
    assert [p.text for p in pieces] == [
        "the little snail looked at the tall dark blue clouds that were rolling",
        "over the hill before the rain came down on the sleepy old owl in the tree"]


def test_a_line_too_quick_for_the_minimum_shares_the_shortfall_out():
    pieces = fit_cues([QUICK])  # two pieces in 1.5 s
    assert len(pieces) == 2 and all(p.end - p.start > 0.7 for p in pieces)


@pytest.mark.parametrize("width", [4, 9, 16, 42])
@pytest.mark.parametrize("speaker", ["", "Owl", "小熊"])
def test_where_a_run_may_end_is_where_its_rows_still_fit(width, speaker):
    from engine.caption_fit import _group_tokens, _hyphenated, _rows_within, _run_ends
    from engine.captions import _tokens, within

    text = ("Pip woke up. Snow! Real snow, everywhere (on the hill) 日本語の文章、とても長い。 "
            "supercalifragilistic")
    fits = within(width)
    pieces = _hyphenated(_tokens(text), fits)
    head = _tokens(f"{speaker}: " if speaker else "")
    ends = _run_ends(pieces, head, fits, 2)
    for begin in range(len(pieces)):  # every run up to the last that shows, one piece always
        shown = list(ends(begin))
        assert shown == list(range(begin + 1, shown[-1] + 1))
        assert all(_rows_within(_group_tokens(head, pieces[begin:stop]), fits, 2)
                   for stop in shown[1:])
        if shown[-1] < len(pieces):  # the next piece would take a third row
            assert not _rows_within(_group_tokens(head, pieces[begin:shown[-1] + 1]), fits, 2)


def test_a_line_of_minutes_is_warned_about_without_splitting_it():
    """Splitting costs time in proportion to the line: past COUNTED_UP_TO characters, `check`
    warns with the least count the length allows (a cue holds two rows)."""
    from engine.commands.glyphs import COUNTED_UP_TO, long_lines
    from engine.dsl.parse import parse_text

    words = "the owl flew over the quiet hill " * (COUNTED_UP_TO // 30 + 10)
    story, _ = parse_text(f'scene a\n  "{words.strip()}"\n', "t.story")
    [warning] = long_lines(story)
    least = -(-len(words.strip()) // 77)
    assert warning.message == f"this line's caption is at least {least} captions shown one " \
                              "after the other"
