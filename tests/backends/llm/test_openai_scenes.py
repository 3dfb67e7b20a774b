"""llm=openai scene by scene: one request per scene with a hole, each answer cached on its own,
schemas that carry the counts; the real openai client against a 127.0.0.1 server."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.backends.llm import CharacterBrief, LineBrief, SceneBrief, WriteRequest
from engine.backends.llm.answers import MAX_LINES_PER_SCENE, fill_schema
from engine.backends.llm.openai import OpenAIWriter
from engine.cache import Cache
from engine.dsl.parse import parse_text
from engine.errors import BackendError
from engine.manifest import Recorder
from engine.stages.write import write_cached
from engine.steps import Step
from tests.backends.llm.loopback_server import JSON, LoopbackServer, completion_body, reply
from tests.backends.planted_key import planted_key_fixtures

KEY = "sk-test-PLANTED-scenes-0123456789"
ROOT = Path(__file__).resolve().parents[3]

planted_key, all_logs = planted_key_fixtures(KEY)


def story_text(owl_line: str = '"The owl blinked."') -> str:
    return f'''title: Moon
audience: 3-6
character Luna
  description: a small silver moon
character Owl
  description: a wise old owl
scene village
  setting: a village at night
  with: Luna
  "The night was quiet."
  Luna: ...
scene forest
  setting: a dark forest
  with: Luna, Owl
  {owl_line}
  Owl: ...
scene lake
  setting: a still lake
  with: Luna
  image: Luna reflected in the lake
  "The lake held the moon."
scene home
  setting: the sky at dawn
  with: Luna, Owl
'''


LINES = {"village": [("narrator", "x"), ("Luna", "Where is my glow?")],
         "forest": [("narrator", "x"), ("Owl", "Hoo! Follow me.")],
         "home": [("narrator", "Dawn came softly."), ("Luna", "I shine again!")]}


def scene_answers() -> Any:
    """Answers whichever scene a request's schema asks for; each image prompt says which
    request wrote it (so a re-asked scene gets a new picture)."""
    counter = itertools.count(1)

    def behave(request: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        schema = request["response_format"]["json_schema"]["schema"]
        scene_id = schema["properties"]["scenes"]["items"]["properties"]["id"]["enum"][0]
        lines = [{"speaker": who, "text": text, "direction": None}
                 for who, text in LINES[scene_id]]
        answer = {"scenes": [{"id": scene_id, "title": scene_id.title(), "setting": "",
                              "characters": [], "lines": lines,
                              "image": f"Luna in the {scene_id}, picture {next(counter)}"}]}
        return 200, JSON, completion_body(json.dumps(answer), 100, 20)
    return behave


def written(text: str, cache: Path, url: str):
    story, problems = parse_text(text, "/repo/moon.story")
    assert not problems
    step = Step(Cache(cache), Recorder())
    writer = OpenAIWriter(model="loopback-model", base_url=url, backoff=0.01, max_retries=1)
    return write_cached(story, writer, step), step


def asked_scene(request: dict[str, Any]) -> str:
    schema = request["response_format"]["json_schema"]["schema"]
    return schema["properties"]["scenes"]["items"]["properties"]["id"]["enum"][0]


def test_each_scene_with_a_hole_is_asked_alone_and_an_edit_re_asks_only_its_scene(
        tmp_path: Path):
    with LoopbackServer(default=scene_answers()) as server:
        first, _ = written(story_text(), tmp_path, server.base_url)
        assert [asked_scene(r) for r in server.requests] == ["village", "forest", "home"]
        prompt = server.requests[1]["messages"][1]["content"]
        assert "scene village  (another scene: context only)" in prompt
        assert "setting: a still lake" in prompt  # the whole story's outline, as context
        assert "The night was quiet" not in prompt  # but no other scene's lines
        assert '"The owl blinked."' in prompt and "2. Owl: (write this line)" in prompt
        assert first.usage.requests == 3
        edited, step = written(story_text('"The owl blinked twice."'), tmp_path,
                               server.base_url)
        assert [asked_scene(r) for r in server.requests[3:]] == ["forest"]
        again, _ = written(story_text('"The owl blinked twice."'), tmp_path, server.base_url)
        assert len(server.requests) == 4  # nothing changed: every answer from the cache
    images = [{s.id: s.text("image") for s in w.story.scenes} for w in (first, edited, again)]
    assert images[0]["forest"] != images[1]["forest"] == images[2]["forest"]
    assert {k: v for k, v in images[0].items() if k != "forest"} == \
        {k: v for k, v in images[1].items() if k != "forest"}
    assert images[0]["lake"] == "Luna reflected in the lake"
    assert [(a.stage, a.name, a.made) for a in step.recorder.artifacts] == [
        ("write", "village", False), ("write", "forest", True), ("write", "home", False)]


def test_the_schemas_carry_the_counts():
    request = WriteRequest("Moon", "3-6", "", "en", None,
                           (CharacterBrief("Luna", "a moon", "child"),), (), scene_count=3)
    with LoopbackServer(reply({"scenes": []})) as server:
        with pytest.raises(BackendError, match="outline answer was still unusable"):
            OpenAIWriter(base_url=server.base_url, max_retries=0,
                         validation_attempts=1).write(request)
    outline = server.requests[0]["response_format"]["json_schema"]["schema"]
    scenes = outline["properties"]["scenes"]
    assert (scenes["minItems"], scenes["maxItems"]) == (3, 3)
    assert scenes["items"]["properties"]["characters"]["maxItems"] == 1

    given = SceneBrief("a", None, None, (), (LineBrief(None, "Hi."), LineBrief("Luna", None)),
                       None)
    empty = SceneBrief("b", None, None, (), (), None)
    one = fill_schema(WriteRequest("Moon", "3-6", "", "en", None, request.characters, (given,)))
    lines = one["properties"]["scenes"]["items"]["properties"]["lines"]
    assert (one["properties"]["scenes"]["maxItems"], lines["minItems"], lines["maxItems"]) == \
        (1, 2, 2)
    both = fill_schema(WriteRequest("Moon", "3-6", "", "en", None, request.characters,
                                    (given, empty)))
    lines = both["properties"]["scenes"]["items"]["properties"]["lines"]
    assert (lines["minItems"], lines["maxItems"]) == (1, MAX_LINES_PER_SCENE)


@pytest.mark.slow
def test_a_render_after_editing_one_line_asks_once_and_redraws_no_other_scene(tmp_path: Path):
    story, cache = tmp_path / "moon.story", tmp_path / "cache"

    def render(run: str, url: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "render", str(story), "llm=openai",
             f"llm.base_url={url}", "render.width=160", "render.height=90", "render.fps=8",
             f"hydra.run.dir={tmp_path / run}", f"cache.dir={cache}"],
            cwd=ROOT, env={**os.environ, "OPENAI_API_KEY": KEY}, capture_output=True,
            text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads((tmp_path / run / "manifest.json").read_text(encoding="utf-8"))

    with LoopbackServer(default=scene_answers()) as server:
        story.write_text(story_text(), encoding="utf-8")
        render("cold", server.base_url)
        assert len(server.requests) == 3
        story.write_text(story_text('"The owl blinked twice."'), encoding="utf-8")
        manifest = render("edited", server.base_url)
        assert [asked_scene(r) for r in server.requests[3:]] == ["forest"]
    made = {(a["stage"], a["name"]) for a in manifest["artifacts"] if a["made"]}
    assert {name for stage, name in made if stage == "draw"} == {"forest#0"}
    assert {name for stage, name in made if stage == "write"} == {"forest"}
