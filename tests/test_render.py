"""End to end: `storyreel render` on the offline defaults, read back like a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["render.width=320", "render.height=180", "render.fps=12"]


def storyreel(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render")
    done = storyreel("render", "stories/first-snow.story", *SMALL,
                     f"hydra.run.dir={out / 'run'}", f"cache.dir={out / 'cache'}")
    assert done.returncode == 0, done.stderr
    assert str(out / "run" / "video.mp4") in done.stderr.replace("\n", "")
    return out / "run"


def test_run_folder_has_every_output(run: Path):
    for name in ("video.mp4", "captions.srt", "captions.vtt", "captions.words.vtt",
                 "storyboard.html", "resolved.story", "manifest.json"):
        assert (run / name).is_file(), name
    assert not [p for p in run.rglob("*") if p.name.endswith((".tmp", ".part"))]


def test_video_streams_and_duration_match_the_timeline(run: Path):
    manifest = json.loads((run / "manifest.json").read_text())
    with av.open(str(run / "video.mp4")) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (320, 180)
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac" and audio.codec_context.sample_rate == 48000
        duration = float(container.duration) / 1_000_000
    assert abs(duration - manifest["duration"]) < 0.1


def test_manifest_lists_every_artifact_made_on_a_cold_run(run: Path):
    manifest = json.loads((run / "manifest.json").read_text())
    stages = {a["stage"] for a in manifest["artifacts"]}
    assert {"draw", "speak", "cut"} <= stages
    assert all(a["made"] for a in manifest["artifacts"])
    assert all(len(a["sha256"]) == 64 for a in manifest["artifacts"])


def test_resolved_story_passes_check(run: Path):
    done = storyreel("check", str(run / "resolved.story"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_storyboard_shows_every_scene_and_line(run: Path):
    page = (run / "storyboard.html").read_text()
    resolved = (run / "resolved.story").read_text()
    assert page.count("<section class=scene") == resolved.count("\nscene ")
    assert (run / "scenes").is_dir() and (run / "audio").is_dir()


def test_bad_story_prints_diagnostics_without_traceback(tmp_path: Path):
    bad = tmp_path / "bad.story"
    bad.write_text('title: Bad\nscene a\n  Nobody: "hi"\n')
    done = storyreel("render", str(bad), f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 2
    assert "bad.story:3:3: error" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_story_repository_brings_its_own_presets(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "conf" / "video").mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "conf" / "video" / "tiny.yaml").write_text(
        "defaults:\n  - ffmpeg\nwidth: 96\nheight: 64\n")
    story = repo / "stories" / "one.story"
    story.parent.mkdir()
    story.write_text('title: One\nscene a\n  image: a hill\n  "Hello."\n')
    done = storyreel("render", str(story), "video=tiny", "--cfg", "job")
    assert done.returncode == 0, done.stderr
    assert "width: 96" in done.stdout and "height: 64" in done.stdout


def test_karaoke_captions_follow_espeaks_word_events(run: Path):
    import webvtt

    plain, karaoke = (webvtt.read(str(run / name)) for name in ("captions.vtt",
                                                                "captions.words.vtt"))
    assert [(c.start, c.end, c.text) for c in plain] == [(c.start, c.end, c.text) for c in karaoke]
    for cue in karaoke:
        stamps = re.findall(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", cue.raw_text)
        assert stamps == sorted(set(stamps)) and all(cue.start < s < cue.end for s in stamps)
        assert len(stamps) >= len(cue.text.split()) - 2  # about one a word after the first


def test_a_bad_setting_is_one_line_not_a_traceback(tmp_path: Path):
    done = storyreel("render", "stories/first-snow.story", "seed=abc",
                     f"hydra.run.dir={tmp_path / 'run'}", f"cache.dir={tmp_path / 'cache'}")
    assert done.returncode == 2  # a bad setting is the user's mistake, found before any stage
    assert done.stderr == "storyreel render: seed=abc is not allowed: it must be a whole number " \
                          "of 0 or more, or null\n"


def test_speaker_names_reach_the_caption_files_when_asked(tmp_path: Path):
    done = storyreel("render", "stories/first-snow.story", "render.width=96", "render.height=64",
                     "render.caption_speakers=true", f"hydra.run.dir={tmp_path / 'run'}",
                     f"cache.dir={tmp_path / 'cache'}")
    assert done.returncode == 0, done.stderr
    assert "Pip: " in (tmp_path / "run" / "captions.srt").read_text()
    assert "<v Pip>" in (tmp_path / "run" / "captions.vtt").read_text()


def test_story_paths_with_quotes_and_equals_signs(tmp_path: Path):
    odd = tmp_path / "a=b's" / "snow.story"
    odd.parent.mkdir()
    odd.write_text((ROOT / "stories" / "first-snow.story").read_text())
    done = storyreel("render", str(odd), "--cfg", "job")
    assert done.returncode == 0, done.stderr
    assert "a=b's" in done.stdout


def test_a_failing_backend_names_itself_and_leaves_no_video(tmp_path: Path):
    done = storyreel("render", "stories/first-snow.story", "image=diffusers",
                     f"image.model={tmp_path / 'no-such-model'}", *SMALL,
                     f"hydra.run.dir={tmp_path / 'run'}", f"cache.dir={tmp_path / 'cache'}")
    assert done.returncode == 1
    assert "error:" in done.stderr and "no-such-model" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run" / "video.mp4").exists()
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_the_cuts_key_names_the_narrations_aac_encoder(tmp_path: Path, monkeypatch):
    """The narration's AAC comes from PyAV's libavcodec, not the editor's ffmpeg binary: a new
    PyAV must re-cut, never serve a video whose soundtrack it did not encode."""
    from types import SimpleNamespace

    import engine.render as render
    from engine.config import compose_config, timeline_settings
    from engine.dsl.parse import parse_text
    from engine.cut_scenes import cut_scenes

    story, _ = parse_text('scene a\n  "Hello."\n', str(tmp_path / "t.story"))
    (tmp_path / "a.png").write_bytes(b"png")
    requests = []
    step = SimpleNamespace(digest=lambda path: "digest",
                           run=lambda stage, version, request, *rest, **named:
                           requests.append(request))
    settings = SimpleNamespace(width=320, height=180, fps=25, caption_speakers=False, mix=None,
                               timeline=timeline_settings(compose_config()))
    for version in ("pyav 1, libavcodec 1.0.0", "pyav 2, libavcodec 1.0.0"):
        monkeypatch.setattr(render, "libav_version", lambda: version)
        scenes = cut_scenes(story, [SimpleNamespace(image=tmp_path / "a.png")], [])
        render._cut(story, scenes, editor=None, settings=settings, step=step,
                    cache=SimpleNamespace(root=tmp_path))
    assert [r["narration_encoder"] for r in requests] == ["pyav 1, libavcodec 1.0.0",
                                                          "pyav 2, libavcodec 1.0.0"]
    assert {k: v for k, v in requests[0].items() if k != "narration_encoder"} == \
        {k: v for k, v in requests[1].items() if k != "narration_encoder"}


def test_a_wordless_scene_shows_its_picture_for_its_duration_with_music_and_no_captions(
        tmp_path: Path):
    import webvtt

    story = tmp_path / "sea.story"
    shutil.copyfile(ROOT / "stories" / "music" / "lullaby.wav", tmp_path / "bed.wav")
    story.write_text('title: Sea\nmusic: bed.wav\nscene shore\n  setting: a beach\n'
                     '  "The tide came in."\nscene night-sea\n  setting: the sea at night\n'
                     '  duration: 5\n  lines: none\nscene home\n  "And then, home."\n')
    done = storyreel("render", str(story), *SMALL, f"hydra.run.dir={tmp_path / 'run'}",
                     f"cache.dir={tmp_path / 'cache'}")
    assert done.returncode == 0, done.stderr
    run = tmp_path / "run"
    manifest = json.loads((run / "manifest.json").read_text())
    scenes = {scene["id"]: scene for scene in manifest["scenes"]}
    assert scenes["night-sea"]["lines"] == [] and scenes["night-sea"]["picture"]
    first, last = webvtt.read(str(run / "captions.vtt"))
    assert (first.text, last.text) == ("The tide came in.", "And then, home.")
    assert last.start_in_seconds - first.end_in_seconds >= 5.0  # the wordless scene between
    assert "lines: none" in (run / "resolved.story").read_text()
