"""engine.secrets: every configured key masked in messages, log lines, printed text and answers."""

from __future__ import annotations

import io
import logging

import pytest

from engine import secrets
from engine.secrets import MASK, MaskedStream, MaskingFilter, clip, mask, register

KEY = "sk-planted-0123456789abcdef"
OTHER = "gsk-another-planted-4242"


@pytest.fixture(autouse=True)
def planted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("GROQ_API_KEY", OTHER)
    monkeypatch.setattr(secrets, "_registered", set())


def test_every_api_key_variable_is_masked():
    assert mask(f"Bearer {KEY} and {OTHER}.") == f"Bearer {MASK} and {MASK}."


def test_tokens_and_registered_keys_are_masked_too(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_TOKEN", "hf_planted_token_77")
    register("  my-own-variable-key-99 \n")
    assert mask("hf_planted_token_77 / my-own-variable-key-99") == f"{MASK} / {MASK}"


def test_short_values_and_other_variables_are_left_alone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOCAL_API_KEY", "unused")
    monkeypatch.setenv("EDITOR", "vim-with-a-long-name")
    register("1234")
    assert mask("unused vim-with-a-long-name 1234") == "unused vim-with-a-long-name 1234"


def test_a_key_containing_another_is_masked_whole(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHORT_API_KEY", KEY[:12])
    assert mask(f"<{KEY}>") == f"<{MASK}>"


def test_a_cut_never_leaves_half_a_key():
    text = f"the answer starts Bearer {KEY} and goes on"
    assert clip(text, 28) == f"the answer starts Bearer {MASK}"
    assert KEY[:10] not in clip(text, 35)


def test_log_records_are_masked_in_message_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    log = logging.getLogger("tests.secrets")
    log.addHandler(handler)
    try:
        log.warning("server said %s", f"no JSON: Bearer {KEY}")
        try:
            raise ValueError(f"echo {OTHER}")
        except ValueError:
            log.exception("failed with %d tries", 3)
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert f"server said no JSON: Bearer {MASK}" in text
    assert "failed with 3 tries" in text and f"ValueError: echo {MASK}" in text
    assert KEY not in text and OTHER not in text


def test_guard_logging_filters_every_root_handler_once():
    handler = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        secrets.guard_logging()
        secrets.guard_logging()
        assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_masked_stream_masks_what_is_printed():
    target = io.StringIO()
    stream = MaskedStream(target)
    assert stream.write(f"key={KEY}\n") == len(f"key={KEY}\n")
    stream.writelines([f"{OTHER}\n", "plain\n"])
    stream.flush()
    assert target.getvalue() == f"key={MASK}\n{MASK}\nplain\n"
