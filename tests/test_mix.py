"""The soundtrack on the timeline: clips read and placed, faded against clicks, written."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from engine.mix import DECLICK, SAMPLE_RATE, mix_audio, mixed, read_clip
from engine.timeline import SceneLines, TimedLine, build_timeline
from tests.test_timeline import SETTINGS, write_tone


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
    from engine.mix import read_clip

    pipe = tmp_path / "song.wav"
    os.mkfifo(pipe)  # opened, it would wait for a writer forever
    with pytest.raises(OSError) as refused:
        read_clip(pipe)
    assert explain_os_error(refused.value).startswith(
        f"{pipe}: not a regular file (a pipe or a device is never read)")


def test_a_clip_that_starts_and_stops_mid_sound_is_faded_in_and_out_not_clicked():
    """A TTS clip trimmed to its speech starts with a sample far from zero: placed as it is, the
    track would step from silence to it (a click; AAC smears it). Each clip fades in and out over
    DECLICK seconds, also where its cue cuts it short; the rest of it is untouched."""
    loud = np.full(SAMPLE_RATE, 0.5, dtype=np.float32)  # starts and ends at half scale
    timeline = build_timeline([SceneLines((TimedLine(1.0, "a"), TimedLine(0.5, "b")))],
                              SETTINGS, fps=25)
    long_b = np.full(SAMPLE_RATE, -0.5, dtype=np.float32)  # twice its cue: cut at the cue's end
    track = mixed(timeline, [loud, long_b])
    fade = round(DECLICK * SAMPLE_RATE)
    assert np.abs(np.diff(track)).max() < 0.5 * np.pi / fade  # the largest step of the ramp
    first, second = timeline.cues
    start, end = round(first.start * SAMPLE_RATE), round(first.start * SAMPLE_RATE) + SAMPLE_RATE
    assert np.all(track[start + fade:end - fade] == 0.5)  # untouched between the fades
    assert 0 < track[start] < 0.001 and 0 < track[end - 1] < 0.001
    cut_at = round(second.end * SAMPLE_RATE) + 1
    assert -0.001 < track[cut_at - 1] < 0 and track[cut_at] == 0
    assert np.all(track[round(second.start * SAMPLE_RATE) + fade:cut_at - fade] == -0.5)
