"""tts=edge: request building, MP3 decoding, and the real edge-tts client against a loopback server."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from engine.backends.tts import SAMPLE_RATE, SpeakRequest, VoiceSpec
from engine.backends.tts.audio import decode
from engine.backends.tts.edge import EdgeTTS
from engine.errors import BackendError, ConfigError
from tests.configured import configured

pytest.importorskip("edge_tts")
aiohttp_web = pytest.importorskip("aiohttp.web")


def edge(*overrides: str) -> EdgeTTS:
    """tts=edge as conf/tts/edge.yaml builds it, with Hydra overrides."""
    return configured("tts", "edge", *overrides)


def sine_mp3(seconds: float = 1.0, freq: float = 440.0, rate: int = 24_000) -> bytes:
    """A sine tone as the service sends speech: 24 kHz mono MP3 (encoded here by PyAV)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as out:
        stream = out.add_stream("mp3", rate=rate)
        stream.layout = "mono"
        stream.bit_rate = 48_000
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        for start in range(0, len(samples), 1152):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1152], format="flt",
                                               layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def say(text: str, category: str = "child", **kwargs) -> SpeakRequest:
    voice = VoiceSpec("voice", category, ids=kwargs.pop("ids", ()), rate=kwargs.pop("rate", 1.0),
                      pitch=kwargs.pop("pitch", 1.0))
    return SpeakRequest(text, voice, **kwargs)


def test_request_carries_voice_and_prosody():
    tts = edge()
    plain = tts.request_for(say("Hello!"))
    assert (plain.voice, plain.rate, plain.pitch, plain.volume) == (
        "en-US-AnaNeural", "+0%", "+0Hz", "+0%")
    whisper = tts.request_for(say("“Hello…” she said — softly.", direction="whispering"))
    assert whisper.text == "Hello, she said, softly."
    assert whisper.rate == "-10%" and whisper.volume == "-25%"
    elder = tts.request_for(say("Come in.", "elder", rate=1.1, pitch=1.1, direction="sadly"))
    assert elder.voice == "en-US-RogerNeural"
    assert elder.rate == "-16%"        # 0.9 × 1.1 × 0.85
    assert elder.pitch == "-11Hz"      # (0.92 × 1.1 × 0.88 - 1) × 100 Hz
    assert elder.volume == "-15%"
    shout = tts.request_for(say("Stop!", "adult", direction="shouting"))
    assert shout.volume == "+60%" and shout.pitch == "+25Hz"
    assert tts.request_for(say("Hi", ids=(("edge", "en-GB-MaisieNeural"),))).voice == \
        "en-GB-MaisieNeural"
    assert tts.request_for(say("Bonjour", language="fr")).voice == "fr-FR-EloiseNeural"
    assert tts.request_for(say("Hi", "little boy")).pitch == "-8Hz"
    with pytest.raises(BackendError, match=r'line "Hej": .*\n  hint: .*tts\.languages\.sv=VOICE'):
        tts.speak(say("Hej", language="sv"))


def test_the_language_catalogue_casts_each_category():
    tts = edge("+tts.languages.sv=sv-SE-SofieNeural")
    cast = {category: tts.request_for(say("Hej", category, language="fr-FR"))
            for category in ("narrator", "little boy", "old woman", "dragon", "mother")}
    assert {c: r.voice for c, r in cast.items()} == {
        "narrator": "fr-FR-DeniseNeural", "little boy": "fr-FR-EloiseNeural",
        "old woman": "fr-FR-DeniseNeural", "dragon": "fr-FR-HenriNeural",
        "mother": "fr-FR-DeniseNeural"}
    assert cast["little boy"].pitch == "-8Hz" and cast["old woman"].rate == "-10%"
    assert cast["dragon"].pitch == "-25Hz"
    zh = tts.request_for(say("你好", "girl", language="zh-Hans", direction="whispering"))
    assert (zh.voice, zh.rate, zh.volume) == ("zh-CN-XiaoyiNeural", "-10%", "-25%")
    sv = tts.request_for(say("Hej", "elder", language="sv"))
    assert (sv.voice, sv.rate) == ("sv-SE-SofieNeural", "-10%")  # the category's own factors
    with pytest.raises(ConfigError, match=r"languages\.fr: .*\{voice, rate, pitch, volume\}"):
        edge("tts.languages.fr.child={voice: x, speed: 2}")


