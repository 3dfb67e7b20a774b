"""video.encoder: libx264, h264_nvenc where it opens (one-line error where not), auto."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine.backends.video import CutRequest, Segment
from engine.backends.video.encoders import codec_options, nvenc_problem, resolve
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.config import build_backend, compose_config
from engine.errors import BackendError, ConfigError
from tests.sounds import write_silence

NVENC_PROBLEM = nvenc_problem()


def test_the_encoder_is_a_setting_libx264_by_default():
    cfg = compose_config(["story=stories/first-snow.story", "video.encoder=h264_nvenc"])
    assert build_backend("video", cfg.video).encoder == "h264_nvenc"
    assert FFmpegEditor().encoder == "libx264"
    with pytest.raises(ConfigError, match="video.encoder is one of libx264, h264_nvenc, auto"):
        FFmpegEditor(encoder="x265")


@pytest.mark.parametrize("setting, value, says", [
    ("preset", "quick", "video.preset is one of ultrafast, superfast, veryfast"),
    ("tune", "cartoon", "video.tune is one of film, animation"),
    ("tune", "film,animation", "not 'film,animation'"),
])
def test_a_preset_or_tune_x264_lacks_is_refused_before_any_work(setting: str, value: str,
                                                                 says: str):
    with pytest.raises(ConfigError, match=says):
        FFmpegEditor(**{setting: value})


def test_a_pyav_without_libx264_is_one_error_with_what_to_install(monkeypatch):
    import av

    import engine.backends.video.encoders as encoders

    monkeypatch.setattr(av, "codecs_available", av.codecs_available - {"libx264"})
    with pytest.raises(BackendError, match="has no libx264 encoder") as refused:
        resolve("libx264")
    assert "pip install" in refused.value.hint
    monkeypatch.setattr(encoders, "nvenc_problem", lambda: "no NVIDIA driver")
    with pytest.raises(BackendError, match="has no libx264 encoder"):
        resolve("auto")  # falls back to it, and says so


def test_nvenc_takes_its_own_presets_too():
    assert FFmpegEditor(encoder="h264_nvenc", preset="p7").preset == "p7"
    with pytest.raises(ConfigError, match="p1 … p7 with video.encoder=h264_nvenc"):
        FFmpegEditor(preset="p7")
    assert codec_options("h264_nvenc", crf=20, preset="p7", tune=None, keyint=250,
                         x264_params=None)["preset"] == "p7"


def test_tunes_join_as_x264_allows():
    assert FFmpegEditor(tune="animation,fastdecode,zerolatency").tune == \
        "animation,fastdecode,zerolatency"
    assert FFmpegEditor(tune=None).tune is None


def test_nvenc_options_stand_for_crf_and_preset():
    nvenc = codec_options("h264_nvenc", crf=23, preset="veryfast", tune="animation", keyint=250,
                          x264_params="me=dia")
    assert nvenc == {"preset": "p3", "rc": "vbr", "cq": "23", "b": "0", "profile": "high",
                     "g": "250"}  # no x264-params, no tune: x264's own
    x264 = codec_options("libx264", crf=23, preset="veryfast", tune=None, keyint=250,
                         x264_params="me=dia")
    assert x264 == {"preset": "veryfast", "crf": "23", "profile": "high", "g": "250",
                    "x264-params": "me=dia"}


@pytest.mark.skipif(NVENC_PROBLEM is None, reason="h264_nvenc opens on this machine")
def test_nvenc_where_it_cannot_open_fails_in_one_line_and_auto_falls_back(tmp_path: Path):
    assert resolve("auto") == "libx264"
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
    assert resolve("auto") == "h264_nvenc"
    assert FFmpegEditor(encoder="auto").identity()["encoder"]["codec"] == "h264_nvenc"
