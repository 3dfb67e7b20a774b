"""libespeak-ng through ctypes: a freshly loaded engine per utterance, so output never drifts."""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import MissingDependency

INSTALL = "pip install espeakng-loader"

_SYNCHRONOUS = 2          # AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when all audio is out
_DONT_EXIT = 0x8000       # espeakINITIALIZE_DONT_EXIT: report missing data instead of exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
RATE, VOLUME, PITCH, RANGE, WORDGAP = 1, 2, 3, 4, 7  # espeak_PARAMETER
_STATUS = {1: "buffer full", 2: "not found", -1: "internal error"}

_WORD_EVENT, _LIST_END = 1, 0  # espeak_EVENT_TYPE: espeakEVENT_WORD, espeakEVENT_LIST_TERMINATED


class _Event(ctypes.Structure):
    """espeak_EVENT: what happened at which audio position (ms) and text position (characters,
    counted from 1)."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_void_p)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),  # bytes with NULs
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


@dataclass(frozen=True, slots=True)
class Settings:
    """One utterance's espeak parameters (espeak's own units)."""

    voice: str      # "gmw/en+f3": language voice identifier, optional "+variant"
    rate: int       # words per minute, 80..450
    pitch: int      # 0..99, 50 = the voice's own
    range: int      # 0..99, intonation range
    word_gap: int = 0  # extra pause between words, units of 10 ms


@dataclass(frozen=True, slots=True)
class WordMark:
    """Where espeak began a word: its characters in the text, and the time in seconds."""

    text: str
    at: float


class EspeakError(RuntimeError):
    """espeak refused a voice or an utterance."""


class Library:
    """The shared library and data of the `espeakng-loader` wheel.

    espeak-ng keeps synthesis state in C statics that no API resets (the pitch flutter phase,
    the glottal cycle counter, the gain control), so the same text spoken twice in one process
    differs. Each utterance therefore runs in a freshly loaded copy of the library: loaded,
    initialised, spoken, terminated and unloaded under one lock (espeak is a global engine, and
    its breath noise comes from libc's process-wide rand(), seeded per utterance).
    """

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as error:
            raise MissingDependency("tts=espeak", "espeakng-loader (libespeak-ng)", INSTALL) from error
        self.path = Path(espeakng_loader.get_library_path())
        try:
            self.data = Path(espeakng_loader.get_data_path())
        except RuntimeError as error:
            raise MissingDependency("tts=espeak", f"espeak-ng data ({error})", INSTALL) from error
        if not self.path.is_file():
            raise MissingDependency("tts=espeak", f"libespeak-ng ({self.path})", INSTALL)
        self._lock = threading.Lock()
        self._image = self._private_image()
        self._libc = ctypes.CDLL(None)
        self.sample_rate, self.version, self.voices = self._probe()
        self.variants = self._variant_names()

    def _private_image(self) -> str:
        """A path only this module loads the library from, so unloading really resets it.

        On Linux the library's bytes go into an anonymous memory file; elsewhere the wheel's own
        file is used (a reset then needs nobody else in the process to hold it open).
        """
        if not hasattr(os, "memfd_create"):
            return str(self.path)
        fd = os.memfd_create("libespeak-ng", 0)
        os.write(fd, self.path.read_bytes())
        return f"/proc/self/fd/{fd}"

    def _open(self) -> tuple[ctypes.CDLL, int]:
        try:
            lib = ctypes.CDLL(self._image, mode=ctypes.RTLD_LOCAL)
        except OSError as error:
            raise MissingDependency("tts=espeak", f"a loadable libespeak-ng ({error})",
                                    INSTALL) from error
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, str(self.data.parent).encode(), _DONT_EXIT)
        if rate <= 0:
            self._close(lib)
            raise MissingDependency("tts=espeak", f"usable espeak-ng data in {self.data}", INSTALL)
        return lib, rate

    @staticmethod
    def _close(lib: ctypes.CDLL) -> None:
        import _ctypes

        lib.espeak_Terminate()
        _ctypes.dlclose(lib._handle)

    def _probe(self) -> tuple[int, str, dict[str, str]]:
        """Sample rate, version, and every language code → its voice identifier."""
        with self._lock:
            lib, rate = self._open()
            try:
                version = (lib.espeak_Info(None) or b"unknown").decode()
                voices: dict[str, tuple[int, str]] = {}
                listed = lib.espeak_ListVoices(None)
                for i in range(10_000):
                    if not listed[i]:
                        break
                    voice = listed[i].contents
                    identifier = voice.identifier.decode()
                    for priority, code in _languages(voice):
                        best = voices.get(code)
                        if best is None or priority < best[0]:
                            voices[code] = (priority, identifier)
                    voices.setdefault(identifier.lower(), (99, identifier))
            finally:
                self._close(lib)
        return rate, version, {code: ident for code, (_, ident) in sorted(voices.items())}

    def _variant_names(self) -> dict[str, str]:
        folder = self.data / "voices" / "!v"
        return {p.name.lower(): p.name for p in sorted(folder.iterdir()) if p.is_file()}

    def synthesize(self, text: str, settings: Settings) -> tuple[np.ndarray, list[WordMark]]:
        """int16 samples at `sample_rate` for one utterance, and where each word begins (its
        word events); raises EspeakError."""
        encoded = text.encode("utf-8") + b"\0"
        chunks: list[np.ndarray] = []
        marks: list[WordMark] = []

        def collect(wav, count, events) -> int:
            if wav and count > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            for i in range(10_000):
                if not events or events[i].type == _LIST_END:
                    break
                event = events[i]
                if event.type == _WORD_EVENT and event.length > 0:
                    start = max(0, event.text_position - 1)
                    marks.append(WordMark(text[start:start + event.length],
                                          event.audio_position / 1000))
            return 0

        callback = _Callback(collect)
        with self._lock:
            lib, _ = self._open()
            try:
                lib.espeak_SetSynthCallback(callback)
                status = lib.espeak_SetVoiceByName(settings.voice.encode())
                if status != 0:
                    raise EspeakError(f"voice {settings.voice!r}: {_STATUS.get(status, status)}")
                for parameter, value in ((RATE, settings.rate), (PITCH, settings.pitch),
                                         (RANGE, settings.range), (VOLUME, 100),
                                         (WORDGAP, settings.word_gap)):
                    lib.espeak_SetParameter(parameter, int(value), 0)
                lib.espeak_ng_SetRandSeed(1)
                self._libc.srand(1)
                status = lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0,
                                          _CHARS_UTF8, None, None)
                if status != 0:
                    raise EspeakError(f"synthesis failed: {_STATUS.get(status, status)}")
            finally:
                self._close(lib)
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return pcm, marks


def _languages(voice: _Voice) -> list[tuple[int, str]]:
    """espeak's `languages` field: (priority byte, NUL-terminated code) pairs, then a NUL."""
    raw = ctypes.cast(voice.languages, ctypes.POINTER(ctypes.c_ubyte))
    out, i = [], 0
    while raw[i] != 0:
        priority, i = raw[i], i + 1
        start = i
        while raw[i] != 0:
            i += 1
        out.append((priority, bytes(raw[start:i]).decode().lower()))
        i += 1
    return out


_shared: Library | None = None
_shared_lock = threading.Lock()


def library() -> Library:
    """The process's one Library (loading the data listing once)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Library()
        return _shared
