"""video.encoder: libx264, h264_nvenc where it opens (one-line error where not), auto."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine.backends.video import CutRequest, Segment
from engine.backends.video.encoders import nvenc_problem, resolve, video_args
from engine.backends.video.ffmpeg import FFmpegEditor, ffmpeg_exe
from engine.config import build_backend, compose_config
from engine.errors import BackendError, ConfigError
from tests.sounds import write_silence

NVENC_PROBLEM = nvenc_problem(ffmpeg_exe())


def test_the_encoder_is_a_setting_libx264_by_default():
    cfg = compose_config(["story=stories/first-snow.story", "video.encoder=h264_nvenc"])
    assert build_backend("video", cfg.video).encoder == "h264_nvenc"
    assert FFmpegEditor().encoder == "libx264"
    with pytest.raises(ConfigError, match="video.encoder is one of libx264, h264_nvenc, auto"):
        FFmpegEditor(encoder="x265")


def test_nvenc_options_stand_for_crf_and_preset():
    args = video_args("h264_nvenc", crf=23, preset="veryfast", tune="animation", keyint=250,
                      x264_params="me=dia", threads=1)
    assert args[:2] == ["-c:v", "h264_nvenc"]
    assert args[args.index("-cq") + 1] == "23" and args[args.index("-preset") + 1] == "p3"
    assert "-x264-params" not in args and "-tune" not in args
    x264 = video_args("libx264", crf=23, preset="veryfast", tune=None, keyint=250,
                      x264_params="me=dia", threads=1)
    assert x264[x264.index("-crf") + 1] == "23" and "-x264-params" in x264


@pytest.mark.skipif(NVENC_PROBLEM is None, reason="h264_nvenc opens on this machine")
def test_nvenc_where_it_cannot_open_fails_in_one_line_and_auto_falls_back(tmp_path: Path):
    assert resolve("auto", ffmpeg_exe()) == "libx264"
    assert FFmpegEditor(encoder="auto").identity()["encoder"]["codec"] == "libx264"
    Image.new("RGB", (64, 36), (40, 90, 160)).save(tmp_path / "p.png")
    write_silence(tmp_path / "a.wav", 0.1)
    request = CutRequest(segments=(Segment("a", tmp_path / "p.png", 0.0, 2),),
                         audio=tmp_path / "a.wav", cues=(), width=64, height=36, fps=25,
                         output=tmp_path / "out.mp4", workdir=tmp_path / "work")
    with pytest.raises(BackendError) as error:
        FFmpegEditor(encoder="h264_nvenc").cut(request)
    message = error.value.message  # one line; the hint follows on its own
    assert "h264_nvenc" in message and NVENC_PROBLEM in message and "\n" not in message
    assert "video.encoder=libx264" in (error.value.hint or "")
    assert not request.output.exists()


@pytest.mark.skipif(NVENC_PROBLEM is not None, reason=f"h264_nvenc: {NVENC_PROBLEM}")
def test_nvenc_where_it_opens_is_what_auto_picks():
    assert resolve("auto", ffmpeg_exe()) == "h264_nvenc"
    assert FFmpegEditor(encoder="auto").identity()["encoder"]["codec"] == "h264_nvenc"
