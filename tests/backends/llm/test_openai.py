"""llm=openai: the real openai client against a loopback server that answers and fails on demand."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine.backends.llm import CharacterBrief, LineBrief, SceneBrief, WriteRequest
from engine.backends.llm.openai import OpenAIWriter
from engine.errors import BackendError, ConfigError
from tests.backends.planted_key import planted_key_fixtures
from tests.backends.llm.loopback_server import (LoopbackServer, echoing_key, garbage, hang,
                                                refused_url, rejecting_json_schema,
                                                rejecting_max_tokens, reply, status, truncated)

KEY = "sk-test-PLANTED-0123456789"
CONF = Path(__file__).resolve().parents[3] / "conf"

REQUEST = WriteRequest(
    title="The Moon Who Lost Her Glow", audience="3-6", style="soft watercolor", language="en",
    premise=None,
    characters=(CharacterBrief("Luna", "a small silver moon", "child", ("moon", "silver")),
                CharacterBrief("Owl", "a wise old owl", "elder")),
    scenes=(SceneBrief("night-falls", "Night falls", "a quiet village at night", ("Luna", "Owl"),
                       (LineBrief(None, "Every night, Luna lit up the sky."),
                        LineBrief("Luna", "Oh no! Where did my glow go?", "worried"),
                        LineBrief("Owl", None)), None),
            SceneBrief("the-search", None, "a dark forest full of fireflies", (), (),
                       "Luna peeking between pine trees")))

GOOD = {"scenes": [
    {"id": "night-falls", "title": "Night falls", "setting": "a village", "characters": ["Luna"],
     "image": "Luna above moonlit rooftops, an owl on a chimney",
     "lines": [{"speaker": "narrator", "text": "A REWRITTEN author line", "direction": None},
               {"speaker": "Luna", "text": "Oh no!", "direction": "worried"},
               {"speaker": "Owl", "text": "Hoo! Let us look for it together.", "direction": None}]},
    {"id": "the-search", "title": "The search", "setting": "a forest", "characters": ["Luna", "Owl"],
     "image": "ignored: the author wrote this one",
     "lines": [{"speaker": "narrator", "text": "The fireflies blinked hello.", "direction": None},
               {"speaker": "Luna", "text": "Have you seen my glow?", "direction": "softly"}]},
]}


planted_key, all_logs = planted_key_fixtures(KEY)


def writer(url: str, **settings) -> OpenAIWriter:
    options = {"model": "loopback-model", "backoff": 0.01, "timeout": 5.0, "max_retries": 2}
    return OpenAIWriter(base_url=url, **(options | settings))


def test_fills_every_hole_in_one_structured_request():
    with LoopbackServer(reply(GOOD, prompt_tokens=321, completion_tokens=123)) as server:
        result = writer(server.base_url).write(REQUEST)
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent["model"] == "loopback-model" and sent["seed"] == 0
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]["schema"]
    line_speakers = schema["properties"]["scenes"]["items"]["properties"]["lines"]["items"]
    assert line_speakers["properties"]["speaker"]["enum"] == ["narrator", "Luna", "Owl"]
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    prompt = sent["messages"][1]["content"]
    assert "3. Owl: (write this line)" in prompt and '"Oh no! Where did my glow go?"' in prompt
    one, two = result.scenes
    assert [ln.text for ln in one.lines] == ["Every night, Luna lit up the sky.",
                                            "Oh no! Where did my glow go?",
                                            "Hoo! Let us look for it together."]
    assert one.image.startswith("Luna above moonlit rooftops")
    assert two.image == "Luna peeking between pine trees"  # the author's, not the answer's
    assert two.characters == ("Luna", "Owl") and two.lines[1].direction == "softly"
    assert (result.usage.requests, result.usage.prompt_tokens,
            result.usage.completion_tokens) == (1, 321, 123)


def test_premise_is_outlined_then_filled():
    request = WriteRequest("The Brave Little Snail", "3-6", "crayon", "en",
                           "a snail who is afraid of the rain learns to enjoy puddles",
                           (CharacterBrief("Sam", "a tiny green snail", "child"),), (), 2)
    outline = {"scenes": [
        {"id": "grey-sky", "title": "Grey sky", "setting": "a garden", "characters": ["Sam"],
         "image": "Sam under a leaf as clouds gather"},
        {"id": "puddle-fun", "title": "Puddle fun", "setting": "a garden after rain",
         "characters": ["Sam"], "image": "Sam splashing in a puddle"}]}
    fill = {"scenes": [
        {"id": s["id"], "title": s["title"], "setting": s["setting"], "characters": ["Sam"],
         "image": s["image"], "lines": [{"speaker": "narrator", "text": f"{s['title']}.",
                                         "direction": None},
                                        {"speaker": "Sam", "text": "Splish!", "direction": None}]}
        for s in outline["scenes"]]}
    with LoopbackServer(reply(outline), reply(fill)) as server:
        result = writer(server.base_url).write(request)
    assert [r["response_format"]["json_schema"]["name"] for r in server.requests] == \
        ["story_outline", "story_fill"]
    assert "exactly 2 scenes" in server.requests[0]["messages"][1]["content"]
    assert "scene grey-sky" in server.requests[1]["messages"][1]["content"]
    assert [s.id for s in result.scenes] == ["grey-sky", "puddle-fun"]
    assert result.scenes[1].lines[1].text == "Splish!" and result.usage.requests == 2


def test_rate_limit_waits_for_retry_after():
    with LoopbackServer(status(429, {"Retry-After": "1"}), reply(GOOD)) as server:
        started = time.monotonic()
        result = writer(server.base_url).write(REQUEST)
        waited = time.monotonic() - started
    assert len(server.requests) == 2 and result.usage.requests == 2
    assert 1.0 <= waited < 4.0


def test_server_errors_retry_then_fail_clearly(all_logs):
    with LoopbackServer(default=status(500)) as server:
        with pytest.raises(BackendError) as caught:
            writer(server.base_url, max_retries=2).write(REQUEST)
    assert len(server.requests) == 3
    message = str(caught.value)
    assert "llm=openai" in message and "failed 3 times; last: HTTP 500" in message
    assert server.base_url in message and "hint:" in message
    assert sum("retrying in" in r.getMessage() for r in all_logs.records) == 2


def test_a_hang_past_the_timeout_is_retried():
    with LoopbackServer(hang(3.0), reply(GOOD)) as server:
        result = writer(server.base_url, timeout=0.4).write(REQUEST)
    assert len(server.requests) == 2 and result.scenes[0].lines[2].text.startswith("Hoo!")


def test_hangs_every_time_fail_naming_the_timeout():
    with LoopbackServer(default=hang(3.0)) as server:
        with pytest.raises(BackendError, match=r"failed 2 times; last: no answer within 0.3 s"):
            writer(server.base_url, timeout=0.3, max_retries=1).write(REQUEST)


def test_refused_connection_fails_clearly():
    url = refused_url()
    with pytest.raises(BackendError) as caught:
        writer(url, max_retries=1).write(REQUEST)
    assert "failed 2 times; last: cannot connect" in str(caught.value)
    assert "is the server running" in str(caught.value)
    with pytest.raises(BackendError, match="failed once; last: cannot connect"):
        writer(url, max_retries=0).write(REQUEST)


def test_garbage_and_truncated_bodies_are_retried():
    with LoopbackServer(garbage(), truncated(GOOD), reply(GOOD)) as server:
        result = writer(server.base_url).write(REQUEST)
    assert len(server.requests) == 3 and result.usage.requests == 3


def test_invalid_answer_is_retried_with_the_problems():
    broken = json.loads(json.dumps(GOOD))
    broken["scenes"][0]["lines"][2]["text"] = "  "
    broken["scenes"][1]["lines"][0]["speaker"] = "Dragon"
    with LoopbackServer(reply(broken), reply(GOOD)) as server:
        result = writer(server.base_url).write(REQUEST)
    assert len(server.requests) == 2 and result.usage.requests == 2
    retry = server.requests[1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert "scene 'night-falls' line 3 (Owl) text is missing or empty" in retry[3]["content"]
    assert "speaker 'Dragon' is not one of narrator, Luna, Owl" in retry[3]["content"]


def test_cut_off_json_content_is_retried_then_fails_naming_it():
    cut = json.dumps(GOOD)[:200]
    with LoopbackServer(default=reply(cut)) as server:
        with pytest.raises(BackendError) as caught:
            writer(server.base_url, validation_attempts=2).write(REQUEST)
    assert len(server.requests) == 2
    assert "fill answer was still unusable after 2 attempts" in str(caught.value)
    assert "not valid JSON" in str(caught.value) and "cut off" in str(caught.value)


def test_still_invalid_names_what_is_missing():
    partial = {"scenes": [GOOD["scenes"][0] | {"image": ""}]}
    with LoopbackServer(default=reply(partial)) as server:
        with pytest.raises(BackendError) as caught:
            writer(server.base_url).write(REQUEST)
    assert len(server.requests) == 3
    assert "the answer has 1 scenes; exactly 2 are needed" in str(caught.value)
    assert "story 'The Moon Who Lost Her Glow'" in str(caught.value)


def test_falls_back_when_the_server_refuses_json_schema(all_logs):
    with LoopbackServer(default=rejecting_json_schema(reply(GOOD))) as server:
        chosen = writer(server.base_url)
        chosen.write(REQUEST)
        chosen.write(REQUEST)
    kinds = [(r.get("response_format") or {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert any("asking with json_object" in r.getMessage() for r in all_logs.records)


def test_switches_to_max_completion_tokens_when_asked():
    with LoopbackServer(default=rejecting_max_tokens(reply(GOOD))) as server:
        writer(server.base_url, temperature=None).write(REQUEST)
    assert len(server.requests) == 2
    assert server.requests[1]["max_completion_tokens"] == 4096
    assert "max_tokens" not in server.requests[1] and "temperature" not in server.requests[1]
    assert server.requests[1]["response_format"]["type"] == "json_schema"


def test_plain_mode_sends_no_response_format():
    with LoopbackServer(reply(GOOD)) as server:
        writer(server.base_url, structured="none").write(REQUEST)
    assert "response_format" not in server.requests[0]
    assert "Answer with one JSON object" in server.requests[0]["messages"][1]["content"]


def test_an_authentication_error_is_not_retried():
    with LoopbackServer(default=status(401, message="bad key")) as server:
        with pytest.raises(BackendError, match="answered 401: bad key"):
            writer(server.base_url).write(REQUEST)
    assert len(server.requests) == 1


def test_a_key_the_server_echoes_is_masked_in_errors_logs_and_retries():
    with LoopbackServer(default=echoing_key()) as server:
        with pytest.raises(BackendError) as caught:
            writer(server.base_url).write(REQUEST)
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    assert len(server.requests) == 3
    assert ("the fill answer was still unusable after 3 attempts: the answer is not JSON "
            "(it starts 'Bearer ***')") in str(caught.value)
    assert server.requests[1]["messages"][2] == {"role": "assistant", "content": "Bearer ***"}


def test_a_key_echoed_in_an_http_error_is_masked():
    with LoopbackServer(default=status(401, message=f"bad key: Bearer {KEY}")) as server:
        with pytest.raises(BackendError, match=r"answered 401: bad key: Bearer \*\*\*\n  hint:"):
            writer(server.base_url).write(REQUEST)
    assert len(server.requests) == 1


def test_a_key_from_a_variable_of_any_name_is_masked(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MY_LLM_KEY", "sk-other-key-4242")
    with LoopbackServer(default=echoing_key()) as server:
        with pytest.raises(BackendError) as caught:
            writer(server.base_url, api_key_env="MY_LLM_KEY").write(REQUEST)
    assert server.headers[0]["authorization"] == "Bearer sk-other-key-4242"
    assert "sk-other-key-4242" not in str(caught.value) and "'Bearer ***'" in str(caught.value)


def test_without_a_key_the_official_api_is_not_called(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(BackendError, match="OPENAI_API_KEY is not set"):
        OpenAIWriter().write(REQUEST)


def test_a_local_server_needs_no_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with LoopbackServer(reply(GOOD)) as server:
        writer(server.base_url).write(REQUEST)
    assert server.headers[0]["authorization"] == "Bearer unused"


def test_key_variable_is_configurable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MY_LLM_KEY", "sk-other-key-4242")
    with LoopbackServer(reply(GOOD)) as server:
        writer(server.base_url, api_key_env="MY_LLM_KEY").write(REQUEST)
    assert server.headers[0]["authorization"] == "Bearer sk-other-key-4242"


def test_unknown_structured_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="llm.structured"):
        OpenAIWriter(structured="xml")


def test_the_key_never_reaches_config_identity_or_errors(tmp_path: Path):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from engine.config import build_backend, register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=["llm=openai", "story=moon.story",
                                           "llm.base_url=http://127.0.0.1:9/v1"],
                      return_hydra_config=True)
    dumped = tmp_path / "config.yaml"
    dumped.write_text(OmegaConf.to_yaml(cfg, resolve=False), encoding="utf-8")
    built = build_backend("llm", cfg.llm)
    assert isinstance(built, OpenAIWriter)
    assert built.api_key_env == "OPENAI_API_KEY" and built.base_url == "http://127.0.0.1:9/v1"
    (tmp_path / "identity.json").write_text(json.dumps(built.identity()), encoding="utf-8")
    with pytest.raises(BackendError) as caught:
        built.max_retries, built.backoff = 0, 0.0
        built.write(REQUEST)
    texts = [str(caught.value), repr(built), json.dumps(built.identity())]
    texts += [p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()]
    assert all(KEY not in text for text in texts)
    assert "OPENAI_API_KEY" in dumped.read_text(encoding="utf-8")


def test_identity_has_no_credentials_even_in_the_url():
    chosen = OpenAIWriter(base_url="https://user:secret@llm.example:8443/v1?api-key=secret")
    identity = chosen.identity()
    assert identity["base_url"] == "https://llm.example:8443/v1"
    assert "secret" not in json.dumps(identity) and KEY not in json.dumps(identity)


@pytest.mark.slow
def test_a_render_with_openai_writes_the_key_nowhere(tmp_path: Path):
    import os
    import subprocess
    import sys

    story = tmp_path / "moon.story"
    story.write_text('title: Moon\naudience: 3-6\n\ncharacter Owl\n  description: a wise owl\n\n'
                     'scene night\n  setting: a village at night\n  "The night was quiet."\n'
                     '  Owl: ...\n', encoding="utf-8")
    answer = {"scenes": [{"id": "night", "title": "Night", "setting": "a village",
                          "characters": ["Owl"], "image": "an owl on a moonlit roof",
                          "lines": [{"speaker": "narrator", "text": "x", "direction": None},
                                    {"speaker": "Owl", "text": "Hoo!", "direction": None}]}]}
    run, cache = tmp_path / "run", tmp_path / "cache"
    with LoopbackServer(reply(answer, prompt_tokens=210, completion_tokens=40)) as server:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "render", str(story), "llm=openai",
             f"llm.base_url={server.base_url}", "render.width=320", "render.height=180",
             "render.fps=12", f"hydra.run.dir={run}", f"cache.dir={cache}"],
            cwd=CONF.parent, env={**os.environ, "OPENAI_API_KEY": KEY}, capture_output=True,
            text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 1
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["llm_usage"] == {"requests": 1, "prompt_tokens": 210, "completion_tokens": 40,
                                     "reused": False}
    assert 'Owl: "Hoo!"' in (run / "resolved.story").read_text(encoding="utf-8")
    assert (run / ".hydra" / "config.yaml").is_file()
    for path in [p for p in tmp_path.rglob("*") if p.is_file()]:
        assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"
    assert KEY not in done.stdout + done.stderr
    assert "llm: 1 requests, 210 prompt + 40 completion tokens" in done.stderr
