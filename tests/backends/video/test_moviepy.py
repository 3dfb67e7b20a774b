"""video=moviepy: the same frames, captions and narration as video=ffmpeg, plus per-scene effects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.backends.video import CutRequest, Segment
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.captions import Cue
from engine.errors import ConfigError

pytest.importorskip("moviepy")
av = pytest.importorskip("av")

from engine.backends.video.moviepy import MoviePyEditor
from tests.sounds import write_tone

W, H, FPS = 160, 90, 10


def _request(folder: Path, name: str) -> CutRequest:
    """Scene a zooms in for 12 frames and crossfades (its last 4) into b, a still of 8 frames."""
    if not (folder / "a.png").exists():
        ramp = np.linspace(0, 255, W, dtype=np.uint8)[None, :, None].repeat(H, 0)
        Image.fromarray(np.concatenate([ramp, 255 - ramp, ramp // 2], axis=2)).save(folder / "a.png")
        Image.new("RGB", (W, H), (200, 60, 40)).save(folder / "b.png")
        write_tone(folder / "n.wav", 2.0, 440, level=0.3)
    return CutRequest(segments=(Segment("a", folder / "a.png", 0.0, 12, "slow zoom in",
                                        "crossfade", 4),
                                Segment("b", folder / "b.png", 1.2, 8)),
                      audio=folder / "n.wav", cues=(Cue(0.1, 0.6, "Hello"), Cue(1.3, 1.8, "Bye")),
                      width=W, height=H, fps=FPS, output=folder / f"{name}.mp4",
                      workdir=folder / f"work-{name}", language="eng")


def _decoded(video: Path) -> tuple[list[np.ndarray], float, list[str]]:
    """RGB frames, the audio's seconds, and the soft subtitle track's texts."""
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(float)
                  for f in container.decode(video=0)]
    with av.open(str(video)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    with av.open(str(video)) as container:
        texts = [bytes(p)[2:].decode() for p in container.demux(subtitles=0) if p.size > 2]
    return frames, samples / 48_000, texts


def test_moviepy_cuts_the_same_timeline_as_ffmpeg(tmp_path: Path):
    FFmpegEditor().cut(_request(tmp_path, "ffmpeg"))
    MoviePyEditor().cut(_request(tmp_path, "moviepy"))
    ours, ours_audio, ours_texts = _decoded(tmp_path / "ffmpeg.mp4")
    theirs, their_audio, their_texts = _decoded(tmp_path / "moviepy.mp4")
    assert len(ours) == len(theirs) == 20
    assert abs(ours_audio - their_audio) < 0.05 and abs(their_audio - 2.0) < 0.05
    assert ours_texts == their_texts == ["Hello", "Bye"]
    differences = [float(np.abs(a - b).mean()) for a, b in zip(ours, theirs)]
    assert max(differences) < 4.0, differences  # the same frames (captions too), encoded twice


def test_effects_apply_to_their_scene_only(tmp_path: Path):
    editor = MoviePyEditor(effects={"b": ["BlackAndWhite"],
                                    "a": [{"MultiplyVolume": {"factor": 0.0}}]})
    editor.cut(_request(tmp_path, "effects"))
    frames, seconds, _ = _decoded(tmp_path / "effects.mp4")
    assert len(frames) == 20 and abs(seconds - 2.0) < 0.05
    grey = [float(np.ptp(f, axis=2).mean()) for f in frames]
    assert min(grey[:8]) > 20 and max(grey[12:]) < 4  # b (frames 12..19) in black and white
    with av.open(str(tmp_path / "effects.mp4")) as container:
        sound = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    assert np.abs(sound[4_800:52_000]).max() < 0.01 < np.abs(sound[62_000:90_000]).max()


def test_the_cut_stage_encodes_no_ffmpeg_segments_for_moviepy(tmp_path: Path):
    """moviepy draws the whole video in its cut: nothing is encoded beside the narration."""
    from engine.stages.cut import _beside_segments

    made = []
    early, narration = _beside_segments(MoviePyEditor(), _request(tmp_path, "stage"),
                                        lambda stop: made.append("narration") or "narration")
    assert (early, narration, made) == (None, "narration", ["narration"])
    assert not list(tmp_path.rglob("seg-*"))


def test_effect_mistakes_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="no moviepy effect 'Sepia'.*BlackAndWhite"):
        MoviePyEditor(effects={"a": ["Sepia"]})
    with pytest.raises(ConfigError, match="scene.*story does not have: nowhere"):
        MoviePyEditor(effects={"nowhere": ["MirrorX"]}).cut(_request(tmp_path, "x"))
    with pytest.raises(ConfigError, match="change a scene's length"):
        MoviePyEditor(effects={"a": [{"MultiplySpeed": {"factor": 2}}]}).cut(
            _request(tmp_path, "y"))