def test_decodes_mp3_to_engine_samples():
    audio = decode(sine_mp3(1.0, 440.0), SAMPLE_RATE)
    assert audio.dtype == np.float32
    assert abs(len(audio) / SAMPLE_RATE - 1.0) < 0.1
    assert abs(dominant_frequency(audio, SAMPLE_RATE) - 440.0) < 3.0
    assert 0.3 < np.abs(audio).max() <= 1.0
    with pytest.raises(Exception):
        decode(b"not an mp3 at all" * 50, SAMPLE_RATE)


class LoopbackEdge:
    """A websocket server speaking the read-aloud protocol edge-tts expects, on 127.0.0.1: it
    refuses the first `refuse_first` connections (`refuse_status`: 503, or 403 and 429 as the
    service answers a stale token and too many requests), waits `delay` seconds before answering,
    sends `words` (seconds, seconds, text) as word boundaries, and counts requests open at once;
    its first `cut_first` answers send only the first third of the audio (it still decodes)."""

    def __init__(self, audio: bytes, refuse_first: int = 0, delay: float = 0.0,
                 words: tuple[tuple[float, float, str], ...] = (), cut_first: int = 0,
                 refuse_status: int = 503, refuse_date: str | None = None):
        self.audio, self.refuse_first, self.delay, self.words = audio, refuse_first, delay, words
        self.refuse_status, self.refuse_date = refuse_status, refuse_date
        self.cut_first, self.answered = cut_first, 0
        self.requests: list[str] = []
        self.configs: list[str] = []
        self.connections = 0
        self.open_now = self.most_open = 0
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _handle(self, request):
        self.connections += 1
        if self.connections <= self.refuse_first:
            headers = {"Date": self.refuse_date} if self.refuse_date else None
            return aiohttp_web.Response(status=self.refuse_status, text="busy", headers=headers)
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            return await self._answer(request)
        finally:
            self.open_now -= 1

    async def _answer(self, request):
        ws = aiohttp_web.WebSocketResponse()
        await ws.prepare(request)
        messages = [await ws.receive_str(), await ws.receive_str()]
        assert "Path:speech.config" in messages[0]
        self.configs.append(messages[0])
        self.requests.append(messages[1])
        await asyncio.sleep(self.delay)
        text = "X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:"
        await ws.send_str(text + "turn.start\r\n\r\n{}")
        for start, seconds, word in self.words:
            await ws.send_str(text + "audio.metadata\r\n\r\n" + json.dumps({"Metadata": [{
                "Type": "WordBoundary", "Data": {
                    "Offset": round(start * 10_000_000), "Duration": round(seconds * 10_000_000),
                    "text": {"Text": word, "Length": len(word), "BoundaryType": "WordBoundary"}}}]}))
        header = b"X-RequestId:1\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n"
        self.answered += 1
        audio = self.audio[:len(self.audio) // 3] if self.answered <= self.cut_first else self.audio
        for start in range(0, len(audio), 4096):
            await ws.send_bytes(len(header).to_bytes(2, "big") + header
                                + audio[start:start + 4096])
        await ws.send_str(text + "turn.end\r\n\r\n{}")
        await ws.close()
        return ws

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = aiohttp_web.Application()
        app.router.add_get("/edge/v1", self._handle)
        self._runner = aiohttp_web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = aiohttp_web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> LoopbackEdge:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *_exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def point_client_at(monkeypatch) -> Callable[[int], None]:
    """edge-tts has no endpoint option: its module-level service URL is pointed at loopback."""
    import edge_tts.communicate

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    def point(port: int) -> None:
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL",
                            f"ws://127.0.0.1:{port}/edge/v1?TrustedClientToken=test")
    return point


def test_speaks_through_the_real_client(point_client_at):
    with LoopbackEdge(sine_mp3(1.2, 330.0)) as server:
        point_client_at(server.port)
        audio = edge().speak(say("Where are you, little fox?", "child", direction="excited"))
    assert audio.sample_rate == SAMPLE_RATE
    assert 0.9 < audio.duration < 1.4
    assert abs(dominant_frequency(audio.samples, SAMPLE_RATE) - 330.0) < 3.0
    ssml = server.requests[0]
    assert "Microsoft Server Speech Text to Speech Voice (en-US, AnaNeural)" in ssml
    assert re.search(r"pitch='\+20Hz' rate='\+18%' volume='\+15%'", ssml)
    assert "Where are you, little fox?" in ssml


