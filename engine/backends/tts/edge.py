"""tts=edge: Microsoft Edge's online neural voices through the `edge-tts` client (network)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

import numpy as np

from engine.backends.tts import SAMPLE_RATE, Audio, SpeakRequest
from engine.backends.tts.audio import decode, silence, speech_span, trimmed_words
from engine.backends.tts.delivery import (category_table, delivery_for, describe_line,
                                          direction_table, resolve_category, speakable)
from engine.backends.weights import package_version
from engine.captions import Word
from engine.errors import BackendError, MissingDependency, times

log = logging.getLogger(__name__)

BACKEND = "tts=edge"
VERSION = 1
TICKS_PER_SECOND = 10_000_000
"""The service's word boundaries count time in 100 ns ticks."""
INSTALL = "pip install 'storyreel[edge]'  (or: pip install edge-tts)"
COVER_TOLERANCE = 0.05
"""Seconds the decoded audio may fall short of the last word boundary's end (MP3 framing)."""


class _Truncated(Exception):
    """The answer's audio decodes, but ends before its last word does: a cut-off answer."""


@dataclass(frozen=True, slots=True)
class EdgeVoice:
    """An Edge voice for one category, and factors on its rate, pitch and volume."""

    voice: str
    rate: float = 1.0
    pitch: float = 1.0
    volume: float = 1.0


DEFAULT_LANGUAGES: dict[str, str] = {
    "de": "de-DE-KatjaNeural", "es": "es-ES-ElviraNeural", "fr": "fr-FR-DeniseNeural",
    "it": "it-IT-ElsaNeural", "nl": "nl-NL-ColetteNeural", "pt": "pt-BR-FranciscaNeural",
}


def _catalogue(language: str, entry: str | Mapping[str, Any]) -> str | dict[str, EdgeVoice]:
    """A language's voice (one for every category) or its catalogue: category → voice, or
    category → {voice, rate, pitch, volume}."""
    if isinstance(entry, str):
        return entry
    try:
        return {str(category).lower(): EdgeVoice(voice) if isinstance(voice, str)
                else EdgeVoice(**dict(voice)) for category, voice in entry.items()}
    except (TypeError, AttributeError) as error:
        raise ValueError(f"{BACKEND} languages.{language}: {error}; an entry is a voice or "
                         "{voice, rate, pitch, volume}") from error


@dataclass(frozen=True, slots=True)
class EdgeRequest:
    """What goes to the service for one line: text, voice, and edge-tts's prosody strings."""

    text: str
    voice: str
    rate: str     # "+10%"
    pitch: str    # "-12Hz"
    volume: str   # "-25%"


def _percent(factor: float) -> str:
    return f"{max(-100, round((factor - 1.0) * 100)):+d}%"


