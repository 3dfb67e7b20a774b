"""Sound effects in the mix: heard at their offset or line, at their level, resampled, before
mastering; an edit of one effect measures only its scene again, and changes the cut's key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from engine.backends.video.ffmpeg import FFmpegEditor
from engine.effects import SoundEffect, effect_start, latest, least_length
from engine.mix import SAMPLE_RATE, read_clip
from engine.narration import narrate
from engine.stages.cut import CutLine, CutScene, canonical, cut, plan
from tests.sounds import write_tone
from tests.test_loudness import MIX, TIMING, speechlike, write_wav

FPS = 25
BELL_RATE = 22050


def bell(path: Path, seconds: float = 0.3, frequency: float = 660.0) -> Path:
    """A tone at 22.05 kHz (the mix resamples it to 48 kHz)."""
    return write_tone(path, seconds, frequency, level=0.5, rate=BELL_RATE)


def scenes(folder: Path, sfx: dict[int, tuple[SoundEffect, ...]]) -> tuple[CutScene, ...]:
    """Three scenes of one line each; `sfx` gives some of them effects."""
    still = folder / "still.png"
    if not still.exists():
        from PIL import Image
        Image.new("RGB", (64, 36), (90, 120, 200)).save(still)
    return tuple(
        CutScene(f"s{i}", still, None, None,
                 (CutLine(write_wav(folder / f"line-{i}.wav", speechlike(1.0, seed=i)),
                          f"Line {i}."),), sfx=sfx.get(i, ()))
        for i in range(3))


def track_of(cut_scenes: tuple[CutScene, ...], folder: Path, mix=None) -> tuple[object, np.ndarray]:
    """The scenes' timeline and the narration track `narrate` writes for them."""
    timeline = plan(cut_scenes, TIMING, FPS)
    clips = [line.audio for scene in cut_scenes for line in scene.lines]
    done = narrate(timeline, clips, folder / "narration.wav", [None] * len(cut_scenes), mix,
                   folder / "work", [s.scene_id for s in cut_scenes],
                   [s.sfx for s in cut_scenes])
    return timeline, read_clip(done.path)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def test_an_effect_sounds_at_its_offset_at_its_level_resampled(tmp_path: Path) -> None:
    door = bell(tmp_path / "door.wav")
    timeline, plain = track_of(scenes(tmp_path, {}), tmp_path / "plain")
    effects = {1: (SoundEffect(door, seconds=0.1, level=-6.0),)}
    timeline, heard = track_of(scenes(tmp_path, effects), tmp_path / "sfx")
    added = heard - plain
    at = round((timeline.scenes[1].start + 0.1) * SAMPLE_RATE)
    assert np.all(added[:at] == 0)
    assert np.flatnonzero(added)[0] == pytest.approx(at, abs=2)
    assert len(np.flatnonzero(np.abs(added) > 1e-3)) == pytest.approx(0.3 * SAMPLE_RATE, rel=0.02)
    # half the amplitude at -6 dB; the lead-in before it is silent, so it is heard
    assert np.abs(added).max() == pytest.approx(0.5 * 10 ** (-6 / 20), rel=0.02)
    before = heard[at - round(0.08 * SAMPLE_RATE):at]
    during = heard[at:at + round(0.2 * SAMPLE_RATE)]
    assert rms(before) < 1e-4 and rms(during) > 0.1


def test_an_effect_at_a_line_starts_with_it_and_a_late_one_lengthens_its_scene(
        tmp_path: Path) -> None:
    door = bell(tmp_path / "door.wav")
    timeline, plain = track_of(scenes(tmp_path, {}), tmp_path / "plain")
    late = SoundEffect(door, seconds=5.0)
    effects = {2: (SoundEffect(door, line=1, level=-12.0), late)}
    longer, heard = track_of(scenes(tmp_path, effects), tmp_path / "sfx")
    assert longer.scenes[2].duration == pytest.approx(5.0 + TIMING.tail, abs=1 / FPS)
    assert longer.scenes[2].duration > timeline.scenes[2].duration
    added = heard[:len(plain)] - plain
    line_start = longer.scenes[2].line_starts[0]
    assert effect_start(longer, 2, effects[2][0]) == line_start
    assert np.flatnonzero(added)[0] == pytest.approx(round(line_start * SAMPLE_RATE), abs=2)
    assert np.abs(heard[round((longer.scenes[2].start + 5.0) * SAMPLE_RATE):]).max() > 0.4
    assert least_length((), 3.0, TIMING.tail) == 3.0 and least_length((), None, 1.0) is None
    assert latest(effects[2]) is late and latest(effects[2][:1]) is None  # at a line: no time
    assert latest((late, SoundEffect(door, seconds=0.5))) is late


