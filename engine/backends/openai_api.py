"""What every backend on an OpenAI-compatible server shares: the client, its key, retries, errors."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine import secrets
from engine.errors import BackendError, MissingDependency, times

log = logging.getLogger(__name__)


def connect(backend: str, setting: str, api_key_env: str, base_url: str | None,
            timeout: float) -> Any:
    """An `openai.OpenAI` client: the key from the variable `api_key_env` names (a local server
    needs none), registered as a secret; the SDK's own retries off (`Retries` does them)."""
    try:
        import openai
    except ImportError:
        raise MissingDependency(backend, "the openai package",
                                "pip install 'storyreel[openai]'") from None
    key = os.environ.get(api_key_env, "").strip()
    if not key:
        if base_url is None:
            raise BackendError(backend, f"no API key: the environment variable "
                               f"{api_key_env} is not set",
                               hint=f"export {api_key_env}=... (or set {setting}.api_key_env "
                               "to the variable that holds it)")
        key = "unused"  # local servers (Ollama, llama.cpp) accept any key, the SDK wants one
    # Retries are ours (SDK's off) so that every fault, garbage answers included, shares one
    # bounded budget and is logged the same way.
    client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
    secrets.register(key)  # api_key_env may name any variable
    return client


def transient_fault(error: Exception, backend: str, where: str, setting: str,
                    api_key_env: str, timeout: float) -> tuple[str, float | None]:
    """A fault worth retrying as (what happened, the server's Retry-After); any other raises a
    BackendError, or `error` itself when it is no API error."""
    import openai

    if isinstance(error, (openai.AuthenticationError, openai.PermissionDeniedError,
                          openai.NotFoundError)):
        raise BackendError(backend, f"{where} answered {error.status_code}: {message(error)}",
                           hint=f"check {api_key_env}, {setting}.model and "
                           f"{setting}.base_url") from None
    if isinstance(error, openai.APIStatusError):
        fault = f"HTTP {error.status_code}"
        if error.status_code < 500 and error.status_code not in (408, 409, 429):
            raise BackendError(backend, f"{where} answered {fault}: {message(error)}") from None
        return fault, retry_after(error)
    if isinstance(error, openai.APITimeoutError):
        return f"no answer within {timeout:g} s", None
    if isinstance(error, openai.APIConnectionError):
        return f"cannot connect ({cause(error)})", None
    raise error


@dataclass
class Retries:
    """One request's bounded budget of faults, with exponential backoff between tries."""

    backend: str
    where: str
    setting: str
    max_retries: int
    backoff: float
    max_backoff: float
    faults: int = 0

    def after(self, fault: str, retry_after: float | None) -> None:
        """Count a fault: wait before the next try, or fail clearly once the budget is spent."""
        self.faults += 1
        if self.faults > self.max_retries:
            raise BackendError(self.backend, f"{self.where} failed {times(self.faults)}; last: "
                               f"{fault}",
                               hint=f"is the server running and {self.setting}.base_url right? "
                               f"raise {self.setting}.timeout or {self.setting}.max_retries for "
                               "a slow server")
        wait = min(retry_after if retry_after is not None
                   else self.backoff * 2 ** (self.faults - 1), self.max_backoff)
        log.warning("%s: %s: %s; retrying in %.2f s (retry %d of %d)", self.backend, self.where,
                    fault, wait, self.faults, self.max_retries)
        time.sleep(wait)


def public(url: str) -> str:
    """The URL without credentials someone may have put in it (user:pass@, ?api-key=)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def message(error: Any) -> str:
    """What the server said in its error body, masked and clipped."""
    body = getattr(error, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return secrets.clip(inner["message"], 300)
    return secrets.clip(str(getattr(error, "message", error)), 300)


def retry_after(error: Any) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[name]) * scale)
        except (KeyError, TypeError, ValueError):
            continue
    return None


def cause(error: BaseException) -> str:
    found = error.__cause__ or error.__context__
    text = str(found) if found is not None else str(error)
    return secrets.clip(text, 200) or type(found or error).__name__