def test_network_faults_retry_then_name_the_line(point_client_at):
    with LoopbackEdge(sine_mp3(0.5), refuse_first=1) as server:
        point_client_at(server.port)
        audio = edge("tts.backoff=0.01").speak(say("Once upon a time."))
        assert audio.duration > 0.3 and server.connections == 2
    with LoopbackEdge(sine_mp3(0.5), refuse_first=99) as server:
        point_client_at(server.port)
        with pytest.raises(BackendError) as caught:
            edge("tts.attempts=3", "tts.backoff=0.01").speak(say("The owl hooted twice."))
        assert server.connections == 3
    message = str(caught.value)
    assert 'line "The owl hooted twice."' in message and "failed 3 times" in message
    assert "tts=espeak" in message


def test_bad_voice_id_fails_before_the_network():
    with pytest.raises(BackendError, match=r"voice 'not a voice'.*\n  hint: .*list-voices"):
        edge("tts.attempts=1").speak(say("Hello.", ids=(("edge", "not a voice"),)))


def test_the_yaml_is_the_voice_table_and_a_category_can_be_added():
    identity = edge().identity()
    assert identity["backend"] == "edge" and identity["edge_tts"]
    assert identity["categories"]["child"]["voice"] == "en-US-AnaNeural"
    custom = edge("+tts.categories.robot={voice:en-US-EricNeural,pitch:0.8}")
    assert custom.request_for(say("Beep.", "robot")).voice == "en-US-EricNeural"
    with pytest.raises(ValueError, match="an entry takes voice"):
        EdgeTTS(categories={"child": {"speed": 2}})


def test_word_boundaries_come_with_the_audio(point_client_at):
    words = ((0.1, 0.3, "Where"), (0.45, 0.2, "are"), (0.7, 0.25, "you"))
    with LoopbackEdge(sine_mp3(1.2, 330.0), words=words) as server:
        point_client_at(server.port)
        audio = edge().speak(say("Where are you?"))
    assert '"wordBoundaryEnabled":"true"' in server.configs[0]  # asked for: 7.x sends sentences
    assert [w.text for w in audio.words] == ["Where", "are", "you"]
    # the clip's leading silence (the MP3 decoder's delay) was trimmed: times moved with it
    shift = words[0][0] - audio.words[0].start
    assert 0 <= shift < 0.08
    for (start, seconds, _), word in zip(words, audio.words):
        assert word.start == pytest.approx(start - shift, abs=1e-3)
        assert word.end == pytest.approx(start + seconds - shift, abs=1e-3)


