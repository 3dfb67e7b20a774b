"""Secrets: the API keys the backends read, masked out of every message, log line and answer."""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, TextIO

MASK = "***"
SECRET_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_SECRET_KEY")
"""Environment variables whose values are secrets (OPENAI_API_KEY, HF_TOKEN, ...)."""
MIN_LENGTH = 8
"""Shorter values are no credential (`unused`, `1`); masking them would garble every message."""

_registered: set[str] = set()
_lock = threading.Lock()


def register(value: str) -> None:
    """A secret read from a variable of any name (`llm.api_key_env: MY_KEY`): masked from now on."""
    value = value.strip()
    if len(value) >= MIN_LENGTH:
        with _lock:
            _registered.add(value)


def secret_values() -> list[str]:
    """Every known secret, longest first (so a key that contains another is masked whole)."""
    found = {value.strip() for name, value in os.environ.items()
             if name.upper().endswith(SECRET_SUFFIXES) and len(value.strip()) >= MIN_LENGTH}
    with _lock:
        found |= _registered
    return sorted(found, key=len, reverse=True)


def secret_named_in(text: str) -> str | None:
    """The environment variable whose secret value appears in the text (`OPENAI_API_KEY`),
    `a registered key` for a key read from another variable, or None."""
    for secret in secret_values():
        if secret in text:
            return next((name for name, value in sorted(os.environ.items())
                         if name.upper().endswith(SECRET_SUFFIXES) and value.strip() == secret),
                        "a registered key")
    return None


def mask(text: str) -> str:
    """The text with every known secret replaced by `***`."""
    for secret in secret_values():
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def clip(text: str, limit: int) -> str:
    """Masked, then cut to `limit` characters: a cut never leaves half a key behind."""
    return mask(text)[:limit]


class MaskingFilter(logging.Filter):
    """Masks secrets in a record's message (arguments merged in) and its exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: leave it to the handler to report
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def guard_logging() -> None:
    """Put the masking filter on every handler of the root logger (once each); call it after
    logging is configured (Hydra configures it afresh for every job)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


class MaskedStream:
    """A text stream that masks secrets in what is written to it (sys.stdout, sys.stderr)."""

    def __init__(self, stream: TextIO):
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(mask(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, ...
        return getattr(self.wrapped, name)


def guard_streams() -> None:
    """Mask secrets in everything this process prints (the CLI calls it first thing)."""
    if not isinstance(sys.stdout, MaskedStream):
        sys.stdout = MaskedStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, MaskedStream):
        sys.stderr = MaskedStream(sys.stderr)  # type: ignore[assignment]
