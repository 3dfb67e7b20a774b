"""Autouse fixtures for tests of backends that read OPENAI_API_KEY: a planted key, never logged."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest


def planted_key_fixtures(key: str) -> tuple[Callable[..., None], Callable[..., Iterator]]:
    """`planted_key, all_logs = planted_key_fixtures(KEY)` in a test module: the environment
    holds `key`, every log line at DEBUG is kept, and none of them may hold the key."""

    @pytest.fixture(autouse=True)
    def planted_key(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", key)

    @pytest.fixture(autouse=True)
    def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
        caplog.set_level(logging.DEBUG)
        yield caplog
        assert key not in caplog.text, "the API key reached a log line"

    return planted_key, all_logs
