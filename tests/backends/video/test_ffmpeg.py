"""video=ffmpeg pieces: colour conversion, camera paths, caption overlays, frames, identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.backends.fonts import find_font
from engine.backends.video import CutRequest, Segment
from engine.backends.video.camera import PAN_ZOOM, ZOOM, Picture, camera_view
from engine.backends.video.caption_box import CaptionStyle, caption_overlay
from engine.backends.video.ffmpeg import FFmpegEditor, ffmpeg_exe
from engine.backends.video.frames import SceneShot, frame_bytes, render_frames
from engine.backends.video.yuv import rgb_to_yuv420
from engine.errors import BackendError
from tests.sounds import write_silence

W, H = 160, 90


def test_rgb_to_yuv_is_limited_range_bt709():
    rgb = np.array([[[0, 0, 0], [255, 255, 255]], [[255, 0, 0], [0, 0, 255]]], dtype=np.uint8)
    y, u, v = rgb_to_yuv420(rgb)
    assert y.tolist() == [[16, 235], [63, 32]]  # BT.709: red 0.2126, blue 0.0722 of 219 + 16
    assert u.shape == v.shape == (1, 1)
    gray = rgb_to_yuv420(np.full((4, 4, 3), 128, np.uint8))
    assert gray[1].tolist() == gray[2].tolist() == [[128, 128], [128, 128]]


@pytest.mark.parametrize("camera", ["slow zoom in", "slow zoom out", "pan left", "pan right"])
def test_camera_paths_start_and_end_where_they_should(camera: str):
    start, end = camera_view(camera, 0.0), camera_view(camera, 1.0)
    if "zoom" in camera:
        assert {start[0], end[0]} == {1.0, ZOOM}
        assert (start[0] < end[0]) == (camera == "slow zoom in")
    else:
        assert start[0] == end[0] == PAN_ZOOM
        assert (start[1] > end[1]) == (camera == "pan left")  # the window moves left
    # eased: no jump at either end, monotonic in between
    zooms = [camera_view(camera, t / 100)[0 if "zoom" in camera else 1] for t in range(101)]
    steps = np.diff(zooms)
    assert (steps >= 0).all() or (steps <= 0).all()
    assert abs(steps[0]) < abs(steps[50]) / 10


def test_still_camera_is_the_picture_itself(tmp_path: Path):
    path = tmp_path / "p.png"
    Image.new("RGB", (W * 2, H * 3), (200, 40, 40)).save(path)  # another shape: cover-fit
    planes = Picture(path, W, H, None).at(0.5)
    assert [p.shape for p in planes] == [(H, W), (H // 2, W // 2), (H // 2, W // 2)]
    assert set(planes[0].ravel().tolist()) == {rgb_to_yuv420(
        np.full((2, 2, 3), (200, 40, 40), np.uint8))[0][0, 0]}


def test_caption_overlay_fits_the_frame_and_sits_low():
    style = CaptionStyle(font=find_font("DejaVuSans-Bold.ttf"))
    overlay = caption_overlay("A long caption " * 8, W * 4, H * 4, style)
    width, height = overlay.size
    assert overlay.x % 2 == 0 and overlay.y % 2 == 0 and width % 2 == 0 and height % 2 == 0
    assert overlay.x >= 0 and overlay.x + width <= W * 4
    assert overlay.y > H * 4 // 2 and overlay.y + height <= H * 4
    portrait = caption_overlay("Hello", H * 4, W * 4, style)
    assert portrait.y + portrait.size[1] < W * 4 * 0.85  # clear of phone controls


def test_still_frames_repeat_and_captions_change_them(tmp_path: Path):
    path = tmp_path / "p.png"
    Image.new("RGB", (W, H), (30, 120, 200)).save(path)
    shot = SceneShot(path, None, 10, ((3, 6, "Hi there", -1),))
    style = CaptionStyle(font=find_font("DejaVuSans-Bold.ttf"))
    frames = [frame_bytes(f) for f in render_frames(shot, W, H, style, None)]
    assert len(frames) == 10 and all(len(f) == W * H * 3 // 2 for f in frames)
    assert frames[0] == frames[2] == frames[6] == frames[9] != frames[3] == frames[5]


def test_identity_names_the_tool_and_everything_that_shapes_bytes():
    base = FFmpegEditor().identity()
    assert base["backend"] == "video=ffmpeg" and base["ffmpeg"]
    assert base["segments_encoded_by"].startswith("pyav ")  # the libx264 in this process
    assert base["encoder"]["threads"] == 1 and base["captions"]["font"]
    assert FFmpegEditor(crf=23).identity() != base
    assert FFmpegEditor(burn_subtitles=False).identity()["captions"] is None
    assert FFmpegEditor(workers=7).identity() == base  # parallelism changes no byte


def test_odd_frame_sizes_are_refused(tmp_path: Path):
    request = CutRequest(segments=(Segment("a", tmp_path / "a.png", 0.0, 10),),
                         audio=tmp_path / "a.wav", cues=(), width=161, height=90, fps=25,
                         output=tmp_path / "out.mp4", workdir=tmp_path)
    with pytest.raises(BackendError, match="even"):
        FFmpegEditor().cut(request)


def test_the_bundled_ffmpeg_and_pyav_have_what_the_editor_uses():
    import subprocess

    import av

    encoders = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True,
                              text=True).stdout
    assert all(name in encoders for name in (" aac ", "mov_text"))  # the mux, a WAV's AAC
    assert {"libx264", "h264_nvenc", "aac"} <= av.codecs_available  # segments, pieces


def test_a_still_scene_shows_each_caption_on_exactly_its_frames(tmp_path: Path):
    """Only changed frames are piped; ffmpeg repeats them: captions must still land on the frame."""

    import av

    from engine.captions import Cue

    Image.new("RGB", (W, H), (40, 90, 160)).save(tmp_path / "p.png")
    write_silence(tmp_path / "a.wav", 1.0)
    request = CutRequest(segments=(Segment("a", tmp_path / "p.png", 0.0, 25),),
                         audio=tmp_path / "a.wav",
                         cues=(Cue(0.12, 0.4, "One"), Cue(0.6, 0.84, "Two")),
                         width=W, height=H, fps=25, output=tmp_path / "out.mp4",
                         workdir=tmp_path / "work")
    FFmpegEditor().cut(request)
    with av.open(str(request.output)) as container:
        frames = [f.to_ndarray(format="gray").astype(float) for f in container.decode(video=0)]
    assert len(frames) == 25
    captioned = [k for k, f in enumerate(frames) if np.abs(f - frames[0]).max() > 40]
    # One: frames 3..9 (0.12 s to 0.4 s); Two: frames 15..20 (0.6 s to 0.84 s)
    assert captioned == [*range(3, 10), *range(15, 21)]


@pytest.mark.parametrize("preset, size", [("ffmpeg", (1280, 720)), ("youtube", (1920, 1080)),
                                          ("shorts", (1080, 1920))])
def test_presets_change_the_size_and_9_16_the_caption_size(preset: str, size: tuple[int, int]):
    from engine.config import build_backend, compose_config

    plain = compose_config(["story=stories/first-snow.story"])
    cfg = compose_config(["story=stories/first-snow.story", f"video={preset}", "video.crf=23"])
    assert (cfg.render.width, cfg.render.height) == size
    assert {k: v for k, v in cfg.render.items() if k not in ("width", "height")} == {
        k: v for k, v in plain.render.items() if k not in ("width", "height")}
    changed = {"crf", "caption_size"}  # 9:16 is read on a phone: larger captions
    assert {k: v for k, v in cfg.video.items() if k not in changed} == {
        k: v for k, v in plain.video.items() if k not in changed}
    assert (cfg.video.caption_size > plain.video.caption_size) == (preset == "shorts")
    editor = build_backend("video", cfg.video)
    assert isinstance(editor, FFmpegEditor) and editor.crf == 23 and editor.burn_subtitles


def test_a_narration_ffmpeg_cannot_read_fails_cleanly(tmp_path: Path):
    Image.new("RGB", (W, H), (40, 90, 160)).save(tmp_path / "p.png")
    (tmp_path / "a.wav").write_bytes(b"RIFF not really a wave")
    work = tmp_path / "work"
    request = CutRequest(segments=(Segment("a", tmp_path / "p.png", 0.0, 5),),
                         audio=tmp_path / "a.wav", cues=(), width=W, height=H, fps=25,
                         output=tmp_path / "out.mp4", workdir=work)
    with pytest.raises(BackendError, match="narration"):
        FFmpegEditor().cut(request)
    assert not request.output.exists() and not list(work.glob("aac-*"))
    assert not [p for p in work.iterdir() if p.name.endswith(".tmp")]


def test_a_wipe_between_two_scenes_is_encoded_in_the_outgoing_tail(tmp_path: Path):
    """`wipe left` in the last frames of scene a: the next picture enters from the right."""
    import wave

    import av

    Image.new("RGB", (W, H), (20, 20, 20)).save(tmp_path / "a.png")
    Image.new("RGB", (W, H), (235, 235, 235)).save(tmp_path / "b.png")
    with wave.open(str(tmp_path / "a.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48_000)
        out.writeframes(bytes(2 * 48_000))
    request = CutRequest(segments=(Segment("a", tmp_path / "a.png", 0.0, 12, None, "wipe left", 7),
                                   Segment("b", tmp_path / "b.png", 0.48, 13)),
                         audio=tmp_path / "a.wav", cues=(), width=W, height=H, fps=25,
                         output=tmp_path / "out.mp4", workdir=tmp_path / "work")
    FFmpegEditor(burn_subtitles=False).cut(request)
    with av.open(str(request.output)) as container:
        frames = [f.to_ndarray(format="gray").astype(float) for f in container.decode(video=0)]
    assert len(frames) == 25
    bright = [float((f > 128).mean()) for f in frames]
    assert bright[:5] == [0.0] * 5 and bright[12:] == [1.0] * 13
    assert all(a < b for a, b in zip(bright[4:13], bright[5:13]))  # the edge moves on each frame
    middle = frames[8]  # 4 of 7 wipe frames: the right half is the next picture
    assert middle[:, -W // 4:].mean() > 200 and middle[:, :W // 4].mean() < 60
