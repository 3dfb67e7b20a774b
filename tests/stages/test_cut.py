"""The cut stage end to end at 320×180: real ffmpeg, read back with PyAV, srt and webvtt-py."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
import srt
import webvtt
from PIL import Image, ImageDraw

from engine.backends.video.ffmpeg import FFmpegEditor
from engine.captions import Word
from engine.errors import BackendError
from engine.stages.cut import CutLine, CutOutcome, CutScene, cut
from engine.timeline import TimelineSettings, build_timeline
from tests.sounds import write_tone

W, H, FPS = 320, 180, 25
SETTINGS = TimelineSettings(lead_in=0.4, gap=0.3, tail=0.8, min_scene=1.5, crossfade=0.6)


def tone(path: Path, seconds: float, freq: float, rate: int = 48_000) -> Path:
    return write_tone(path, seconds, freq, level=0.4, rate=rate)


def picture(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (W, H), tuple(int(c) for c in rng.integers(30, 220, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y, r = int(rng.integers(0, W)), int(rng.integers(0, H)), int(rng.integers(5, 40))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> tuple[CutScene, ...]:
    folder = tmp_path_factory.mktemp("inputs")
    return (
        CutScene("meadow", picture(folder / "a.png", 1), "slow zoom in", "crossfade", (
            CutLine(tone(folder / "a1.wav", 1.2, 330), "The moon is up, round and bright.", "Owl"),
            CutLine(tone(folder / "a2.wav", 0.8, 440, rate=22050), "Hush.", None))),
        CutScene("quiet", picture(folder / "b.png", 2), None, "cut", ()),
        CutScene("river", picture(folder / "c.png", 3), "pan left", None, (
            CutLine(tone(folder / "c1.wav", 1.0, 550), "Goodnight, river.", "Fox"),)),
    )


def run_cut(scenes, out: Path, work: Path, **editor) -> CutOutcome:
    return cut(scenes, FFmpegEditor(**editor), SETTINGS, W, H, FPS, out, work)


@pytest.fixture(scope="module")
def cold(scenes, tmp_path_factory) -> CutOutcome:
    root = tmp_path_factory.mktemp("cold")
    return run_cut(scenes, root / "out", root / "work")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gray_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [np.asarray(f.to_ndarray(format="gray"), dtype=np.float32)
                for f in container.decode(video=0)]


def test_outputs_and_nothing_else(cold: CutOutcome):
    assert sorted(p.name for p in cold.video.parent.iterdir()) == [
        "captions.srt", "captions.vtt", "captions.words.vtt", "cut.json", "video.mp4"]


def test_streams_codecs_and_duration(cold: CutOutcome):
    timeline = cold.timeline
    # meadow: 0.4 + 1.2 + 0.3 + 0.8 + 0.8 = 3.5 s; quiet: min_scene; river: 0.4 + 1.0 + 0.8
    assert [s.frames for s in timeline.scenes] == [88, 38, 55]
    with av.open(str(cold.video)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        subtitles = container.streams.subtitles
        assert video.codec_context.name == "h264" and video.codec_context.profile == "High"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.codec_context.width, video.codec_context.height) == (W, H)
        assert video.average_rate == FPS
        assert audio.codec_context.name == "aac" and audio.codec_context.profile == "LC"
        assert audio.codec_context.sample_rate == 48_000
        assert len(subtitles) == 1 and subtitles[0].codec_context.name == "mov_text"
        assert container.duration / 1e6 == pytest.approx(timeline.duration, abs=0.1)
        assert video.duration * video.time_base == pytest.approx(timeline.duration, abs=1 / FPS)
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == timeline.frames
    assert b"moov" in cold.video.read_bytes()[:4096]  # +faststart: the index comes first


def test_narration_plays_at_the_cues_and_silence_between(cold: CutOutcome):
    with av.open(str(cold.video)) as container:
        samples = np.concatenate([f.to_ndarray().mean(axis=0)
                                  for f in container.decode(audio=0)])
    def level(start: float, end: float) -> float:
        return float(np.sqrt(np.mean(samples[round(start * 48000):round(end * 48000)] ** 2)))
    for cue in cold.timeline.cues:
        assert level(cue.start + 0.05, cue.end - 0.05) > 0.2, cue
    quiet = cold.timeline.scenes[1]
    assert level(quiet.start + 0.05, quiet.start + quiet.duration - 0.05) < 0.01
    assert level(0.0, 0.35) < 0.01


def test_sidecar_captions_match_the_timeline_within_a_frame(cold: CutOutcome):
    cues = cold.timeline.cues
    subtitles = list(srt.parse(cold.srt.read_text(encoding="utf-8")))
    captions = webvtt.read(str(cold.vtt))
    assert len(subtitles) == len(captions) == len(cues) == 3
    for cue, sub, cap in zip(cues, subtitles, captions):
        assert sub.start.total_seconds() == pytest.approx(cue.start, abs=1 / FPS)
        assert sub.end.total_seconds() == pytest.approx(cue.end, abs=1 / FPS)
        h, m, s = cap.start.split(":")
        assert int(h) * 3600 + int(m) * 60 + float(s) == pytest.approx(cue.start, abs=1 / FPS)
        assert sub.content.replace("\n", " ") == cap.text.replace("\n", " ") == cue.text


def test_lines_without_word_times_fall_back_to_line_cues(cold: CutOutcome):
    """The tones carry no word times (no words.json): each karaoke cue is its line, untimed."""
    karaoke = webvtt.read(str(cold.video.parent / "captions.words.vtt"))
    assert [c.text.replace("\n", " ") for c in karaoke] == [c.text for c in cold.timeline.cues]
    assert all(cue.words == () for cue in cold.timeline.cues)
    assert all("<00:" not in cue.raw_text for cue in karaoke)


def test_word_times_are_estimated_when_the_timeline_says_so(scenes):
    from engine.stages.cut import plan

    timeline = plan(scenes, replace(SETTINGS, estimate_word_times=True), FPS)
    for cue in timeline.cues:
        assert [w.text for w in cue.words] == cue.text.split()
        assert cue.start <= cue.words[0].start and cue.words[-1].end == pytest.approx(cue.end)
        assert all(a.end <= b.start + 1e-9 for a, b in zip(cue.words, cue.words[1:]))


def test_a_line_with_word_times_is_timed_by_them(scenes, tmp_path: Path, caplog):
    from engine.stages.cut import plan
    from engine.words import write_words

    times = write_words((Word(0.0, 0.1, "The"), Word(0.1, 0.5, "moon"), Word(0.55, 0.6, "is"),
                         Word(0.6, 0.7, "up"), Word(0.8, 0.95, "round"), Word(0.95, 1.0, "and"),
                         Word(1.0, 1.2, "bright")), tmp_path / "words.json")
    meadow = scenes[0]
    timed = replace(meadow, lines=(replace(meadow.lines[0], words=times), *meadow.lines[1:]))
    with caplog.at_level("INFO", logger="engine.words"):
        timeline = plan((timed, *scenes[1:]), SETTINGS, FPS)
        cut((timed, *scenes[1:]), FFmpegEditor(burn_subtitles=False), SETTINGS, W, H, FPS,
            tmp_path / "out", tmp_path / "work")
    first = timeline.cues[0]
    assert [round(w.start - first.start, 3) for w in first.words] == [0, 0.1, 0.55, 0.6, 0.8,
                                                                      0.95, 1.0]
    assert "2 of 3 lines come without word times" in caplog.text
    assert "fall back to line cues" in caplog.text
    assert "<00:00:01.350>and <00:00:01.400>bright." in (  # the line starts at 0.4 s
        tmp_path / "out" / "captions.words.vtt").read_text(encoding="utf-8")


def test_zoom_pan_and_crossfade_change_the_frames(cold: CutOutcome):
    frames = gray_frames(cold.video)
    meadow, quiet, river = cold.timeline.scenes
    top = slice(0, H // 2)  # above the captions

    def diff(a: int, b: int) -> float:
        return float(np.abs(frames[a][top] - frames[b][top]).mean())
    fade_start = meadow.frames - 15  # 0.6 s crossfade at 25 fps
    # the zoom moves the picture, in small even steps (no judder)
    assert diff(0, fade_start - 1) > 3.0
    steps = [diff(k, k + 1) for k in range(fade_start - 1)]
    assert max(steps) < 2.0 and sum(steps) > 3.0
    # crossfade: the meadow's last frames head for the quiet scene's first frame
    target = meadow.frames
    distances = [diff(k, target) for k in range(fade_start - 1, meadow.frames)]
    assert all(a > b for a, b in zip(distances, distances[1:]))
    assert distances[-1] < 0.2 * distances[0]
    # a cut: the still scene does not move, then the river's first frame is another picture
    still_last = meadow.frames + quiet.frames - 1
    assert diff(meadow.frames, still_last) < 0.5
    assert diff(still_last, still_last + 1) > 5.0
    # the pan slides the picture
    river_first = still_last + 1
    assert diff(river_first, river_first + 20) > 2.0
    assert max(diff(k, k + 1) for k in range(river_first, river_first + 20)) < 3.0


def test_captions_are_burned_in_only_when_asked(cold: CutOutcome, scenes, tmp_path: Path):
    plain = run_cut(scenes, tmp_path / "out", tmp_path / "work", burn_subtitles=False)
    burned, clean = gray_frames(cold.video), gray_frames(plain.video)
    cue = cold.timeline.cues[0]
    during = round((cue.start + cue.end) / 2 * FPS)
    band = slice(H // 2, H)
    assert np.abs(burned[during][band] - clean[during][band]).mean() > 5.0
    assert np.abs(burned[during][: H // 3] - clean[during][: H // 3]).mean() < 1.0
    before = 5  # no caption yet: the frames agree
    assert np.abs(burned[before] - clean[before]).mean() < 1.0


def test_two_cold_cuts_are_byte_identical(cold: CutOutcome, scenes, tmp_path: Path):
    again = run_cut(scenes, tmp_path / "out", tmp_path / "work", workers=1)
    assert digest(again.video) == digest(cold.video)
    assert again.srt.read_bytes() == cold.srt.read_bytes()


def test_editing_one_line_reencodes_only_its_scene(scenes, tmp_path: Path):
    work = tmp_path / "work"
    first = run_cut(scenes, tmp_path / "a", work)
    assert first.stats.encoded == ("meadow", "quiet", "river") and not first.stats.reused
    segments = {p: p.stat().st_mtime_ns for p in work.glob("seg-*.mp4")}
    river = scenes[2]
    edited = (*scenes[:2], replace(river, lines=(replace(river.lines[0], text="Sleep well, river."),)))
    second = run_cut(edited, tmp_path / "b", work)
    assert second.stats.encoded == ("river",) and second.stats.reused == ("meadow", "quiet")
    new = set(work.glob("seg-*.mp4")) - set(segments)
    assert len(new) == 1
    assert all(p.stat().st_mtime_ns >= t for p, t in segments.items())  # old ones kept
    assert digest(second.video) != digest(first.video)
    assert list(srt.parse(second.srt.read_text()))[-1].content == "Sleep well, river."
    # the quiet scene's picture is what the meadow crossfades into: changing it re-encodes both
    third = run_cut((scenes[0], replace(scenes[1], camera="slow zoom out"), scenes[2]),
                    tmp_path / "c", work)
    assert third.stats.encoded == ("meadow", "quiet") and third.stats.reused == ("river",)
    assert not [p for p in work.rglob("*") if p.name.endswith(".tmp")]


def test_a_failing_encoder_leaves_no_partial_file(scenes, tmp_path: Path, monkeypatch):
    from engine.backends.video.ffmpeg import FFmpegEditor

    # an encoder that refuses to open (settings are checked before, so this takes a patch)
    monkeypatch.setattr(FFmpegEditor, "_codec_options", lambda self, codec: {"preset": "none"})
    out = tmp_path / "out"
    with pytest.raises(BackendError, match="video=ffmpeg"):
        run_cut(scenes, out, tmp_path / "work")
    assert not out.exists() or not list(out.iterdir())
    assert not list((tmp_path / "work").glob("seg-*"))
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_scratch_goes_only_when_no_other_cut_uses_the_folder(scenes, tmp_path: Path):
    """Liveness, not age: another cut's scratch stays, however old; a dead cut's goes, however
    fresh (a cut holds the work folder shared; scratch names begin with '.')."""
    import os

    from engine.locks import work_folder

    work = tmp_path / "work"
    temp, folder = work / ".seg-abc.x1.tmp", work / ".cut-x1"
    with work_folder(work):  # another cut is running, with its scratch
        temp.write_bytes(b"partial")
        folder.mkdir()
        (folder / "narration.wav").write_bytes(b"RIFF" + b"\0" * 2048)
        os.utime(temp, (0, 0))
        run_cut(scenes[1:2], tmp_path / "out", work)
        assert temp.exists() and (folder / "narration.wav").exists()
    run_cut(scenes[1:2], tmp_path / "again", work)  # alone now: what dead cuts left goes
    assert not temp.exists() and not folder.exists()
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == [".in-use.lock"]


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def test_the_narration_is_encoded_once_per_sound_and_keeps_its_timing(scenes, tmp_path: Path):
    work = tmp_path / "work"
    first = run_cut(scenes, tmp_path / "a", work)
    pieces = set(work.glob("aacp-*.npz"))  # the narration's AAC, piece by piece
    assert pieces
    with av.open(str(first.video)) as container:
        audio = container.streams.audio[0]
        assert audio.start_time == 0  # the encoder's priming is cut by the edit list
        assert audio.duration * audio.time_base == pytest.approx(first.duration, abs=0.03)
        samples = sum(f.samples for f in container.decode(audio=0))
    assert samples == pytest.approx(first.duration * 48_000, abs=1024)
    # a new camera leaves the narration as it was: its AAC is reused, not encoded again
    moved = run_cut((replace(scenes[0], camera="pan right"), *scenes[1:]), tmp_path / "b", work)
    assert set(work.glob("aacp-*.npz")) == pieces
    assert audio_packets(moved.video) == audio_packets(first.video)
    # another sound is another AAC
    river = scenes[2]
    louder = tone(tmp_path / "c1.wav", 1.0, 660)
    voiced = run_cut((*scenes[:2], replace(river, lines=(replace(river.lines[0], audio=louder),))),
                     tmp_path / "c", work)
    assert len(set(work.glob("aacp-*.npz")) - pieces) == 1  # the river's piece
    assert audio_packets(voiced.video) != audio_packets(first.video)


def test_the_cut_key_holds_every_field_and_each_file_by_its_content(tmp_path: Path):
    from dataclasses import fields

    from engine.effects import SoundEffect
    from engine.stages.cut import canonical

    picture(tmp_path / "a.png", 1)
    picture(tmp_path / "b.png", 2)
    (tmp_path / "line.wav").write_bytes(b"RIFF one")
    line = CutLine(tmp_path / "line.wav", "Hello.", "Owl")
    scene = CutScene("meadow", tmp_path / "a.png", "pan left", "crossfade", (line,), 4.0, None)
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    key = canonical(scene, digest)
    assert set(key) == {f.name for f in fields(CutScene)}
    assert set(key["lines"][0]) == {f.name for f in fields(CutLine)}
    assert key["image"] == {"sha256": digest(tmp_path / "a.png")}
    changed = {"scene_id": "river", "image": tmp_path / "b.png", "camera": None,
               "into_next": "cut", "lines": (), "duration": 5.0, "music": tmp_path / "line.wav",
               "sfx": (SoundEffect(tmp_path / "line.wav", seconds=1.0, level=-6.0),),
               "title": "Down to the river"}  # an edited title: a new chapter, a new cut
    assert set(changed) == {f.name for f in fields(CutScene)}
    for name, value in changed.items():
        assert canonical(replace(scene, **{name: value}), digest) != key, name
    (tmp_path / "line.wav").write_bytes(b"RIFF two")  # the same path, other sound
    assert canonical(scene, digest) != key


def test_a_scene_longer_than_its_duration_says_what_asks_for_more(scenes, tmp_path: Path,
                                                                  caplog):
    from engine.effects import SoundEffect
    from engine.stages.cut import _note_longer_than_asked, scene_lines

    splash = tone(tmp_path / "splash.wav", 0.5, 880)
    long_fade = replace(SETTINGS, crossfade=2.0)
    asked = (replace(scenes[0], duration=1.0),  # its lines
             replace(scenes[2], duration=3.0, sfx=(SoundEffect(splash, seconds=12.0),
                                                   SoundEffect(splash, seconds=1.0))),
             replace(scenes[1], duration=1.0, into_next="fade through black"),  # its transition
             replace(scenes[1], duration=1.0),  # timeline.min_scene
             replace(scenes[0], duration=4.0))  # long enough: nothing said
    lines_need = "its lines need 3.5 s"
    min_scene = "`timeline.min_scene` asks for 1.5 s"
    for settings, meadow, quiet in (
            (SETTINGS, lines_need, min_scene),  # a 0.6 s transition fits in the tail and min_scene
            (long_fade, "the crossfade into scene river (`timeline.crossfade: 2`) needs 4.7 s",
             "the fade through black into scene quiet (`timeline.crossfade: 2`) needs 4.0 s")):
        caplog.clear()
        lines = scene_lines(asked, settings)
        timeline = build_timeline(lines, settings, FPS)
        with caplog.at_level("WARNING", logger="engine.stages.cut"):
            _note_longer_than_asked(asked, lines, timeline, settings)
        lasts = [placed.duration for placed in timeline.scenes]
        assert [r.getMessage() for r in caplog.records] == [
            f"scene {scene.scene_id}: {why}, more than its `duration: {scene.duration:g}`, so it "
            f"lasts {seconds:.1f} s (`duration:` is the least a scene lasts)"
            for scene, why, seconds in zip(asked, (
                meadow, "its sound effect splash.wav at 12 s needs 12.8 s", quiet, min_scene),
                lasts)]
        assert lasts[4] == 4.0


def test_a_long_transition_starts_once_the_last_line_has_ended(scenes, tmp_path: Path):
    # The meadow's last line ends 0.8 s (the tail) before the scene would; the fade takes 1.5 s.
    story = (replace(scenes[0], into_next="fade through black"), scenes[1])
    outcome = cut(story, FFmpegEditor(), replace(SETTINGS, crossfade=1.5), W, H, FPS,
                  tmp_path / "out", tmp_path / "work")
    meadow, quiet = outcome.timeline.scenes
    assert meadow.transition_frames == round(1.5 * FPS) and quiet.transition_frames == 0
    fade_from = meadow.frames - meadow.transition_frames
    last = outcome.timeline.cues[-1]
    assert fade_from / FPS >= last.end - 1e-9  # the scene grew: its quiet tail holds the fade
    srt_end = list(srt.parse(outcome.srt.read_text()))[-1].end.total_seconds()
    vtt_end = webvtt.read(str(outcome.vtt)).captions[-1].end_in_seconds
    assert srt_end <= fade_from / FPS + 1e-3 and vtt_end <= fade_from / FPS + 1e-3
    frames = gray_frames(outcome.video)
    band = slice(H // 2, H)  # the burned caption's band keeps its brightness while it is shown
    spoken = [float(frames[k][band].mean()) for k in range(round(last.start * FPS), fade_from)]
    assert min(spoken) > 0.9 * max(spoken)
    assert float(frames[fade_from + meadow.transition_frames // 2].mean()) < 0.3 * min(spoken)


# ---- the segments and the narration stop each other ---------------------------------------------

class _Editor:
    """An editor whose segment encode is given: it sees the shared stop."""

    def __init__(self, encode):
        self.encode_segments = encode


def _waits_for(stop, seen: list[str], who: str, rounds: int = 2000):
    import time

    from engine.errors import Stopped

    for _ in range(rounds):  # (up to 20 s: a stop that never came fails the test below)
        if stop.is_set():
            seen.append(who)
            raise Stopped
        time.sleep(0.01)
    return who


def test_ctrl_c_while_segments_encode_stops_the_narration_too():
    from engine.stages.cut import _beside_segments

    seen: list[str] = []

    def encode(request, stop):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _beside_segments(_Editor(encode), None, lambda stop: _waits_for(stop, seen, "narration"))
    assert seen == ["narration"]  # it stopped at its next step instead of running to its end


def test_a_failed_narration_stops_the_segments_and_is_the_error_raised():
    from engine.stages.cut import _beside_segments

    seen: list[str] = []

    def narrate(stop):
        raise BackendError("video=ffmpeg", "encoding the narration failed: no")

    with pytest.raises(BackendError, match="encoding the narration failed"):
        _beside_segments(_Editor(lambda request, stop: _waits_for(stop, seen, "segments")), None,
                         narrate)
    assert seen == ["segments"]


def test_a_failed_segment_stops_the_others_and_is_the_error_raised():
    import threading

    from engine.backends.video.ffmpeg import _all_or_none

    seen: list[str] = []

    def encode(job, request, stop):
        if job == "bad":
            raise BackendError("video=ffmpeg", "encoding scene 'bad' failed")
        _waits_for(stop, seen, job)

    with pytest.raises(BackendError, match="encoding scene 'bad' failed"):
        _all_or_none(encode, ["slow", "bad", "queued"], None, threading.Event(), 2)
    assert seen[0] == "slow" and set(seen) <= {"slow", "queued"}


def test_the_narrations_pieces_stop_once_asked():
    import threading

    from engine.aac_pieces import encode_all
    from engine.errors import Stopped

    stop = threading.Event()
    stop.set()
    asked = []
    with pytest.raises(Stopped):
        encode_all([(lambda: asked.append(1), False, "128k", Path("/nonexistent/p.npz"))], stop)
    assert asked == []
