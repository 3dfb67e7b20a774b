"""safety=openai: pictures scored by a loopback moderation endpoint; redraws, then a flag."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.safety.openai import OpenAIPictureModeration
from engine.cache import Cache
from engine.dsl.parse import parse_text
from engine.errors import BackendError, ConfigError
from engine.manifest import Recorder
from engine.stages import screen as screen_stage
from engine.stages.draw import DrawSettings, build_requests, draw
from engine.steps import Step
from tests.backends.llm.loopback_server import LoopbackServer, moderation, status
from tests.configured import configured

CALM = {"sexual": 0.001, "violence": 0.05, "violence/graphic": 0.01, "self-harm": 0.0}
GRIM = CALM | {"violence": 0.42}


def checker(url: str, **settings) -> OpenAIPictureModeration:
    options = {"backoff": 0.01, "timeout": 5.0, "max_retries": 1,
               "thresholds": {"violence": 0.3, "sexual": 0.02}}
    return OpenAIPictureModeration(base_url=url, **(options | settings))


def test_the_picture_is_sent_as_a_png_and_scored_at_child_thresholds():
    picture = Image.new("RGB", (24, 16), (200, 40, 40))
    with LoopbackServer(moderation(CALM), moderation(GRIM)) as server:
        built = checker(server.base_url)
        calm, grim = built.check(picture), built.check(picture)
    assert not calm.flagged
    assert grim.flagged and grim.reason == "moderation: violence 0.42"
    (part,) = server.requests[0]["input"]
    assert part["type"] == "image_url" and server.paths == ["/v1/moderations"] * 2
    data = part["image_url"]["url"].removeprefix("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(data))) as sent:
        assert sent.format == "PNG" and sent.size == (24, 16)


def test_faults_fail_naming_the_safety_settings():
    with LoopbackServer(default=status(503)) as server:
        with pytest.raises(BackendError) as caught:
            checker(server.base_url).check(Image.new("RGB", (8, 8)))
    message = str(caught.value)
    assert "safety=openai" in message and "failed 2 times; last: HTTP 503" in message
    assert "safety.base_url" in message


def test_settings_are_checked_and_the_shipped_thresholds_are_for_children():
    with pytest.raises(ConfigError, match="safety.redraws"):
        OpenAIPictureModeration(redraws=-1)
    built = configured("safety", "openai")
    assert built.redraws == 2 and built.threshold("sexual") <= 0.05
    assert "input" in built.identity() and "sk-" not in repr(built.identity())


def test_a_picture_flagged_after_every_redraw_is_marked_with_its_hash(tmp_path: Path):
    story, _ = parse_text('title: T\nscene a\n  setting: a hill\n  image: a hill\n  "Hi."\n',
                          str(tmp_path / "t.story"))
    requests = build_requests(story, DrawSettings(48, 32, None, 1.0, 1))
    step = Step(Cache(tmp_path / "cache"), Recorder())
    with LoopbackServer(default=moderation(GRIM)) as server:
        built = checker(server.base_url, redraws=2)
        [drawn] = draw(requests, ProceduralIllustrator(), step, safety=built)
    assert len(server.requests) == 3 and len(drawn.candidates) == 3  # a try and two redraws
    [flag] = [f.record() for f in screen_stage.picture_flags([drawn], built, step)]
    assert flag == {"kind": "image", "scene": "a", "line": None, "field": "picture",
                    "source": "writer", "checker": "openai", "category": "unsafe picture",
                    "score": 1.0, "span": None, "text": "moderation: violence 0.42",
                    "sha256": step.digest(drawn.image)}
