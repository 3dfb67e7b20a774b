"""tts=espeak: offline speech from libespeak-ng, a voice per category through variant, pitch, rate."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

from engine.backends.tts import SAMPLE_RATE, Audio, SpeakRequest
from engine.backends.tts.audio import level_to, resample, silence, speech_span, trimmed_words
from engine.backends.tts.delivery import (Delivery, category_table, delivery_for, describe_line,
                                          direction_table, resolve_category, speakable)
from engine.backends.tts.espeak_lib import EspeakError, Settings, WordMark, library
from engine.backends.weights import package_version
from engine.captions import Word
from engine.errors import BackendError

log = logging.getLogger(__name__)

BACKEND = "tts=espeak"
VERSION = 1
"""Bumped when this module changes what it makes of a request (text clean-up, trimming)."""


@dataclass(frozen=True, slots=True)
class CategoryVoice:
    """An espeak voice for one category: variant, pitch and range (0-99), rate in words/minute."""

    variant: str = "m3"
    pitch: float = 50
    rate: float = 170
    range: float = 50
    volume: float = 1.0
    gender: str = "male"
    word_gap: int = 0

    @property
    def whisper_variant(self) -> str:
        return "whisperf" if self.gender == "female" else "whisper"


def _words(marks: list[WordMark], speech_end: float) -> tuple[Word, ...]:
    """espeak's word events as words: each lasts until the next begins, the last until the
    speech ends."""
    ends = [mark.at for mark in marks[1:]] + [speech_end]
    return tuple(Word(mark.at, max(mark.at, end), mark.text) for mark, end in zip(marks, ends))


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


class EspeakTTS:
    """Speaks with espeak-ng in memory; identical requests give identical samples."""

    def __init__(self, categories: Mapping[str, Mapping[str, Any]],
                 sample_rate: int = SAMPLE_RATE, loudness: float = -23.0,
                 keep_silence: float = 0.08, empty_line: float = 0.5,
                 languages: Mapping[str, str] | None = None,
                 directions: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.sample_rate = int(sample_rate)
        self.loudness = float(loudness)
        self.keep_silence = float(keep_silence)
        self.empty_line = float(empty_line)
        self.languages = {k.lower(): v for k, v in (languages or {}).items()}
        self.categories = category_table(categories, CategoryVoice, BACKEND)
        self.directions = direction_table(directions)
        self._told_pitch: set[tuple[str, float]] = set()  # a pitch past espeak's scale, said once
        self._lib = library()
        for name, voice in self.categories.items():
            if voice.variant.lower() not in self._lib.variants:
                raise ValueError(f"tts=espeak category {name}: espeak-ng has no variant "
                                 f"{voice.variant!r}; some it has: {self._some_variants()}")

    def identity(self) -> dict[str, Any]:
        return {
            "backend": "espeak", "version": VERSION, "espeak_ng": self._lib.version,
            "espeakng_loader": package_version("espeakng-loader"),
            "native_rate": self._lib.sample_rate,
            "sample_rate": self.sample_rate, "loudness": self.loudness,
            "keep_silence": self.keep_silence, "empty_line": self.empty_line,
            "languages": dict(sorted(self.languages.items())),
            "categories": {k: asdict(v) for k, v in sorted(self.categories.items())},
            "directions": {k: asdict(v) for k, v in sorted(self.directions.items())},
        }

    def voice_id(self, request: SpeakRequest) -> str:
        """The espeak voice a line is spoken with (`en-gb+f4`), for `storyreel voices`."""
        return self.plan(request)[0].voice

    def speak(self, request: SpeakRequest) -> Audio:
        text = speakable(request.text)
        if not text:
            return Audio(silence(self.empty_line, self.sample_rate), self.sample_rate)
        settings, level = self.plan(request)
        log.debug("%s with %s", describe_line(text), settings)
        try:
            pcm, marks = self._lib.synthesize(text, settings)
        except EspeakError as error:
            raise BackendError(BACKEND, str(error), where=describe_line(request.text)) from error
        native = self._lib.sample_rate
        samples = pcm.astype(np.float32) / 32768.0
        begin, end = speech_span(samples, native, self.keep_silence)
        samples = level_to(samples[begin:end], native, level)
        words = trimmed_words(_words(marks, end / native), begin / native, len(samples) / native)
        return Audio(np.clip(resample(samples, native, self.sample_rate), -1.0, 1.0),
                     self.sample_rate, words=words)

    def plan(self, request: SpeakRequest) -> tuple[Settings, float]:
        """The espeak parameters a request is spoken with, and the speech level (RMS) it gets.

        espeak's voices differ in loudness (its whisper variants most), so every line is brought
        to one level, `loudness`, which the category's and the direction's volume then scale.
        """
        voice = self.categories[resolve_category(request.voice.category, self.categories)]
        delivery = delivery_for(request.direction, self.directions)
        spec = request.voice
        pitch = voice.pitch * spec.pitch * delivery.pitch
        if not 0 <= round(pitch) <= 99 and (spec.name, spec.pitch) not in self._told_pitch:
            self._told_pitch.add((spec.name, spec.pitch))
            log.warning("voice %s: pitch %g asks espeak-ng for %d on its 0–99 scale (the %s "
                        "category's %g × %g%s): it speaks at %d", spec.name, spec.pitch,
                        round(pitch), spec.category, voice.pitch, spec.pitch,
                        f" × {delivery.pitch:g} for {request.direction}"
                        if delivery.pitch != 1 else "", _clamp(pitch, 0, 99))
        settings = Settings(
            voice=self._voice_name(request, voice, delivery),
            rate=_clamp(voice.rate * spec.rate * delivery.rate, 80, 450),
            pitch=_clamp(pitch, 0, 99),
            range=_clamp(voice.range * delivery.range, 0, 99),
            word_gap=voice.word_gap,
        )
        return settings, 10 ** (self.loudness / 20) * voice.volume * delivery.volume

    def _voice_name(self, request: SpeakRequest, voice: CategoryVoice, delivery: Delivery) -> str:
        chosen = request.voice.id_for("espeak")
        language, variant = request.language or "en", voice.variant
        language = self.languages.get(language.lower(), language)
        if chosen:
            head, _, tail = chosen.strip().partition("+")
            language, variant = (head or language), (tail or "")
        identifier = self._language(language, request, chosen)
        if delivery.whisper:
            variant = voice.whisper_variant
        if not variant:
            return identifier
        canonical = self._lib.variants.get(variant.lower())
        if canonical is None:
            raise self._bad_voice(request, chosen, f"espeak-ng has no voice variant {variant!r}",
                                  f"variants include {self._some_variants()}")
        return f"{identifier}+{canonical}"

    def _language(self, language: str, request: SpeakRequest, chosen: str | None) -> str:
        code = language.strip().lower().replace("_", "-")
        while code:
            if code in self._lib.voices:
                return self._lib.voices[code]
            code = code.rpartition("-")[0]
        common = ", ".join(c for c in ("en", "en-gb", "en-us", "fr", "de", "es", "it", "pt", "nl")
                           if c in self._lib.voices)
        raise self._bad_voice(request, chosen, f"espeak-ng has no language {language!r}",
                              f"languages include {common} ({len(self._lib.voices)} in all)")

    def _bad_voice(self, request: SpeakRequest, chosen: str | None, problem: str,
                   hint: str) -> BackendError:
        source = (f"voice {request.voice.name!r} sets espeak: {chosen}" if chosen
                  else f"story language {request.language!r}")
        return BackendError(BACKEND, f"{source}, but {problem}", where=describe_line(request.text),
                            hint=f"{hint}; an espeak voice is LANGUAGE or LANGUAGE+VARIANT, "
                                 f"e.g. en-gb+f3")

    def _some_variants(self) -> str:
        return ", ".join(["f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m7", "grandma",
                          "grandpa", "croak", "whisper", "klatt"])
