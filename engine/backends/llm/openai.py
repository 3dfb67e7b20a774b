"""`llm=openai`: a writer on any OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from engine import secrets
from engine.backends.llm import WriteRequest, WriteResult
from engine.backends.llm.chat import ChatReply, ChatWriting, Message, load_prompts
from engine.errors import BackendError, ConfigError, MissingDependency

log = logging.getLogger(__name__)

BACKEND = "llm=openai"
STRUCTURED_MODES = ("json_schema", "json_object", "none")
"""Strongest first: a server that rejects one mode is asked again with the next."""


class _Unusable(Exception):
    """A 200 answer that is not a chat completion (garbage, cut-off body, no message)."""


class OpenAIWriter:
    """Writes with one batched chat request per story (two for a premise); the key stays in env."""

    def __init__(self, model: str = "gpt-4o-mini", base_url: str | None = None,
                 temperature: float | None = 0.7, seed: int | None = 0, timeout: float = 60.0,
                 max_retries: int = 4, api_key_env: str = "OPENAI_API_KEY",
                 structured: str = "json_schema", max_tokens: int | None = 4096,
                 backoff: float = 1.0, max_backoff: float = 30.0, validation_attempts: int = 3,
                 max_words: int | None = None, prompts: Mapping[str, Any] | str | None = None):
        if structured not in STRUCTURED_MODES:
            raise ConfigError(f"llm.structured must be one of {', '.join(STRUCTURED_MODES)}, "
                              f"not {structured!r}")
        if max_retries < 0 or timeout <= 0:
            raise ConfigError("llm.max_retries must be >= 0 and llm.timeout > 0")
        self.model, self.base_url = model, base_url.rstrip("/") if base_url else None
        self.temperature, self.seed, self.timeout = temperature, seed, timeout
        self.max_retries, self.api_key_env, self.structured = max_retries, api_key_env, structured
        self.max_tokens, self.backoff, self.max_backoff = max_tokens, backoff, max_backoff
        self.backend = BACKEND
        self.prompts = load_prompts(prompts)
        self._writing = ChatWriting(self, self.prompts, attempts=validation_attempts,
                                    max_words=max_words)
        self._mode = structured  # lowered for the rest of the run when the server rejects it
        self._limit_name = "max_tokens"
        self._client: Any = None

    def __repr__(self) -> str:
        return f"OpenAIWriter(model={self.model!r}, base_url={_public(self.base_url or '')!r})"

    def identity(self) -> dict[str, Any]:
        # Never the key (nor its variable's value): identity lands in cache keys and manifests.
        return {"backend": "openai", "model": self.model,
                "base_url": _public(self.base_url or "https://api.openai.com/v1"),
                "temperature": self.temperature, "seed": self.seed,
                "structured": self.structured, "max_tokens": self.max_tokens,
                "max_words": self._writing.max_words, "prompts": self.prompts.digest()}

    def write(self, request: WriteRequest) -> WriteResult:
        return self._writing.write(request)

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            import openai
        except ImportError:
            raise MissingDependency(BACKEND, "the openai package",
                                    "pip install 'storyreel[openai]'") from None
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            if self.base_url is None:
                raise BackendError(BACKEND, f"no API key: the environment variable "
                                   f"{self.api_key_env} is not set",
                                   hint=f"export {self.api_key_env}=... (or set llm.api_key_env "
                                   "to the variable that holds it)")
            key = "unused"  # local servers (Ollama, llama.cpp) accept any key, the SDK wants one
        # Retries are ours (SDK's off) so that every fault, garbage answers included, shares one
        # bounded budget and is logged the same way.
        self._client = openai.OpenAI(api_key=key, base_url=self.base_url, timeout=self.timeout,
                                     max_retries=0)
        secrets.register(key)  # llm.api_key_env may name any variable
        return self._client

    def _format(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        if self._mode == "json_schema":
            return {"response_format": {"type": "json_schema", "json_schema": {
                "name": name, "schema": schema, "strict": True}}}
        if self._mode == "json_object":
            return {"response_format": {"type": "json_object"}}
        return {}

    def chat(self, messages: list[Message], schema: dict[str, Any], schema_name: str) -> ChatReply:
        import openai

        client = self._connect()
        where = _public(self.base_url) if self.base_url else "api.openai.com"
        requests, faults = 0, 0
        while True:
            options: dict[str, Any] = {"model": self.model, "messages": messages}
            if self.temperature is not None:  # null: the model's own (reasoning models want it)
                options["temperature"] = self.temperature
            if self.seed is not None:
                options["seed"] = self.seed
            if self.max_tokens:
                options[self._limit_name] = self.max_tokens
            options.update(self._format(schema, schema_name))
            requests += 1
            try:
                try:
                    completion = client.chat.completions.create(**options)
                except ValueError as error:  # a body that is not JSON, or JSON cut off
                    raise _Unusable(secrets.clip(f"the body is not a JSON completion: {error}",
                                                 200)) from None
                text, prompt_tokens, completion_tokens = _read(completion)
                return ChatReply(text, prompt_tokens, completion_tokens, requests)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
                said = _message(error)
                if "max_tokens" in said and self._limit_name == "max_tokens":
                    # Newer OpenAI models take only max_completion_tokens.
                    log.warning("%s: %s refused max_tokens (%s); sending max_completion_tokens",
                                BACKEND, where, said)
                    self._limit_name = "max_completion_tokens"
                    continue
                if self._mode == "none":
                    raise BackendError(BACKEND, f"{where} refused the request "
                                       f"({error.status_code}): {said}",
                                       hint="check llm.model and the server's limits") from None
                lower = STRUCTURED_MODES[STRUCTURED_MODES.index(self._mode) + 1]
                log.warning("%s: %s refused response_format %s (%s); asking with %s instead",
                            BACKEND, where, self._mode, said, lower)
                self._mode = lower
                continue
            except (openai.AuthenticationError, openai.PermissionDeniedError,
                    openai.NotFoundError) as error:
                raise BackendError(BACKEND, f"{where} answered {error.status_code}: "
                                   f"{_message(error)}",
                                   hint=f"check {self.api_key_env}, llm.model and "
                                   "llm.base_url") from None
            except openai.APIStatusError as error:
                fault, retry_after = f"HTTP {error.status_code}", _retry_after(error)
                if error.status_code < 500 and error.status_code not in (408, 409, 429):
                    raise BackendError(BACKEND, f"{where} answered {fault}: "
                                       f"{_message(error)}") from None
            except openai.APITimeoutError:
                fault, retry_after = f"no answer within {self.timeout:g} s", None
            except openai.APIConnectionError as error:
                fault, retry_after = f"cannot connect ({_cause(error)})", None
            except _Unusable as error:
                fault, retry_after = f"unusable answer ({error})", None
            faults += 1
            if faults > self.max_retries:
                raise BackendError(BACKEND, f"{where} failed {faults} times; last: {fault}",
                                   hint="is the server running and llm.base_url right? "
                                   "raise llm.timeout or llm.max_retries for a slow server")
            wait = min(retry_after if retry_after is not None
                       else self.backoff * 2 ** (faults - 1), self.max_backoff)
            log.warning("%s: %s: %s; retrying in %.2f s (retry %d of %d)", BACKEND, where,
                        fault, wait, faults, self.max_retries)
            time.sleep(wait)


def _public(url: str) -> str:
    """The URL without credentials someone may have put in it (user:pass@, ?api-key=)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _read(completion: Any) -> tuple[str, int, int]:
    choices = getattr(completion, "choices", None)
    if not choices:
        raise _Unusable("no choices" if choices is not None else "not a chat completion")
    content = getattr(choices[0].message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise _Unusable("empty message")
    usage = getattr(completion, "usage", None)
    return (content, int(getattr(usage, "prompt_tokens", 0) or 0),
            int(getattr(usage, "completion_tokens", 0) or 0))


def _message(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return secrets.clip(inner["message"], 300)
    return secrets.clip(str(getattr(error, "message", error)), 300)


def _retry_after(error: Any) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[name]) * scale)
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _cause(error: BaseException) -> str:
    cause = error.__cause__ or error.__context__
    text = str(cause) if cause is not None else str(error)
    return secrets.clip(text, 200) or type(cause or error).__name__
