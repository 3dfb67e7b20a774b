"""Mastering: a rendered soundtrack at the target loudness under the true-peak ceiling, music ducked
by the configured depth, the same bytes every time; measured by pyloudnorm and ffmpeg's ebur128."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.backends.tts.audio import wav_bytes
from engine.backends.video.ffmpeg import FFmpegEditor, ffmpeg_exe
from engine.config import compose_config, mix_settings
from engine.loudness import CODEC_HEADROOM, integrated_loudness, master, true_peak
from engine.mix import SAMPLE_RATE, MixSettings, mix_audio, read_clip
from engine.stages.cut import CutLine, CutScene, cut
from engine.timeline import SceneLines, TimedLine, TimelineSettings, build_timeline

MIX = MixSettings(loudness=-14.0, true_peak=-1.5, music_level=-15.0, music_duck=9.0,
                  duck_attack=0.25, duck_release=0.5, music_fade=0.5)
TIMING = TimelineSettings(lead_in=0.4, gap=0.3, tail=0.8, min_scene=2.0, crossfade=0.5)


def speechlike(seconds: float, seed: int, level: float = 0.05) -> np.ndarray:
    """Syllable-like bursts of filtered noise with sharp peaks: a crest factor like speech's."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SAMPLE_RATE)
    noise = np.convolve(rng.standard_normal(n), np.ones(6) / 6, mode="same")
    syllables = np.sin(np.pi * np.arange(n) / (0.18 * SAMPLE_RATE)) ** 2
    clicks = np.zeros(n)
    clicks[rng.integers(0, n, 12)] = 3.0  # plosives: rare peaks far above the body
    return (level * (noise * syllables + np.convolve(clicks, np.hanning(40), "same"))
            ).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    path.write_bytes(wav_bytes(samples, SAMPLE_RATE))
    return path


