"""Music beds: each scene's music under the narration, looped, ducked while lines sound."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from engine.backends.tts.audio import wav_bytes
from engine.mix import SAMPLE_RATE, MixSettings, mix_audio, music_bed
from engine.timeline import SceneLines, TimedLine, TimelineSettings, build_timeline

SETTINGS = TimelineSettings(lead_in=0.5, gap=0.3, tail=0.8, min_scene=3.0, crossfade=0.5)
MIX = MixSettings(loudness=None, true_peak=-1.5, music_level=-15.0, music_duck=9.0,
                  duck_attack=0.15, duck_release=0.15, music_fade=0.5)
MUSIC_LEVEL, MUSIC_DUCKED = 10 ** (-15.0 / 20), 10 ** (-24.0 / 20)


def tone(path: Path, seconds: float, hz: float, amplitude: float = 0.9) -> Path:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    path.write_bytes(wav_bytes(amplitude * np.sin(2 * np.pi * hz * t), SAMPLE_RATE))
    return path


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def timeline():
    return build_timeline([SceneLines((TimedLine(2.0, "Hello."),)), SceneLines(()),
                           SceneLines(())], SETTINGS, fps=25)


def test_music_loops_through_its_scenes_and_ducks_under_speech(tmp_path: Path):
    song = tone(tmp_path / "song.wav", 0.7, 220.0)
    line = timeline()
    bed = music_bed(line, [song, song, None], MIX)
    second = line.scenes[1]
    inside = bed[round((second.start + 1.0) * SAMPLE_RATE):round((second.start + 2.0) * SAMPLE_RATE)]
    assert abs(rms(inside) - MUSIC_LEVEL * 0.9 / np.sqrt(2)) < 0.01  # looped past its 0.7 s
    cue = line.cues[0]
    spoken = bed[round((cue.start + 0.5) * SAMPLE_RATE):round((cue.end - 0.5) * SAMPLE_RATE)]
    assert abs(rms(spoken) - MUSIC_DUCKED * 0.9 / np.sqrt(2)) < 0.01
    third = line.scenes[2]
    assert not bed[round((third.start + 0.6) * SAMPLE_RATE):].any()  # no music: silence
    assert abs(bed[0]) < 1e-3  # faded in, no click


def test_mix_puts_voices_over_the_music(tmp_path: Path):
    song = tone(tmp_path / "song.wav", 1.0, 220.0)
    voice = tone(tmp_path / "voice.wav", 2.0, 660.0, amplitude=0.5)
    out = mix_audio(timeline(), [voice], tmp_path / "mix.wav", [song, None, None], MIX)
    with wave.open(str(out), "rb") as mixed:
        samples = np.frombuffer(mixed.readframes(mixed.getnframes()), "<i2") / 32768.0
    spectrum = np.abs(np.fft.rfft(samples[round(1.0 * SAMPLE_RATE):round(2.0 * SAMPLE_RATE)]))
    assert spectrum[660] > 3 * spectrum[220] > 0  # 1 s window: bin n is n Hz
