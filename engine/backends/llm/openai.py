"""`llm=openai`: a writer on any OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine import secrets
from engine.backends.llm import WriteRequest, WriteResult
from engine.backends.llm.chat import ChatReply, ChatWriting, Message, load_prompts
from engine.backends.openai_api import Retries, connect, message, public, transient_fault
from engine.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

BACKEND = "llm=openai"
STRUCTURED_MODES = ("json_schema", "json_object", "none")
"""Strongest first: a server that rejects one mode is asked again with the next."""


class _Unusable(Exception):
    """A 200 answer that is not a chat completion (garbage, cut-off body, no message)."""


class OpenAIWriter:
    """Writes with one chat request per scene with a hole (a premise: an outline, then one for
    every scene); the key stays in env."""

    scene_by_scene = True  # the write stage asks, and caches, each scene on its own

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
        return f"OpenAIWriter(model={self.model!r}, base_url={public(self.base_url or '')!r})"

    def identity(self) -> dict[str, Any]:
        # Never the key (nor its variable's value): identity lands in cache keys and manifests.
        return {"backend": "openai", "model": self.model,
                "base_url": public(self.base_url or "https://api.openai.com/v1"),
                "temperature": self.temperature, "seed": self.seed,
                "structured": self.structured, "max_tokens": self.max_tokens,
                "max_words": self._writing.max_words, "prompts": self.prompts.digest()}

    def write(self, request: WriteRequest) -> WriteResult:
        return self._writing.write(request)

    def _connect(self) -> Any:
        if self._client is None:
            self._client = connect(BACKEND, "llm", self.api_key_env, self.base_url, self.timeout)
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
        where = public(self.base_url) if self.base_url else "api.openai.com"
        retries = Retries(BACKEND, where, "llm", self.max_retries, self.backoff, self.max_backoff)
        requests = 0
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
                said = message(error)
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
            except openai.APIError as error:
                retries.after(*transient_fault(error, BACKEND, where, "llm", self.api_key_env,
                                               self.timeout))
            except _Unusable as error:
                retries.after(f"unusable answer ({error})", None)


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