def ebur128(media: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBFS) as ffmpeg's ebur128 filter reads them."""
    done = subprocess.run([ffmpeg_exe(), "-nostats", "-hide_banner", "-i", str(media),
                           "-filter_complex", "ebur128=peak=true", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    summary = done.stderr[done.stderr.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    return integrated, peak


def test_the_config_names_every_mix_setting():
    assert mix_settings(compose_config()) == MIX
    assert mix_settings(compose_config(["render.mix.loudness=null"])).loudness is None


def test_master_reaches_the_target_with_peaks_limited_and_is_deterministic():
    quiet = speechlike(12.0, seed=1)
    assert integrated_loudness(quiet, SAMPLE_RATE) < -25
    mastered = master(quiet, SAMPLE_RATE, -14.0, -1.5)
    assert mastered.limited  # at -14 LUFS this crest factor would peak above 0 dBTP
    assert integrated_loudness(mastered.samples, SAMPLE_RATE) == pytest.approx(-14.0, abs=0.1)
    assert true_peak(mastered.samples) <= -1.5 - CODEC_HEADROOM + 1e-6
    again = master(quiet, SAMPLE_RATE, -14.0, -1.5)
    assert again.samples.tobytes() == mastered.samples.tobytes()


def test_a_gentle_signal_gets_one_linear_gain():
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    hum = (0.01 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    mastered = master(hum, SAMPLE_RATE, -20.0, -1.0)
    assert not mastered.limited
    ratio = mastered.samples[1000:2000] / hum[1000:2000]
    assert np.allclose(ratio, 10 ** (mastered.gain / 20), rtol=1e-5)
    assert integrated_loudness(mastered.samples, SAMPLE_RATE) == pytest.approx(-20.0, abs=0.05)


def test_silence_stays_silent():
    mastered = master(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, -14.0, -1.5)
    assert not mastered.samples.any() and mastered.gain == 0.0


def test_music_is_ducked_by_the_configured_depth_with_attack_and_release(tmp_path: Path):
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    song = write_wav(tmp_path / "song.wav", 0.5 * np.sin(2 * np.pi * 220 * t))
    silent_line = write_wav(tmp_path / "line.wav", np.zeros(2 * SAMPLE_RATE))
    late_line = replace(TIMING, lead_in=1.5)  # the music's fade-in is over when it ducks
    timeline = build_timeline([SceneLines((TimedLine(2.0, "Hush."),), duration=6.0)], late_line,
                              fps=25)
    plain = replace(MIX, loudness=None, duck_attack=0.3, duck_release=0.6)
    track = read_clip(mix_audio(timeline, [silent_line], tmp_path / "mix.wav", [song], plain))
    cue = timeline.cues[0]

    def level(start: float, end: float) -> float:
        part = track[round(start * SAMPLE_RATE):round(end * SAMPLE_RATE)].astype(np.float64)
        return 10 * np.log10(np.mean(part ** 2))

    ducked, open_ = level(cue.start + 0.2, cue.end - 0.2), level(cue.end + 1.0, cue.end + 2.0)
    assert open_ - ducked == pytest.approx(9.0, abs=0.3)
    assert open_ == pytest.approx(-15.0 + 20 * np.log10(0.5) - 3.01, abs=0.3)  # sine RMS
    # half-way through the release (linear in dB) the music is half-way back
    assert level(cue.end + 0.28, cue.end + 0.32) == pytest.approx(open_ - 4.5, abs=0.5)
    assert level(cue.start - 0.17, cue.start - 0.13) == pytest.approx(open_ - 4.5, abs=0.5)


def test_a_cut_video_plays_at_the_target_loudness(tmp_path: Path):
    from PIL import Image

    still = tmp_path / "still.png"
    Image.new("RGB", (64, 36), (90, 120, 200)).save(still)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    song = write_wav(tmp_path / "song.wav", 0.3 * np.sin(2 * np.pi * 180 * t))
    scenes = tuple(
        CutScene(f"s{i}", still, None, None, (
            CutLine(write_wav(tmp_path / f"l{i}.wav", speechlike(3.0, seed=i)), f"Line {i}."),),
            music=song) for i in range(3))
    outcome = cut(scenes, FFmpegEditor(burn_subtitles=False), TIMING, 64, 36, 10,
                  tmp_path / "out", tmp_path / "work", mix=MIX)
    integrated, peak = ebur128(outcome.video)
    assert integrated == pytest.approx(-14.0, abs=1.0)
    assert peak <= -1.5 + 0.2  # AAC's overshoot stays inside the headroom left for it
    assert outcome.loudness["integrated"] == pytest.approx(integrated, abs=0.3)
    again = cut(scenes, FFmpegEditor(burn_subtitles=False), TIMING, 64, 36, 10,
                tmp_path / "again", tmp_path / "work2", mix=MIX)
    assert again.video.read_bytes() == outcome.video.read_bytes()


def test_the_gain_search_tries_gains_on_its_grid_and_keeps_the_nearest_level():
    from engine.loudness import grid_gain

    tried: list[float] = []

    def limited(shift: float):
        def level_at(gain: float) -> float:  # limited: the level rises 0.7 dB a dB of gain
            tried.append(gain)
            return -30.0 + 0.7 * gain + shift
        return level_at

    gain = grid_gain(limited(0.0), 16.3, -14.0, 0.25)
    assert all(g % 0.25 == 0 for g in tried) and len(tried) == len(set(tried)) <= 12
    grid = [step * 0.25 for step in range(40, 120)]
    assert gain == min(grid, key=lambda g: abs(-14.0 - (-30.0 + 0.7 * g)))  # 22.75
    # an edit moves the level a hair: the same gains are tried (what they cost can be kept)
    first = sorted(tried)
    tried.clear()
    assert grid_gain(limited(0.01), 16.29, -14.0, 0.25) == gain and sorted(tried) == first
    tried.clear()  # a level that cannot reach the target: the nearest tried, after a few
    assert grid_gain(lambda g: tried.append(g) or -20.0 + 0.001 * g, 3.2, -14.0, 0.25) \
        == max(tried) and len(tried) <= 13
