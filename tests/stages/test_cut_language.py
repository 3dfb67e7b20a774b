"""The soft subtitle track (and the narration) is tagged with the story's language, as ISO
639-2/T."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from engine.backends.tts import Audio
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.language_codes import iso639_2
from engine.stages.cut import CutLine, CutScene, cut
from engine.stages.speak import write_wav
from engine.timeline import TimelineSettings

TIMING = TimelineSettings(lead_in=0.2, gap=0.2, tail=0.2, min_scene=0.5, crossfade=0.2)


@pytest.mark.parametrize(("tag", "code"), [
    ("en", "eng"), ("fr", "fra"), ("zh-Hans", "zho"), ("pt_BR", "por"), ("de-CH", "deu"),
    ("fre", "fra"), ("chi", "zho"), ("haw", "haw"), ("FR", "fra"), ("xx", "und"), ("", "und"),
    (None, "und"), ("klingon", "und")])
def test_bcp47_tags_become_iso639_2_terminology_codes(tag, code):
    assert iso639_2(tag) == code


def track_languages(video: Path) -> tuple[str | None, str | None]:
    """The audio and the subtitle track's language tags."""
    with av.open(str(video)) as container:
        (audio,), (subtitles,) = container.streams.audio, container.streams.subtitles
        return audio.metadata.get("language"), subtitles.metadata.get("language")


@pytest.mark.parametrize(("language", "tag"), [("fr", "fra"), ("zh-Hans", "zho"), (None, "und")])
def test_the_subtitle_and_audio_tracks_say_the_story_language(tmp_path: Path, language, tag):
    still = tmp_path / "still.png"
    Image.new("RGB", (32, 18), (40, 90, 160)).save(still)
    line = tmp_path / "line.wav"
    write_wav(Audio(np.zeros(9600, np.float32), 48000), line)
    scene = CutScene("s", still, None, None, (CutLine(line, "Bonjour 你好"),))
    outcome = cut((scene,), FFmpegEditor(burn_subtitles=False), TIMING, 32, 18, 10,
                  tmp_path / "out", tmp_path / "work", language=language)
    assert track_languages(outcome.video) == (tag, tag)