class EdgeTTS:
    """Speaks through the Edge read-aloud service; retries network faults, then fails clearly."""

    def __init__(self, categories: Mapping[str, Mapping[str, Any]],
                 sample_rate: int = SAMPLE_RATE, keep_silence: float = 0.08,
                 empty_line: float = 0.5, pitch_hz: float = 100.0,
                 languages: Mapping[str, str | Mapping[str, Any]] | None = None,
                 directions: Mapping[str, Mapping[str, Any]] | None = None,
                 attempts: int = 4, backoff: float = 1.0, max_backoff: float = 20.0,
                 connect_timeout: int = 10, receive_timeout: int = 60,
                 proxy: str | None = None, concurrency: int = 4) -> None:
        try:
            import edge_tts  # noqa: F401
        except ImportError as error:
            raise MissingDependency(BACKEND, "edge-tts", INSTALL) from error
        self.sample_rate = int(sample_rate)
        self.keep_silence = float(keep_silence)
        self.empty_line = float(empty_line)
        self.pitch_hz = float(pitch_hz)
        self.categories = category_table(categories, EdgeVoice, BACKEND)
        self.languages: dict[str, str | dict[str, EdgeVoice]] = {
            **DEFAULT_LANGUAGES,
            **{k.lower(): _catalogue(k, v) for k, v in (languages or {}).items()}}
        self.directions = direction_table(directions)
        self.attempts = max(1, int(attempts))
        self.backoff, self.max_backoff = float(backoff), float(max_backoff)
        self.connect_timeout, self.receive_timeout = int(connect_timeout), int(receive_timeout)
        self.proxy = proxy
        self.concurrency = max(1, int(concurrency))
        """Lines spoken at once: the speak stage runs this many, and no more requests are ever
        open together (however many threads call `speak`)."""
        self._open_requests = threading.BoundedSemaphore(self.concurrency)

    def identity(self) -> dict[str, Any]:
        return {
            "backend": "edge", "version": VERSION, "edge_tts": package_version("edge-tts"),
            "sample_rate": self.sample_rate, "keep_silence": self.keep_silence,
            "empty_line": self.empty_line, "pitch_hz": self.pitch_hz,
            "categories": {k: asdict(v) for k, v in sorted(self.categories.items())},
            "languages": {k: v if isinstance(v, str) else {c: asdict(e) for c, e in v.items()}
                          for k, v in sorted(self.languages.items())},
            "directions": {k: asdict(v) for k, v in sorted(self.directions.items())},
        }

    def request_for(self, request: SpeakRequest) -> EdgeRequest:
        """The voice and prosody strings a line is sent with."""
        voice = self.categories[resolve_category(request.voice.category, self.categories)]
        delivery = delivery_for(request.direction, self.directions)
        spec = request.voice
        if not spec.id_for("edge"):
            voice = self._voice_for_language(voice, request)
        name = spec.id_for("edge") or voice.voice
        pitch = voice.pitch * spec.pitch * delivery.pitch
        return EdgeRequest(
            text=speakable(request.text), voice=name,
            rate=_percent(voice.rate * spec.rate * delivery.rate),
            pitch=f"{round((pitch - 1.0) * self.pitch_hz):+d}Hz",
            volume=_percent(voice.volume * delivery.volume),
        )

    def _voice_for_language(self, voice: EdgeVoice, request: SpeakRequest) -> EdgeVoice:
        """The category's voice when it speaks the story's language, else the language's:
        its catalogue's voice for the category, or its one voice for every category."""
        language = request.language
        wanted = (language or "en").lower().replace("_", "-")
        if voice.voice.lower().startswith(wanted.split("-")[0] + "-"):
            return voice
        for code in (wanted, wanted.split("-")[0]):
            entry = self.languages.get(code)
            if isinstance(entry, dict):
                return entry[resolve_category(request.voice.category, entry)]
            if entry:
                return replace(voice, voice=entry)
        raise BackendError(BACKEND, f"no voice for the story language {language!r}",
                           where=describe_line(request.text), hint=f"add one: tts.languages.{wanted.split('-')[0]}=VOICE "
                                f"(list them with `edge-tts --list-voices`)")

    def voice_id(self, request: SpeakRequest) -> str:
        """The Edge voice a line is spoken with (`en-US-AnaNeural`), for `storyreel voices`."""
        return self.request_for(request).voice

    def speak(self, request: SpeakRequest) -> Audio:
        where = describe_line(request.text)
        sent = self.request_for(request)
        if not sent.text:
            return Audio(silence(self.empty_line, self.sample_rate), self.sample_rate)
        samples, words = self._fetch_with_retries(sent, where)
        begin, end = speech_span(samples, self.sample_rate, self.keep_silence)
        samples = samples[begin:end]
        return Audio(np.clip(samples, -1.0, 1.0).astype(np.float32), self.sample_rate,
                     words=trimmed_words(words, begin / self.sample_rate,
                                         len(samples) / self.sample_rate))

    def _fetch_with_retries(self, sent: EdgeRequest,
                            where: str) -> tuple[np.ndarray, tuple[Word, ...]]:
        """The line's samples and word times; network faults and cut-off answers are tried
        again (with backoff), so neither is ever cached."""
        import aiohttp
        from edge_tts import exceptions

        # SkewAdjustmentError: a 403 whose Date edge-tts cannot read to correct its clock by
        transient = (aiohttp.ClientError, asyncio.TimeoutError, OSError, exceptions.WebSocketError,
                     exceptions.SkewAdjustmentError, _Truncated)
        for attempt in range(1, self.attempts + 1):
            try:
                with self._open_requests:
                    data, words = _run(self._fetch(sent))
                return self._covering(data, words, where), words
            except ValueError as error:  # edge-tts refuses a malformed voice/rate/pitch string
                raise BackendError(BACKEND, f"voice {sent.voice!r}: {error}", where=where,
                                   hint="voices look like en-US-AnaNeural; "
                                        "list them with `edge-tts --list-voices`") from error
            except exceptions.NoAudioReceived as error:
                raise BackendError(BACKEND, f"the service sent no audio for voice {sent.voice!r}",
                                   where=where, hint="check the voice name with "
                                                     "`edge-tts --list-voices`") from error
            except (exceptions.UnexpectedResponse, exceptions.UnknownResponse) as error:
                raise BackendError(BACKEND, f"the service answered unexpectedly: {error}",
                                   where=where, hint="upgrade edge-tts: pip install -U edge-tts") from error
            except transient as error:
                if attempt == self.attempts:
                    raise _gave_up(error, self.attempts, where) from error
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                reason = (f"cut-off audio ({error})" if isinstance(error, _Truncated)
                          else type(error).__name__)
                log.warning("%s: %s (attempt %d of %d), retrying in %.1fs", where, reason,
                            attempt, self.attempts, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def _covering(self, data: bytes, words: tuple[Word, ...], where: str) -> np.ndarray:
        """The answer's samples, once they are known to last until its last word ends."""
        try:
            samples = decode(data, self.sample_rate)
        except Exception as error:  # PyAV raises several InvalidData/Value errors
            raise BackendError(BACKEND, f"the service sent audio that does not decode ({error})",
                               where=where) from error
        heard = len(samples) / self.sample_rate
        said = max((word.end for word in words), default=0.0)
        if heard + COVER_TOLERANCE < said:
            raise _Truncated(f"the audio ends at {heard:.2f}s, but its last word at {said:.2f}s")
        return samples

    async def _fetch(self, sent: EdgeRequest) -> tuple[bytes, tuple[Word, ...]]:
        """The line's MP3 and its word boundaries (asked for: edge-tts 7 defaults to sentences)."""
        import edge_tts

        communicate = edge_tts.Communicate(
            sent.text, sent.voice, rate=sent.rate, volume=sent.volume, pitch=sent.pitch,
            connect_timeout=self.connect_timeout, receive_timeout=self.receive_timeout,
            proxy=self.proxy, boundary="WordBoundary")
        audio = bytearray()
        words: list[Word] = []
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                audio += chunk["data"]
            elif chunk["type"] == "WordBoundary":
                start = chunk["offset"] / TICKS_PER_SECOND
                words.append(Word(start, start + chunk["duration"] / TICKS_PER_SECOND,
                                  chunk["text"]))
        return bytes(audio), tuple(words)


def _gave_up(error: BaseException, attempts: int, where: str) -> BackendError:
    """The error after the last attempt: a cut-off answer, or the network's last fault."""
    if isinstance(error, _Truncated):
        return BackendError(BACKEND, f"the speech service sent cut-off audio {times(attempts)}; "
                                     f"last: {error}", where=where,
                            hint="try again later, or render offline with tts=espeak")
    return BackendError(BACKEND, f"the speech service failed {times(attempts)}; last: "
                                 f"{network_failure(error)}", where=where,
                        hint="check the network connection, or render offline with tts=espeak")


def _run(coroutine) -> Any:
    """Run a coroutine to its end from sync code, even where this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def network_failure(error: BaseException) -> str:
    """A failed connection as a person reads it: `cannot reach speech.platform.bing.com:443
    (Name or service not known)`, not aiohttp's `ssl:<ssl.SSLContext object at 0x…>`."""
    import aiohttp

    if isinstance(error, aiohttp.ClientConnectorError):
        reason = error.os_error.strerror or str(error.os_error) or type(error.os_error).__name__
        return f"cannot reach {error.host}:{error.port} ({reason})"
    text = re.sub(r"\s*ssl:<[^>]*>", "", str(error)).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