def test_effects_are_mixed_before_mastering(tmp_path: Path) -> None:
    door = bell(tmp_path / "door.wav")
    effects = {0: (SoundEffect(door, seconds=0.0, level=6.0),)}
    _, plain = track_of(scenes(tmp_path, {}), tmp_path / "plain", MIX)
    _, heard = track_of(scenes(tmp_path, effects), tmp_path / "sfx", MIX)
    # mastering brings the louder mix down: the lines are quieter where the effect is not
    line = slice(round(2.5 * SAMPLE_RATE), round(3.0 * SAMPLE_RATE))
    assert rms(heard[line]) < rms(plain[line])
    assert np.abs(heard).max() <= 10 ** (MIX.true_peak / 20) + 1e-3


def test_an_edited_effect_changes_the_cuts_key_and_measures_only_its_scene(
        tmp_path: Path) -> None:
    door = bell(tmp_path / "door.wav")

    def run(level: float, name: str):
        return cut(scenes(tmp_path, {1: (SoundEffect(door, seconds=0.2, level=level),)}),
                   FFmpegEditor(burn_subtitles=False), TIMING, 64, 36, FPS, tmp_path / name,
                   tmp_path / "work", mix=MIX)

    silent = cut(scenes(tmp_path, {}), FFmpegEditor(burn_subtitles=False), TIMING, 64, 36, FPS,
                 tmp_path / "silent", tmp_path / "work", mix=MIX)
    first = run(0.0, "first")
    assert first.narration.measured == ("s1",) and first.stats.encoded == ()
    quieter = run(-20.0, "quieter")
    assert quieter.narration.measured == ("s1",)
    assert quieter.narration.reused == ("s0", "s2") and quieter.stats.encoded == ()
    at = round((first.timeline.scenes[1].start + 0.2) * SAMPLE_RATE)
    window = slice(at + 2400, at + round(0.18 * SAMPLE_RATE))  # before the line (lead-in)
    line = slice(round(0.5 * SAMPLE_RATE), round(1.3 * SAMPLE_RATE))  # scene 0's line

    def heard(outcome) -> float:
        """The effect's level in the video's sound, against a line's (each cut is mastered)."""
        sound = read_clip(outcome.video)
        return rms(sound[window]) / rms(sound[line])
    assert heard(silent) < 0.01 < heard(first)
    # 20 dB lower, less what the peak limiter took off the louder effect
    assert 12 < 20 * np.log10(heard(first) / heard(quieter)) < 21

    def key(effect: SoundEffect) -> object:
        scene = scenes(tmp_path, {1: (effect,)})[1]
        return canonical(scene, lambda p: hashlib.sha256(p.read_bytes()).hexdigest())
    base = key(SoundEffect(door, seconds=0.2))
    assert key(SoundEffect(door, seconds=0.3)) != base
    assert key(SoundEffect(door, seconds=0.2, level=-1.0)) != base
    assert key(SoundEffect(door, line=1)) != base
    bell(door, frequency=440.0)  # the same file name, other sound
    assert key(SoundEffect(door, seconds=0.2)) != base


@pytest.mark.slow
def test_a_render_plays_the_effect_and_an_edited_level_recuts_only(tmp_path: Path) -> None:
    from tests.test_incremental import made, render

    (tmp_path / ".git").mkdir()
    (tmp_path / "sounds").mkdir()
    bell(tmp_path / "sounds" / "door.wav", 0.5)
    text = ("character Mo\n  description: a small hedgehog\n  voice: child\n"
            "scene a\n  setting: a meadow\n  sfx: sounds/door.wav at 0.1s level {level}\n"
            '  "Mo woke up."\nscene b\n  setting: a forest\n  sfx: sounds/door.wav at line 1\n'
            '  Mo: "Hello!"\n')
    story = tmp_path / "t.story"
    story.write_text(text.format(level="-6dB"))
    render(story, tmp_path / "cold", tmp_path / "cache")
    sound = read_clip(tmp_path / "cold" / "video.mp4")
    before = sound[:round(0.09 * SAMPLE_RATE)]
    during = sound[round(0.15 * SAMPLE_RATE):round(0.35 * SAMPLE_RATE)]  # before the line
    assert rms(before) < 1e-3 < 0.05 < rms(during)
    assert "  sfx: ../sounds/door.wav at 0.1s level -6dB\n" in \
        (tmp_path / "cold" / "resolved.story").read_text()
    story.write_text(text.format(level="-30dB"))
    manifest = render(story, tmp_path / "quieter", tmp_path / "cache")
    assert made(manifest) == {("cut", "video")}
    quieter = read_clip(tmp_path / "quieter" / "video.mp4")
    assert rms(quieter[round(0.15 * SAMPLE_RATE):round(0.35 * SAMPLE_RATE)]) < rms(during) / 4
