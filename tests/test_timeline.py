"""The timeline: scene and line placement from clip durations."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from engine.backends.tts.audio import wav_bytes
from engine.mix import SAMPLE_RATE
from engine.timeline import (SceneLines, TimedLine, TimelineSettings, build_timeline,
                             scene_needs)

SETTINGS = TimelineSettings(lead_in=0.4, gap=0.35, tail=0.8, min_scene=2.5, crossfade=0.6)


def write_tone(path: Path, seconds: float, rate: int = SAMPLE_RATE, freq: float = 440.0) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    path.write_bytes(wav_bytes(0.5 * np.sin(2 * np.pi * freq * t), rate))
    return path


def test_lines_are_placed_with_lead_in_gaps_and_tail():
    scenes = [SceneLines((TimedLine(1.0, "One.", "Owl"), TimedLine(2.0, "Two.", None))),
              SceneLines((TimedLine(0.5, "Three.", "Fox"),))]
    timeline = build_timeline(scenes, SETTINGS, fps=25)
    first, second = timeline.scenes
    assert first.start == 0.0
    # 0.4 + 1.0 + 0.35 + 2.0 + 0.8 = 4.55 s = 113.75 frames → 114 frames
    assert first.frames == 114 and first.duration == pytest.approx(4.56)
    assert first.line_starts == pytest.approx((0.4, 1.75))
    # 0.4 + 0.5 + 0.8 = 1.7 s < min_scene: 2.5 s = 62.5 frames → 63 frames
    assert second.start == pytest.approx(4.56) and second.frames == 63
    assert [(c.text, c.speaker) for c in timeline.cues] == [
        ("One.", "Owl"), ("Two.", None), ("Three.", "Fox")]
    assert [t for c in timeline.cues for t in (c.start, c.end)] == pytest.approx(
        [0.4, 1.4, 1.75, 3.75, 4.96, 5.46])
    assert timeline.duration == pytest.approx(7.08) and timeline.frames == 114 + 63


def test_scene_without_lines_gets_min_scene_and_duration_asks_for_more():
    timeline = build_timeline([SceneLines(()), SceneLines((TimedLine(1.0, "x"),), duration=6.0)],
                              SETTINGS, fps=24)
    assert timeline.scenes[0].duration == pytest.approx(2.5) and len(timeline.cues) == 1
    assert timeline.scenes[1].duration == pytest.approx(6.0)


def test_a_long_transition_plays_after_the_last_line_and_the_scene_grows_for_it():
    # The author's story: the last line ends 0.8 s (the tail) before the scene would end.
    scenes = [SceneLines((TimedLine(3.925, "One."), TimedLine(1.081, "Two.")), transition=True),
              SceneLines((TimedLine(1.0, "Three."),), transition=True)]
    cut = build_timeline([replace(scenes[0], transition=False), scenes[1]], SETTINGS, fps=25)
    assert cut.scenes[0].frames == 164 and cut.scenes[0].transition_frames == 0
    for crossfade, frames in ((0.6, 164), (1.5, 182), (5.0, 269)):
        timeline = build_timeline(scenes, replace(SETTINGS, crossfade=crossfade), fps=25)
        first, second = timeline.scenes
        fade = round(crossfade * 25)  # timeline.crossfade is the transition's length
        assert first.transition_frames == fade and first.frames == frames
        line_ends = math.ceil(timeline.cues[1].end * 25 - 1e-6)  # its last frame with a caption
        assert first.frames - fade >= line_ends  # the transition starts once the line has ended
        assert second.start == pytest.approx(first.frames / 25)  # the next scene moves on
        assert second.transition_frames == 0 and second.frames == 63  # the last gives way to nothing
        assert timeline.cues[2].start == pytest.approx(second.start + SETTINGS.lead_in)


def test_a_transition_takes_at_most_half_its_scene_and_duration_is_the_least_a_scene_lasts():
    settings = replace(SETTINGS, min_scene=0.4, crossfade=2.0)
    timeline = build_timeline([SceneLines((), transition=True), SceneLines(())], settings, fps=25)
    assert timeline.scenes[0].transition_frames == 50 and timeline.scenes[0].frames == 100
    # A `duration:` long enough already holds the transition after the line.
    long = SceneLines((TimedLine(1.0, "x"),), duration=6.0, transition=True)
    assert build_timeline([long, SceneLines(())], settings, 25).scenes[0].frames == 150
    assert scene_needs(long, settings, 25) == pytest.approx(
        {"lines": 2.2, "transition": 4.0, "min_scene": 0.4, "duration": 6.0})
    assert scene_needs(SceneLines(()), SETTINGS, 25) == {"min_scene": 2.5}


def test_bad_settings_and_durations_are_refused():
    with pytest.raises(ValueError, match="timeline.gap"):
        replace(SETTINGS, gap=-1)
    with pytest.raises(ValueError, match="scene 1"):
        build_timeline([SceneLines((TimedLine(float("nan"), "x"),))], SETTINGS, 25)


@hsettings(max_examples=60, deadline=None)
@given(scenes=st.lists(st.tuples(st.lists(st.floats(0.0, 12.0), max_size=5),
                                 st.one_of(st.none(), st.floats(0.1, 20.0)), st.booleans()),
                       min_size=1, max_size=8),
       fps=st.sampled_from([12, 24, 25, 30, 60]), crossfade=st.floats(0.0, 6.0))
def test_scenes_are_whole_frames_back_to_back_and_lines_never_overlap(scenes, fps, crossfade):
    settings = replace(SETTINGS, crossfade=crossfade)
    timeline = build_timeline(
        [SceneLines(tuple(TimedLine(d, "w") for d in lines), duration, turns)
         for lines, duration, turns in scenes], settings, fps)
    at = 0
    cue = iter(timeline.cues)
    for index, ((lines, duration, turns), placed) in enumerate(zip(scenes, timeline.scenes)):
        assert placed.start == pytest.approx(at / fps) and placed.frames >= 1
        spoken = SETTINGS.lead_in + sum(lines) + SETTINGS.gap * (len(lines) - 1) if lines else 0
        needed = max(SETTINGS.min_scene, duration or 0.0, spoken + SETTINGS.tail if lines else 0)
        fade = round(crossfade * fps) if turns and index + 1 < len(scenes) else 0
        assert placed.transition_frames == fade  # never shortened
        needed = max(needed, (spoken + fade / fps) if fade else 0, 2 * fade / fps)
        assert needed - 1e-6 <= placed.duration < needed + 1 / fps + 1e-6
        end = placed.start
        for length in lines:
            c = next(cue)
            assert c.end - c.start == pytest.approx(length)
            assert c.start >= end - 1e-9  # no line starts before the previous one ends
            end = c.end
        assert end <= placed.start + placed.duration - (SETTINGS.tail if lines else 0) + 1e-6
        # the transition begins on (or after) the frame the last line's caption ends on
        assert at + placed.frames - fade >= math.ceil(end * fps - 1e-6)
        at += placed.frames
    assert timeline.frames == at and timeline.duration == pytest.approx(at / fps)
