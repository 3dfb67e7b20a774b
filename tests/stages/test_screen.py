"""The screen stage: what is checked and who wrote it, flags as manifest.json carries them, the
picture the safety check kept flagged, and a render that ends by asking for a review."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.backends.llm.offline import OfflineWriter
from engine.backends.safety_text.wordlist import WordlistChecker
from engine.cache import Cache
from engine.dsl.parse import parse_text
from engine.manifest import Recorder
from engine.stages import screen as screen_stage
from engine.stages import write as write_stage
from engine.steps import Step

ROOT = Path(__file__).resolve().parents[2]
FLAG_KEYS = ["kind", "scene", "line", "field", "source", "checker", "category", "score", "span",
             "text", "sha256"]
STORY = '''title: The Pirate Fox
character Pip
  description: a small red fox
scene deck
  setting: a ship's deck at sunset
  image: Pip waving a knife on deck
  "Pip found a map."
  Pip: "Give me that map or I kill you!"
scene shore
  setting: a sandy shore near the meadow
  "They sailed home."
  Pip: ...
'''


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def written(tmp_path: Path):
    story, problems = parse_text(STORY, str(tmp_path / "fox.story"))
    assert not problems
    step = Step(Cache(tmp_path / "cache"), Recorder())
    return story, write_stage.write_cached(story, OfflineWriter(), step).story, step


def test_every_line_and_image_prompt_is_checked_with_who_wrote_it(written):
    story, filled, _ = written
    items = screen_stage.texts(story, filled)
    shore = filled.scene("shore")
    assert [(t.scene, t.line, t.field, t.source) for t in items] == [
        ("deck", None, "image_prompt", "author"), ("deck", 0, "line", "author"),
        ("deck", 1, "line", "author"),
        ("shore", None, "image_prompt", "writer"), ("shore", 0, "line", "author"),
        ("shore", 1, "line", "writer")]
    assert items[3].text == shore.text("image") and items[5].text == shore.lines[1].text


def test_flags_carry_the_span_the_text_and_its_hash_and_are_cached(written, tmp_path: Path):
    story, filled, step = written
    checker = WordlistChecker(root=str(tmp_path))
    flags = screen_stage.screen(screen_stage.texts(story, filled), checker, step, "en")
    line = "Give me that map or I kill you!"
    prompt = "Pip waving a knife on deck"
    assert [f.record() for f in flags] == [
        {"kind": "text", "scene": "deck", "line": None, "field": "image_prompt",
         "source": "author", "checker": "wordlist", "category": "weapons", "score": 1.0,
         "span": [prompt.index("knife"), prompt.index("knife") + 5], "text": prompt, "sha256": sha(prompt)},
        {"kind": "text", "scene": "deck", "line": 1, "field": "line", "source": "author",
         "checker": "wordlist", "category": "violence", "score": 1.0,
         "span": [line.index("kill"), line.index("kill") + 4], "text": line, "sha256": sha(line)}]
    assert list(flags[0].record()) == FLAG_KEYS
    again = Step(step.cache, Recorder())
    assert screen_stage.screen(screen_stage.texts(story, filled), checker, again, "en") == flags
    assert {a.stage for a in again.recorder.artifacts} == {"screen"}
    assert not any(a.made for a in again.recorder.artifacts)


def test_a_secret_in_a_flagged_text_is_masked_but_hashed_as_written(
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STORY_API_KEY", "sk-planted-secret-42")
    text = "a gun and sk-planted-secret-42"
    flag = screen_stage.Flag("text", "a", 0, "line", "author", "wordlist", "weapons", 1.0,
                             (2, 5), text, sha(text))
    assert flag.record()["text"] == "a gun and ***" and flag.record()["sha256"] == sha(text)


@pytest.mark.slow  # torch and a CLIP safety checker
def test_a_picture_still_flagged_after_its_redraws_is_marked(tmp_path: Path):
    pytest.importorskip("transformers")
    from engine.backends.image.procedural import ProceduralIllustrator
    from engine.backends.safety.diffusers import DiffusersSafetyChecker
    from engine.stages.draw import DrawSettings, build_requests, draw
    from tests.tiny_models import tiny_safety

    story, _ = parse_text(STORY.replace("  Pip: ...\n", ""), str(tmp_path / "fox.story"))
    requests = build_requests(story, DrawSettings(64, 48, None, 1.0, 1))
    step = Step(Cache(tmp_path / "cache"), Recorder())
    strict = DiffusersSafetyChecker(str(tiny_safety(True)), redraws=1)
    drawn = draw(requests, ProceduralIllustrator(), step, safety=strict)
    flags = [f.record() for f in screen_stage.picture_flags(drawn, strict, step)]
    assert flags == [
        {"kind": "image", "scene": d.scene_id, "line": None, "field": "picture",
         "source": "writer", "checker": "diffusers", "category": "unsafe picture", "score": 1.0,
         "span": None, "text": d.review,
         "sha256": hashlib.sha256(d.image.read_bytes()).hexdigest()} for d in drawn]
    lenient = DiffusersSafetyChecker(str(tiny_safety(False)))
    passed = draw(requests, ProceduralIllustrator(), step, safety=lenient)
    assert screen_stage.picture_flags(passed, lenient, step) == []


def test_a_render_writes_the_flags_and_ends_asking_for_a_review(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "safety").mkdir()
    (repo / "safety" / "deny.txt").write_text("[setting]\nmeadow\n")  # in the writer's prompt
    (repo / "fox.story").write_text(STORY)
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", str(repo / "fox.story"),
         "render.width=160", "render.height=90", "render.fps=8", f"hydra.run.dir={run}",
         f"cache.dir={tmp_path / 'cache'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run / "video.mp4").is_file()
    manifest = json.loads((run / "manifest.json").read_text())
    flags = manifest["flags"]
    assert all(list(f) == FLAG_KEYS for f in flags)
    assert [(f["scene"], f["line"], f["field"], f["source"], f["category"]) for f in flags] == [
        ("deck", None, "image_prompt", "author", "weapons"),
        ("deck", 1, "line", "author", "violence"),
        ("shore", None, "image_prompt", "writer", "setting")]
    for flag in flags:
        start, end = flag["span"]
        assert flag["sha256"] == sha(flag["text"]) and flag["checker"] == "wordlist"
        assert flag["text"][start:end].lower() in {"knife", "kill", "meadow"}
    resolved = (run / "resolved.story").read_text()
    assert flags[2]["text"] in resolved  # the writer's prompt, as the story now reads
    assert "Give me that map or I kill you!" in resolved  # flagged, never changed
    assert manifest["backends"]["safety_text"]["backend"] == "wordlist"
    assert f"\n3 safety flags: review before publishing (storyreel review {run})\n" in done.stderr
    assert_the_flags_hold_publishing_until_accepted(run, tmp_path / "out")


def assert_the_flags_hold_publishing_until_accepted(run: Path, out: Path) -> None:
    """`storyreel review` and `publish` read the flags: approving needs --accept-flagged."""
    def storyreel(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, text=True,
                              capture_output=True, timeout=120)

    assert storyreel("publish", str(run), "--to", str(out)).returncode == 2
    assert storyreel("review", str(run), "--approve", "all", "--reviewer", "t").returncode != 0
    accepted = storyreel("review", str(run), "--approve", "all", "--accept-flagged",
                         "--reviewer", "t")
    assert accepted.returncode == 0, accepted.stderr
    published = storyreel("publish", str(run), "--to", str(out))
    assert published.returncode == 0, published.stderr
    assert (out / "video.mp4").is_file()


def test_the_review_command_it_suggests_can_be_pasted_into_a_shell():
    from engine.stages.screen import summary

    run = Path("/stories/renders/my story, part 1/2026-12-02")
    assert summary([object()], run) == ("1 safety flag: review before publishing (storyreel review "
                                        "'/stories/renders/my story, part 1/2026-12-02')")
