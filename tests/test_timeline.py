"""The timeline: scene and line placement from clip durations, and the narration track."""

from __future__ import annotations

import math
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from engine.backends.tts.audio import wav_bytes
from engine.timeline import (SAMPLE_RATE, SceneLines, TimedLine, TimelineSettings,
                             build_timeline, mix_audio, read_clip, scene_needs)

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


def test_mix_places_each_clip_at_its_cue_and_resamples(tmp_path: Path):
    a = write_tone(tmp_path / "a.wav", 1.0)
    b = write_tone(tmp_path / "b.wav", 0.5, rate=22050)
    assert len(read_clip(b)) == pytest.approx(0.5 * SAMPLE_RATE, abs=2)
    timeline = build_timeline([SceneLines((TimedLine(1.0, "a"),)),
                               SceneLines((TimedLine(0.5, "b"),))], SETTINGS, fps=25)
    out = mix_audio(timeline, [a, b], tmp_path / "mix" / "narration.wav")
    with wave.open(str(out), "rb") as mixed:
        assert mixed.getframerate() == SAMPLE_RATE and mixed.getnchannels() == 1
        samples = np.frombuffer(mixed.readframes(mixed.getnframes()), "<i2").astype(float)
    assert len(samples) == round(timeline.duration * SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(samples) > 1000)
    second = timeline.cues[1]
    first_run = loud[loud < second.start * SAMPLE_RATE]
    assert first_run[0] / SAMPLE_RATE == pytest.approx(0.4, abs=0.002)
    assert first_run[-1] / SAMPLE_RATE == pytest.approx(1.4, abs=0.002)
    second_run = loud[loud >= second.start * SAMPLE_RATE]
    assert second_run[0] / SAMPLE_RATE == pytest.approx(second.start, abs=0.002)
    assert second_run[-1] / SAMPLE_RATE == pytest.approx(second.end, abs=0.002)
    assert sorted(p.name for p in out.parent.iterdir()) == ["narration.wav"]


@pytest.mark.parametrize("channels", [1, 2])
def test_a_wav_at_another_rate_reads_as_through_the_demuxer(tmp_path: Path, channels: int):
    """A TTS's 16-bit WAV is resampled without opening a demuxer: the very samples PyAV's
    decode of the file gives, resampled the same way."""
    rng = np.random.default_rng(channels)
    pcm = (rng.standard_normal((70000 + 7, channels)) * 3000).astype("<i2")  # > PCM_FRAME
    path = tmp_path / "line.wav"
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(channels), clip.setsampwidth(2), clip.setframerate(22050)
        clip.writeframes(pcm.tobytes())
    assert np.array_equal(read_clip(path), _demuxed(path))


def _demuxed(path: Path) -> np.ndarray:
    """The file as PyAV's demuxer and decoder read it, resampled to mono at SAMPLE_RATE."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0)
                   for f in resampler.resample(frame)]
    decoded += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(decoded)


@pytest.mark.parametrize("damage", ["streamed", "cut mid-sample", "extensible"])
def test_wavs_wave_reads_otherwise_than_ffmpeg_go_to_the_demuxer(tmp_path: Path, damage: str):
    """A streamed WAV (its data length 0: ffmpeg reads to the end), one cut off in the middle of
    a sample and a WAVE_FORMAT_EXTENSIBLE one read as ffmpeg reads them, not as `wave` does."""
    pcm = (np.random.default_rng(5).standard_normal(30000) * 3000).astype("<i2").tobytes()
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (22050).to_bytes(4, "little") \
        + (44100).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    length = len(pcm)
    if damage == "streamed":
        length = 0
    elif damage == "cut mid-sample":
        pcm = pcm[:-1]
    else:  # the same PCM, described by the extensible format (front centre)
        fmt = (0xFFFE).to_bytes(2, "little") + fmt[2:] + (22).to_bytes(2, "little") \
            + (16).to_bytes(2, "little") + (4).to_bytes(4, "little") \
            + bytes.fromhex("0100000000001000800000aa00389b71")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt \
        + b"data" + length.to_bytes(4, "little") + pcm
    path = tmp_path / "song.wav"
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    assert np.array_equal(read_clip(path), _demuxed(path))
    assert len(read_clip(path)) > 0.5 * SAMPLE_RATE


def test_mix_needs_one_clip_per_line(tmp_path: Path):
    timeline = build_timeline([SceneLines((TimedLine(1.0, "a"),))], SETTINGS, fps=25)
    with pytest.raises(ValueError, match="0 clips for 1 lines"):
        mix_audio(timeline, [], tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_a_pipe_in_place_of_a_clip_is_refused_not_read(tmp_path: Path):
    import os

    from engine.files import explain_os_error
    from engine.timeline import read_clip

    pipe = tmp_path / "song.wav"
    os.mkfifo(pipe)  # opened, it would wait for a writer forever
    with pytest.raises(OSError) as refused:
        read_clip(pipe)
    assert explain_os_error(refused.value).startswith(
        f"{pipe}: not a regular file (a pipe or a device is never read)")