def test_a_cut_off_answer_is_tried_again_then_named_and_never_returned(point_client_at):
    words = ((0.1, 0.3, "The"), (0.5, 0.3, "owl"), (0.9, 0.25, "hooted"))
    full = sine_mp3(1.2, 330.0)
    assert len(decode(full[:len(full) // 3], SAMPLE_RATE)) / SAMPLE_RATE < 0.5  # it decodes
    with LoopbackEdge(full, words=words, cut_first=1) as server:
        point_client_at(server.port)
        audio = edge("tts.backoff=0.01").speak(say("The owl hooted."))
    assert server.answered == 2 and 1.0 < audio.duration < 1.4
    assert [w.text for w in audio.words] == ["The", "owl", "hooted"]
    with LoopbackEdge(full, words=words, cut_first=99) as server:
        point_client_at(server.port)
        with pytest.raises(BackendError) as caught:
            edge("tts.attempts=2", "tts.backoff=0.01").speak(say("The owl hooted."))
    assert server.answered == 2
    message = str(caught.value)
    assert 'line "The owl hooted."' in message
    assert re.search(r"cut-off audio 2 times; last: the audio ends at 0\.[0-9]{2}s, but its "
                     r"last word at 1\.15s", message)


def test_lines_spoken_at_once_never_exceed_the_bound(point_client_at):
    tts = edge("tts.concurrency=2")
    with LoopbackEdge(sine_mp3(0.3), delay=0.15) as server:
        point_client_at(server.port)
        with ThreadPoolExecutor(6) as pool:  # more callers than the bound
            clips = list(pool.map(tts.speak, [say(f"Line {n}.") for n in range(6)]))
    assert len(clips) == 6 and all(clip.duration > 0.2 for clip in clips)
    assert server.most_open == 2 and len(server.requests) == 6


def test_the_speak_stage_speaks_as_many_lines_at_once_as_the_bound(point_client_at, tmp_path):
    from engine.cache import Cache
    from engine.dsl.parse import parse_text
    from engine.manifest import Recorder
    from engine.stages.speak import speak
    from engine.steps import Step

    story, problems = parse_text("title: Night\nscene a\n" + "".join(
        f'  "Line number {n}."\n' for n in range(7)), "/repo/night.story")
    assert not problems
    words = ((0.05, 0.2, "Line"), (0.3, 0.2, "number"))
    with LoopbackEdge(sine_mp3(0.5), refuse_first=2, delay=0.2, words=words) as server:
        point_client_at(server.port)
        spoken = speak(story, edge("tts.concurrency=3", "tts.backoff=0.01"),
                       Step(Cache(tmp_path / "cache"), Recorder()))
    assert server.most_open == 3 and server.connections == 7 + 2  # two refused, retried
    assert [s.text for s in spoken] == [f"Line number {n}." for n in range(7)]  # story order
    assert all(s.words is not None and s.words.name == "words.json" for s in spoken)
    assert "Line" in spoken[0].words.read_text(encoding="utf-8")


@pytest.mark.parametrize("status", [403, 429])
def test_403_and_429_are_tried_again_with_backoff(point_client_at, status: int, caplog):
    """A 403 (a stale token: edge-tts fixes its clock from the answer's Date and asks once more
    itself) and a 429 (too many requests) are retried; past the attempts, a clear error."""
    # edge-tts's own second try after a 403 is one more connection per attempt
    per_attempt = 2 if status == 403 else 1
    with LoopbackEdge(sine_mp3(0.5), refuse_first=2 * per_attempt,
                      refuse_status=status) as server:
        point_client_at(server.port)
        with caplog.at_level("WARNING", logger="engine.backends.tts.edge"):
            audio = edge("tts.backoff=0.01").speak(say("Once upon a time."))
    assert audio.duration > 0.3 and server.connections == 2 * per_attempt + 1
    assert caplog.text.count("retrying in") == 2
    with LoopbackEdge(sine_mp3(0.5), refuse_first=99, refuse_status=status) as server:
        point_client_at(server.port)
        with pytest.raises(BackendError) as caught:
            edge("tts.attempts=2", "tts.backoff=0.01").speak(say("The owl hooted twice."))
    assert server.connections == 2 * per_attempt
    message = str(caught.value)
    assert 'line "The owl hooted twice."' in message and "failed 2 times" in message
    assert str(status) in message and "\n" not in message.split("hint:")[0].strip()


def test_an_answer_without_audio_is_a_clear_error_and_nothing_is_cached(point_client_at,
                                                                        tmp_path: Path):
    from engine.cache import Cache
    from engine.dsl.parse import parse_text
    from engine.manifest import Recorder
    from engine.stages.speak import speak
    from engine.steps import Step

    story, problems = parse_text('title: Night\nscene a\n  "The owl hooted."\n',
                                 "/repo/night.story")
    assert not problems
    with LoopbackEdge(b"") as server:  # turn.start, turn.end, and no audio between
        point_client_at(server.port)
        with pytest.raises(BackendError) as caught:
            speak(story, edge("tts.backoff=0.01"), Step(Cache(tmp_path / "cache"), Recorder()))
    message = str(caught.value)
    assert 'line "The owl hooted."' in message and "sent no audio" in message
    assert "voice 'en-" in message and "edge-tts --list-voices" in message
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()
                and p.suffix in (".wav", ".json")]


def test_a_403_without_a_readable_date_is_retried_then_one_clear_line(point_client_at):
    """edge-tts corrects its clock from a 403's Date; one it cannot read is a fault like any."""
    with LoopbackEdge(sine_mp3(0.5), refuse_first=1, refuse_status=403,
                      refuse_date="not a date") as server:
        point_client_at(server.port)
        audio = edge("tts.backoff=0.01").speak(say("Once upon a time."))
    assert audio.duration > 0.3 and server.connections == 2
    with LoopbackEdge(sine_mp3(0.5), refuse_first=99, refuse_status=403,
                      refuse_date="not a date") as server:
        point_client_at(server.port)
        with pytest.raises(BackendError) as caught:
            edge("tts.attempts=2", "tts.backoff=0.01").speak(say("The owl hooted twice."))
    message = str(caught.value)
    assert 'line "The owl hooted twice."' in message and "failed 2 times" in message
    assert "SkewAdjustmentError" in message and "not a date" in message
