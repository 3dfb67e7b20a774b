"""The narration by scene: an edit measures only its own scene's sound, and the track, the mp4's
audio and their lengths are those of a cold cut of the edited story."""

from __future__ import annotations

import itertools
import math

import av
import numpy as np
import pyloudnorm
import pytest
from scipy.signal import upfirdn

from engine.aac_pieces import EDGE, FRAME
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.loudness import (
    CODEC_HEADROOM,
    Measured,
    gated_loudness,
    integrated_loudness,
    k_energy,
    master,
    true_peak,
)
from engine.mix import SAMPLE_RATE, mixed, read_clip
from engine.narration import narrate
from engine.peaks import _interpolator, oversampled_peaks
from engine.stages.cut import CutLine, CutScene, cut, plan
from tests.test_loudness import MIX, TIMING, speechlike, write_wav

FPS = 25


def test_the_meter_reads_what_pyloudnorm_reads_and_pieces_join():
    noise = speechlike(7.3, seed=4)
    whole = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(noise.astype(np.float64))
    assert integrated_loudness(noise, SAMPLE_RATE) == pytest.approx(whole, abs=1e-9)
    cuts = [0, 1920 * 40, 1920 * 41, 1920 * 150, len(noise) // 960 * 960]
    energy = np.concatenate([k_energy(noise[a:b], SAMPLE_RATE, 960)
                             for a, b in itertools.pairwise(cuts)])
    # each piece's filters start at rest: a hair from one pass over the whole
    assert gated_loudness(energy, 960, SAMPLE_RATE) == pytest.approx(whole, abs=0.01)
    assert gated_loudness(np.zeros(100), 960, SAMPLE_RATE) == -math.inf


def test_oversampled_peaks_are_the_polyphase_upsamplers():
    signal = speechlike(0.5, seed=2).astype(np.float64)
    delay = (len(_interpolator()) - 1) // 2
    up = upfirdn(_interpolator(), signal, 4)[delay:delay + 4 * len(signal)]
    assert np.allclose(oversampled_peaks(signal), np.abs(up).reshape(-1, 4).max(axis=1),
                       atol=1e-12)


def story(folder, edited: int | None = None, music=None) -> tuple[CutScene, ...]:
    """Four scenes of one line each; `edited` has a longer, different line."""
    def line(i: int) -> CutLine:
        seconds = 1.9 if i == edited else 1.0 + 0.1 * i
        clip = write_wav(folder / f"line-{i}-{seconds}.wav", speechlike(seconds, seed=10 * i
                                                                          + (i == edited)))
        return CutLine(clip, f"Line {i}.")
    still = folder / "still.png"
    if not still.exists():
        from PIL import Image
        Image.new("RGB", (64, 36), (90, 120, 200)).save(still)
    return tuple(CutScene(f"s{i}", still, None, None, (line(i),), music=music) for i in range(4))


def narrated(scenes, folder, work):
    """The scenes' timeline as the cut plans it, their clips, and `narrate`'s track."""
    clips = [read_clip(line.audio) for scene in scenes for line in scene.lines]
    timeline = plan(scenes, TIMING, FPS)
    return timeline, clips, narrate(timeline, clips, folder / "narration.wav",
                                    [s.music for s in scenes], MIX, work,
                                    [s.scene_id for s in scenes], aac_bitrate="128k")


def test_an_edit_measures_only_its_scene_and_gives_the_cold_tracks_bytes(tmp_path):
    inputs, work = tmp_path / "in", tmp_path / "work"
    inputs.mkdir()
    _, _, first = narrated(story(inputs), tmp_path, work)
    assert first.measured == ("s0", "s1", "s2", "s3") and first.reused == ()
    (tmp_path / "edit").mkdir()
    timeline, clips, edit = narrated(story(inputs, edited=1), tmp_path / "edit", work)
    assert edit.measured == ("s1",) and edit.reused == ("s0", "s2", "s3")
    (tmp_path / "cold").mkdir()
    _, _, cold = narrated(story(inputs, edited=1), tmp_path / "cold", tmp_path / "fresh")
    assert edit.path.read_bytes() == cold.path.read_bytes()
    track = read_clip(edit.path)
    assert len(track) == round(timeline.duration * SAMPLE_RATE)  # whole frames of audio
    # Scenes meet in silence here: each is a piece of its own, moved onto AAC's frame grid (at
    # most a frame early), silent around the join, its sound the mix's.
    mix = mixed(timeline, clips, [None] * 4, MIX)
    for scene in timeline.scenes[1:]:
        at = round(scene.start * SAMPLE_RATE)
        place = at // FRAME * FRAME
        assert not np.any(track[place - EDGE:place + EDGE])
        assert (np.flatnonzero(track[place:])[0] == np.flatnonzero(mix[at:])[0])
    assert integrated_loudness(track, SAMPLE_RATE) == pytest.approx(MIX.loudness, abs=0.25)
    assert true_peak(track) <= MIX.true_peak - CODEC_HEADROOM + 0.01


def test_music_under_the_scenes_still_gives_the_cold_bytes(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    song = write_wav(inputs / "song.wav", 0.3 * np.sin(2 * np.pi * 180 * t))
    narrated(story(inputs, music=song), tmp_path, tmp_path / "work")
    (tmp_path / "edit").mkdir()
    _, _, edit = narrated(story(inputs, edited=2, music=song), tmp_path / "edit",
                          tmp_path / "work")
    # the song runs on under later scenes, shifted by the longer line: they sound different
    assert edit.measured == ("s2", "s3") and edit.reused == ("s0", "s1")
    (tmp_path / "cold").mkdir()
    _, _, cold = narrated(story(inputs, edited=2, music=song), tmp_path / "cold",
                          tmp_path / "fresh")
    assert edit.path.read_bytes() == cold.path.read_bytes()


def test_an_edited_cut_is_the_cold_cuts_video_and_audio(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()

    def run(scenes, name, work):
        return cut(scenes, FFmpegEditor(burn_subtitles=False), TIMING, 64, 36, FPS,
                   tmp_path / name, tmp_path / work, mix=MIX)
    run(story(inputs), "first", "work")
    edit = run(story(inputs, edited=3), "edit", "work")
    assert edit.narration.measured == ("s3",)
    assert edit.stats.encoded == ("s3",)
    cold = run(story(inputs, edited=3), "cold", "fresh")
    assert edit.video.read_bytes() == cold.video.read_bytes()
    with av.open(str(edit.video)) as container:
        audio, video = container.streams.audio[0], container.streams.video[0]
        assert video.frames == edit.timeline.frames
        assert float(audio.duration * audio.time_base) == pytest.approx(edit.duration,
                                                                        abs=1 / SAMPLE_RATE)
    heard = read_clip(edit.video)
    assert abs(len(heard) - round(edit.duration * SAMPLE_RATE)) <= 1024  # AAC's last frame


def test_mastering_from_pieces_limits_peaks_and_reaches_the_target_as_one_pass_does():
    quiet = speechlike(20.0, seed=5)  # at -14 LUFS its plosives would peak above 0 dBTP
    cuts = [0, 1920 * 100, 1920 * 230, len(quiet)]
    pieces = Measured.joined([Measured.of(quiet[a:b], SAMPLE_RATE, 960)
                              for a, b in itertools.pairwise(cuts)])
    by_pieces = master(quiet, SAMPLE_RATE, -14.0, -1.5, pieces)
    whole = master(quiet, SAMPLE_RATE, -14.0, -1.5)
    assert by_pieces.limited and whole.limited
    assert integrated_loudness(by_pieces.samples, SAMPLE_RATE) == pytest.approx(-14.0, abs=0.1)
    assert true_peak(by_pieces.samples) <= -1.5 - CODEC_HEADROOM + 1e-6
    assert by_pieces.gain == pytest.approx(whole.gain, abs=0.1)
    again = master(quiet, SAMPLE_RATE, -14.0, -1.5, pieces)
    assert again.samples.tobytes() == by_pieces.samples.tobytes()


def test_an_edit_weighs_the_gain_search_by_its_own_scene(tmp_path, monkeypatch):
    import engine.narration

    weighed: list[tuple[int, float]] = []  # (samples, gain) of each scene limited at a gain
    limited = engine.narration.limited_energy
    monkeypatch.setattr(engine.narration, "limited_energy", lambda samples, rate, measured,
                        gain, allowed: weighed.append((len(samples), gain))
                        or limited(samples, rate, measured, gain, allowed))
    inputs, work = tmp_path / "in", tmp_path / "work"
    inputs.mkdir()
    _, _, first = narrated(story(inputs), tmp_path, work)
    assert len({length for length, _ in weighed}) == 4  # the limiter works in every scene
    cold_gains = {gain for _, gain in weighed}
    weighed.clear()
    (tmp_path / "edit").mkdir()
    timeline, _, edit = narrated(story(inputs, edited=1), tmp_path / "edit", work)
    scene = timeline.scenes[1]
    edited = round(timeline.scenes[2].start * SAMPLE_RATE) - round(scene.start * SAMPLE_RATE)
    assert any(length == edited for length, _ in weighed)  # the edited scene: new
    # other scenes are weighed again only at a gain the first cut never tried
    assert all(gain not in cold_gains for length, gain in weighed if length != edited)
    (tmp_path / "cold").mkdir()
    _, _, cold = narrated(story(inputs, edited=1), tmp_path / "cold", tmp_path / "fresh")
    assert edit.gain == cold.gain and edit.aac.read_bytes() == cold.aac.read_bytes()


def test_a_piece_is_lowered_where_its_decode_went_over_by_as_much_and_not_where_silent():
    from engine.aac_pieces import GRAIN, Piece
    from engine.narration import PEAK_MARGIN, REACH, _overshoots

    pcm = np.zeros(200 * GRAIN, dtype="<i2")
    pcm[100 * GRAIN:101 * GRAIN] = 16384  # the mix peaks at half scale in grain 100
    peaks = np.full(200, 0.1, dtype=np.float32)
    peaks[100] = 0.8  # its decode went over a 0.5 ceiling there: 0.8 / 0.5, 4.08 dB over
    peaks[190] = 0.9  # and where the mix is silent (nothing a limiter can do there)
    piece = Piece(pcm, (), False, np.zeros(200), 0.9, peaks)
    [(start, end, level)] = _overshoots(piece, 0.5)
    assert (start, end) == (100 * GRAIN - REACH, 101 * GRAIN + REACH)
    mixed_peak = float(oversampled_peaks(pcm / 32768).max())
    assert level == pytest.approx(mixed_peak * 0.5 / 0.8 / 10 ** (PEAK_MARGIN / 20), rel=1e-6)
