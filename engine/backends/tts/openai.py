"""`tts=openai`: speech from an OpenAI-compatible `/v1/audio/speech` endpoint (`gpt-4o-mini-tts`,
which takes a line's direction as `instructions`, and the older `tts-1`, `tts-1-hd`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

import numpy as np

from engine.backends.openai_api import Retries, connect, message, public, transient_fault
from engine.backends.tts import SAMPLE_RATE, Audio, SpeakRequest
from engine.backends.tts.audio import decode, level_to, silence, trim_silence
from engine.backends.tts.delivery import (category_table, delivery_for, describe_line,
                                          direction_table, resolve_category, speakable)
from engine.errors import BackendError, ConfigError

BACKEND = "tts=openai"
VERSION = 1
OLDER_MODELS = ("tts-1",)
"""Model name prefixes that take no `instructions` (tts-1, tts-1-hd): they get `speed` instead."""


@dataclass(frozen=True, slots=True)
class OpenAIVoice:
    """A voice for one category: its name, how it is told to sound, and factors on pace and level."""

    voice: str
    instructions: str | None = None
    speed: float = 1.0
    volume: float = 1.0


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """What goes to the endpoint for one line."""

    input: str
    voice: str
    instructions: str | None
    speed: float | None


class OpenAITTS:
    """One request per line; the key stays in the environment; faults retried, then one line."""

    def __init__(self, categories: Mapping[str, Mapping[str, Any]],
                 model: str = "gpt-4o-mini-tts", base_url: str | None = None,
                 timeout: float = 60.0, max_retries: int = 4,
                 api_key_env: str = "OPENAI_API_KEY", backoff: float = 1.0,
                 max_backoff: float = 30.0, sample_rate: int = SAMPLE_RATE,
                 loudness: float = -23.0, keep_silence: float = 0.08, empty_line: float = 0.5,
                 languages: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
                 directions: Mapping[str, Mapping[str, Any]] | None = None):
        if max_retries < 0 or timeout <= 0:
            raise ConfigError("tts.max_retries must be >= 0 and tts.timeout > 0")
        self.model, self.base_url = str(model), base_url.rstrip("/") if base_url else None
        self.timeout, self.max_retries = float(timeout), int(max_retries)
        self.api_key_env = api_key_env
        self.backoff, self.max_backoff = float(backoff), float(max_backoff)
        self.sample_rate, self.loudness = int(sample_rate), float(loudness)
        self.keep_silence, self.empty_line = float(keep_silence), float(empty_line)
        self.categories = category_table(categories, OpenAIVoice, BACKEND)
        self.languages = {str(language).lower(): _overrides(table, self.categories)
                          for language, table in (languages or {}).items()}
        self.directions = direction_table(directions)
        self._client: Any = None

    def __repr__(self) -> str:
        return f"OpenAITTS(model={self.model!r}, base_url={public(self.base_url or '')!r})"

    @property
    def takes_instructions(self) -> bool:
        return not self.model.startswith(OLDER_MODELS)

    def identity(self) -> dict[str, Any]:
        # Never the key: identity lands in cache keys and manifests.
        return {"backend": "openai-tts", "version": VERSION, "model": self.model,
                "base_url": public(self.base_url or "https://api.openai.com/v1"),
                "sample_rate": self.sample_rate, "loudness": self.loudness,
                "keep_silence": self.keep_silence, "empty_line": self.empty_line,
                "categories": {k: asdict(v) for k, v in sorted(self.categories.items())},
                "languages": {language: {k: asdict(v) for k, v in sorted(table.items())}
                              for language, table in sorted(self.languages.items())},
                "directions": {k: asdict(v) for k, v in sorted(self.directions.items())}}

    def voice_for(self, request: SpeakRequest) -> OpenAIVoice:
        """The category's voice, as the story's language overrides it; a voice block's
        `openai:` id wins over both."""
        category = resolve_category(request.voice.category, self.categories)
        language = (request.language or "en").lower().replace("_", "-")
        voice = self.categories[category]
        for code in (language.split("-")[0], language):
            voice = self.languages.get(code, {}).get(category, voice)
        chosen = request.voice.id_for("openai")
        return replace(voice, voice=chosen) if chosen else voice

    def voice_id(self, request: SpeakRequest) -> str:
        """The OpenAI voice a line is spoken with (`coral`), for `storyreel voices`."""
        return self.voice_for(request).voice

    def request_for(self, request: SpeakRequest) -> SpeechRequest:
        """What is sent for a line: the pace as `speed` for the older models, in the
        instructions (with the voice's own and the line's direction) for the newer ones."""
        voice = self.voice_for(request)
        delivery = delivery_for(request.direction, self.directions)
        pace = voice.speed * request.voice.rate * delivery.rate
        if not self.takes_instructions:
            speed = min(4.0, max(0.25, round(pace, 3)))
            return SpeechRequest(speakable(request.text), voice.voice, None,
                                 None if speed == 1.0 else speed)
        said = [voice.instructions] if voice.instructions else []
        if request.direction:
            said.append(f"Say this line {request.direction.strip()}.")
        if abs(pace - 1.0) >= 0.02:
            said.append(f"Speak at about {pace:.2f} times your usual pace.")
        return SpeechRequest(speakable(request.text), voice.voice, " ".join(said) or None, None)

    def speak(self, request: SpeakRequest) -> Audio:
        where = describe_line(request.text)
        sent = self.request_for(request)
        if not sent.input:
            return Audio(silence(self.empty_line, self.sample_rate), self.sample_rate)
        samples = self._fetch(sent, where)
        samples = trim_silence(samples, self.sample_rate, self.keep_silence)
        volume = self.voice_for(request).volume * delivery_for(request.direction,
                                                               self.directions).volume
        level = 10 ** (self.loudness / 20) * volume
        samples = level_to(samples, self.sample_rate, level)
        return Audio(np.clip(samples, -1.0, 1.0).astype(np.float32), self.sample_rate)

    def _fetch(self, sent: SpeechRequest, where: str) -> np.ndarray:
        """The line's samples; network faults, 408/409/429/5xx and audio that does not decode
        are retried with backoff (Retry-After honoured), at most `max_retries` times; every
        failure names the line."""
        if self._client is None:
            self._client = connect(BACKEND, "tts", self.api_key_env, self.base_url, self.timeout)
        options: dict[str, Any] = {"model": self.model, "voice": sent.voice, "input": sent.input,
                                   "response_format": "wav"}
        if sent.instructions:
            options["instructions"] = sent.instructions
        if sent.speed is not None:
            options["speed"] = sent.speed
        try:
            return self._ask(options, sent.voice)
        except BackendError as error:
            raise BackendError(error.backend, error.message, where=where,
                               hint=error.hint) from None

    def _ask(self, options: dict[str, Any], voice: str) -> np.ndarray:
        import openai

        server = public(self.base_url) if self.base_url else "api.openai.com"
        retries = Retries(BACKEND, server, "tts", self.max_retries, self.backoff,
                          self.max_backoff)
        while True:
            try:
                return self._decoded(self._client.audio.speech.create(**options).content)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
                raise BackendError(BACKEND, f"{server} answered {error.status_code}: "
                                   f"{message(error)}", hint=f"check tts.model and the voice "
                                   f"{voice!r}") from None
            except _Undecodable as error:
                fault, asked = f"audio that does not decode ({error})", None
            except openai.OpenAIError as error:
                fault, asked = transient_fault(error, BACKEND, server, "tts", self.api_key_env,
                                               self.timeout)
            retries.after(fault, asked)

    def _decoded(self, data: bytes) -> np.ndarray:
        if not data:
            raise _Undecodable("no bytes")
        try:
            samples = decode(data, self.sample_rate)
        except Exception as error:  # PyAV raises several InvalidData/Value errors
            raise _Undecodable(str(error)[:200]) from None
        if not len(samples):
            raise _Undecodable("no samples")
        return samples


class _Undecodable(Exception):
    """A 200 answer whose body is not audio (empty, cut off, an error page)."""


def _overrides(table: Mapping[str, Mapping[str, Any]] | None,
               categories: Mapping[str, OpenAIVoice]) -> dict[str, OpenAIVoice]:
    """A language's voices: each named category's voice with the fields given replaced."""
    out = {}
    for name, values in (table or {}).items():
        key = str(name).lower()
        if key not in categories:
            raise ValueError(f"{BACKEND} languages: {name!r} is not a category "
                             f"({', '.join(sorted(categories))})")
        try:
            out[key] = replace(categories[key], **dict(values or {}))
        except TypeError as error:
            raise ValueError(f"{BACKEND} languages.{name}: {error}") from error
    return out
