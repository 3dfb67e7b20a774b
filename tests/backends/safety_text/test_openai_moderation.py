"""safety_text=openai against a loopback OpenAI-compatible server: child thresholds on
category_scores, and every fault as a clear BackendError."""

from __future__ import annotations


import pytest

from engine.backends.safety_text import TextCheckRequest, TextFlag
from engine.backends.safety_text.openai import OpenAIModeration
from engine.errors import BackendError, ConfigError
from tests.backends.planted_key import planted_key_fixtures
from tests.backends.llm.loopback_server import (LoopbackServer, echoing_key, garbage,
                                                moderation, refused_url, status, truncated)
from tests.configured import configured

KEY = "sk-test-PLANTED-moderation-0123456789"
CALM = {"sexual": 0.0001, "violence": 0.02, "violence/graphic": 0.001, "self-harm/intent": 0.0}


planted_key, all_logs = planted_key_fixtures(KEY)


def checker(url: str, **settings) -> OpenAIModeration:
    options = {"backoff": 0.01, "timeout": 5.0, "max_retries": 2,
               "thresholds": {"violence": 0.3, "violence/graphic": 0.1, "self-harm/intent": 0.05}}
    return OpenAIModeration(base_url=url, **(options | settings))


def check(url: str, text: str = "The wolf chased the pigs.", **settings) -> tuple[TextFlag, ...]:
    return checker(url, **settings).check(TextCheckRequest(text))


def test_scores_below_every_threshold_flag_nothing():
    with LoopbackServer(moderation(CALM)) as server:
        assert check(server.base_url) == ()
    (request,) = server.requests
    assert server.paths == ["/v1/moderations"]
    assert request["model"] == "omni-moderation-latest"
    assert request["input"] == "The wolf chased the pigs."


def test_child_thresholds_flag_what_the_endpoint_itself_does_not():
    scores = CALM | {"violence": 0.35, "self-harm/intent": 0.06}
    with LoopbackServer(moderation(scores, flagged=False)) as server:
        flags = check(server.base_url)
    assert flags == (TextFlag("self-harm/intent", 0.06), TextFlag("violence", 0.35))


def test_a_category_without_its_own_threshold_takes_the_default():
    with LoopbackServer(moderation(CALM | {"harassment": 0.12})) as server:
        assert check(server.base_url, default_threshold=0.1) == (TextFlag("harassment", 0.12),)


def test_the_shipped_thresholds_are_lower_for_children_than_the_endpoints_flagged():
    built = configured("safety_text", "openai")
    assert built.model == "omni-moderation-latest"
    assert built.threshold("sexual/minors") <= 0.01 and built.threshold("violence") < 0.5
    assert all(t < 0.5 for t in built.thresholds.values())


def test_a_rate_limit_and_a_server_error_are_retried():
    with LoopbackServer(status(429, {"Retry-After": "0.05"}), status(500),
                        moderation(CALM | {"violence/graphic": 0.5})) as server:
        flags = check(server.base_url)
    assert len(server.requests) == 3 and flags == (TextFlag("violence/graphic", 0.5),)


def test_server_errors_every_time_fail_clearly(all_logs):
    with LoopbackServer(default=status(500)) as server:
        with pytest.raises(BackendError) as caught:
            check(server.base_url)
    message = str(caught.value)
    assert len(server.requests) == 3
    assert "safety_text=openai" in message and "failed 3 times; last: HTTP 500" in message
    assert "safety_text.base_url" in message and "safety_text.max_retries" in message
    assert sum("retrying in" in r.getMessage() for r in all_logs.records) == 2


def test_rate_limits_every_time_fail_clearly():
    with LoopbackServer(default=status(429, {"Retry-After": "0"})) as server:
        with pytest.raises(BackendError, match="failed 2 times; last: HTTP 429"):
            check(server.base_url, max_retries=1)


def test_garbage_and_truncated_answers_are_retried_then_fail_naming_them():
    with LoopbackServer(garbage(), truncated("{}"), moderation(CALM)) as server:
        assert check(server.base_url) == ()
    assert len(server.requests) == 3
    with LoopbackServer(default=garbage()) as server:
        with pytest.raises(BackendError, match=r"failed 3 times; last: unusable answer"):
            check(server.base_url)


def test_a_chat_completion_is_no_moderation_result():
    with LoopbackServer(default=echoing_key("not scores")) as server:
        with pytest.raises(BackendError, match=r"unusable answer \(no"):
            check(server.base_url, max_retries=0)


def test_a_refused_request_is_not_retried():
    with LoopbackServer(default=status(400, message="input too long")) as server:
        with pytest.raises(BackendError, match=r"answered HTTP 400: input too long"):
            check(server.base_url)
    assert len(server.requests) == 1


def test_a_bad_key_is_one_clear_error_with_the_key_masked():
    with LoopbackServer(default=status(401, message=f"bad key {KEY}")) as server:
        with pytest.raises(BackendError) as caught:
            check(server.base_url)
    assert "answered 401: bad key ***" in str(caught.value) and KEY not in str(caught.value)
    assert "check OPENAI_API_KEY, safety_text.model" in str(caught.value)


def test_a_refused_connection_fails_clearly():
    with pytest.raises(BackendError, match="failed 2 times; last: cannot connect"):
        check(refused_url(), max_retries=1)


def test_without_a_key_the_official_api_is_not_called(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(BackendError, match="(?s)OPENAI_API_KEY is not set.*safety_text.api_key_env"):
        OpenAIModeration().check(TextCheckRequest("hello"))


def test_the_key_goes_in_the_header_and_never_in_the_identity():
    with LoopbackServer(moderation(CALM)) as server:
        checker(server.base_url).check(TextCheckRequest("hi"))
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    built = checker("http://user:pw@127.0.0.1:9/v1?api-key=x")
    identity = repr(built.identity()) + repr(built)
    assert KEY not in identity and "pw" not in identity and "api-key" not in identity


def test_thresholds_outside_zero_to_one_are_a_config_error():
    with pytest.raises(ConfigError, match="safety_text.thresholds"):
        OpenAIModeration(thresholds={"violence": 1.5})
