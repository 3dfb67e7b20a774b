"""MP4 chapters: one per scene, from its first frame, named by its title (else its name)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from engine.backends.video import CutRequest, Segment
from engine.backends.video.chapters import ffmetadata
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.captions import Cue
from tests.sounds import write_tone

av = pytest.importorskip("av")

W, H, FPS = 160, 90, 10
TITLE = "Up the hill; a = b #1 \\ ünïcode 日本"


def segments(folder: Path) -> tuple[Segment, ...]:
    return (Segment("hill", folder / "a.png", 0.0, 12, "slow zoom in", "crossfade", 4, TITLE),
            Segment("pond", folder / "b.png", 1.2, 8))


def request(folder: Path, name: str, cues: tuple[Cue, ...] = (Cue(0.1, 0.6, "Hello"),)
            ) -> CutRequest:
    if not (folder / "a.png").exists():
        Image.new("RGB", (W, H), (90, 140, 200)).save(folder / "a.png")
        Image.new("RGB", (W, H), (200, 60, 40)).save(folder / "b.png")
        write_tone(folder / "n.wav", 2.0, 440, level=0.3)
    return CutRequest(segments=segments(folder), audio=folder / "n.wav", cues=cues, width=W,
                      height=H, fps=FPS, output=folder / f"{name}.mp4",
                      workdir=folder / "work", language="eng")


def chapters(video: Path) -> list[tuple[Fraction, Fraction, str]]:
    """Each chapter's start and end (seconds) and title, as PyAV reads them back."""
    with av.open(str(video)) as container:
        return [(chapter["start"] * chapter["time_base"], chapter["end"] * chapter["time_base"],
                 chapter["metadata"].get("title")) for chapter in container.chapters()]


def test_the_metadata_file_times_chapters_in_frames_and_escapes_titles(tmp_path: Path):
    assert ffmetadata(segments(tmp_path), FPS) == (
        ";FFMETADATA1\n"
        "[CHAPTER]\nTIMEBASE=1/10\nSTART=0\nEND=12\n"
        "title=Up the hill\\; a \\= b \\#1 \\\\ ünïcode 日本\n"
        "[CHAPTER]\nTIMEBASE=1/10\nSTART=12\nEND=20\ntitle=pond\n")


@pytest.mark.parametrize("cues", [(Cue(0.1, 0.6, "Hello"),), ()], ids=["captions", "silent"])
def test_the_video_has_a_chapter_per_scene_named_by_its_title(tmp_path: Path, cues):
    FFmpegEditor(burn_subtitles=False).cut(request(tmp_path, "v", cues))
    assert chapters(tmp_path / "v.mp4") == [(0, Fraction(6, 5), TITLE), (Fraction(6, 5), 2, "pond")]
    with av.open(str(tmp_path / "v.mp4")) as container:
        assert container.metadata.get("title") is None  # the file's own metadata stays empty
        assert len(container.streams.subtitles) == len(cues)


def test_the_same_cut_gives_the_same_bytes_and_a_new_title_new_bytes(tmp_path: Path):
    editor = FFmpegEditor(burn_subtitles=False)
    editor.cut(request(tmp_path, "first"))
    editor.cut(request(tmp_path, "again"))
    retitled = request(tmp_path, "retitled")
    editor.cut(replace(retitled, segments=(replace(retitled.segments[0], title="Down the hill"),
                                           retitled.segments[1])))
    first = (tmp_path / "first.mp4").read_bytes()
    assert (tmp_path / "again.mp4").read_bytes() == first
    assert (tmp_path / "retitled.mp4").read_bytes() != first
    assert chapters(tmp_path / "retitled.mp4")[0][2] == "Down the hill"


def test_moviepy_writes_the_same_chapters(tmp_path: Path):
    pytest.importorskip("moviepy")
    from engine.backends.video.moviepy import MoviePyEditor

    MoviePyEditor(burn_subtitles=False).cut(replace(request(tmp_path, "m"), language="fra"))
    assert chapters(tmp_path / "m.mp4") == [(0, Fraction(6, 5), TITLE), (Fraction(6, 5), 2, "pond")]
    with av.open(str(tmp_path / "m.mp4")) as container:
        assert {s.metadata.get("language") for s in container.streams if s.type != "video"} == {
            "fra"}


@pytest.mark.parametrize("language", ["fra", "und"])
def test_the_chapter_track_speaks_the_story_language_like_the_other_tracks(tmp_path: Path,
                                                                           language: str):
    FFmpegEditor(burn_subtitles=False).cut(replace(request(tmp_path, "v"), language=language))
    with av.open(str(tmp_path / "v.mp4")) as container:
        tagged = {stream.type: stream.metadata.get("language") for stream in container.streams}
    assert tagged == {"video": "und", "audio": language, "subtitle": language, "data": language}
    assert chapters(tmp_path / "v.mp4")[0][2] == TITLE  # the chapters themselves untouched
