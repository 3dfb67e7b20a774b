"""tts=openai against a loopback /v1/audio/speech: voices per category and language, the line's
direction as instructions, the older models' speed, retries, and clear one-line failures."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backends.tts import SAMPLE_RATE, SpeakRequest, VoiceSpec
from engine.backends.tts.audio import speech_level
from engine.backends.tts.openai import OpenAITTS
from engine.config import compose_config
from engine.errors import BackendError
from tests.backends.planted_key import planted_key_fixtures
from tests.backends.llm.loopback_server import (LoopbackServer, not_audio, refused_url, speech,
                                                status)

KEY = "sk-test-PLANTED-tts-0123456789"


planted_key, all_logs = planted_key_fixtures(KEY)


def tts(url: str, **settings) -> OpenAITTS:
    """The backend as conf/tts/openai.yaml builds it, pointed at `url`, with short waits."""
    node = dict(compose_config(["tts=openai"]).tts)
    node.pop("_target_")
    return OpenAITTS(**(node | {"base_url": url, "backoff": 0.01, "timeout": 5.0} | settings))


def line(text: str, category: str = "child", *, direction: str | None = None,
         language: str = "en", ids: tuple[tuple[str, str], ...] = (),
         rate: float = 1.0) -> SpeakRequest:
    return SpeakRequest(text, VoiceSpec("Mo", category, ids=ids, rate=rate), language, direction)


def test_a_line_is_spoken_with_its_category_voice_and_direction_as_instructions():
    with LoopbackServer(speech(0.6)) as server:
        audio = tts(server.base_url).speak(line("Hello, moon!", "girl", direction="whispering"))
    (sent,) = server.requests
    assert server.paths == ["/v1/audio/speech"]
    assert (sent["model"], sent["voice"], sent["input"]) == ("gpt-4o-mini-tts", "coral",
                                                            "Hello, moon!")
    assert sent["response_format"] == "wav" and "speed" not in sent
    assert sent["instructions"] == ("A bright, curious young girl. Say this line whispering. "
                                    "Speak at about 0.90 times your usual pace.")  # whisper: 0.9
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.duration == pytest.approx(0.6, abs=0.03)
    whisper_volume = 0.75  # the built-in direction table's whisper volume scales the level
    level = 20 * np.log10(speech_level(audio.samples, SAMPLE_RATE))
    assert level == pytest.approx(-23.0 + 20 * np.log10(whisper_volume), abs=0.5)


def test_the_older_models_get_speed_and_no_instructions():
    with LoopbackServer(speech()) as server:
        tts(server.base_url, model="tts-1-hd").speak(line("Once upon a time.", "old man"))
    (sent,) = server.requests
    assert sent["model"] == "tts-1-hd" and sent["voice"] == "onyx"
    assert "instructions" not in sent and sent["speed"] == pytest.approx(0.92)


def test_the_story_language_and_a_voice_block_choose_the_voice():
    languages = {"fr": {"narrator": {"voice": "nova", "instructions": "Une conteuse douce."}}}
    with LoopbackServer(speech(), speech(), speech()) as server:
        voice = tts(server.base_url, languages=languages)
        voice.speak(line("Il était une fois.", "narrator", language="fr-CA"))
        voice.speak(line("Once.", "narrator"))
        voice.speak(line("Bonjour.", "narrator", language="fr", ids=(("openai", "verse"),),
                         rate=1.2))
    french, english, chosen = server.requests
    assert (french["voice"], french["instructions"]) == ("nova", "Une conteuse douce.")
    assert english["voice"] == "fable"
    assert chosen["voice"] == "verse" and "1.20 times your usual pace" in chosen["instructions"]


def test_faults_are_retried_then_the_line_is_spoken():
    with LoopbackServer(status(429, {"retry-after-ms": "10"}), not_audio(), status(503),
                        speech(0.4)) as server:
        audio = tts(server.base_url, max_retries=3).speak(line("Hush."))
    assert len(server.requests) == 4 and audio.duration == pytest.approx(0.4, abs=0.03)


def test_too_many_faults_fail_naming_the_line():
    with LoopbackServer(default=status(500)) as server:
        with pytest.raises(BackendError) as caught:
            tts(server.base_url, max_retries=1).speak(line("The owl sang all night long."))
    assert len(server.requests) == 2
    message = str(caught.value)
    assert "tts=openai" in message and "failed 2 times" in message and "HTTP 500" in message
    first, hint = message.split("\n")
    assert first.startswith('line "The owl sang') and hint.startswith("  hint: ")


def test_a_refused_key_is_not_retried():
    with LoopbackServer(status(401, message="bad key")) as server:
        with pytest.raises(BackendError, match="answered 401: bad key"):
            tts(server.base_url).speak(line("Hi."))
    assert len(server.requests) == 1


def test_no_key_for_openai_itself_is_one_clear_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(BackendError, match="OPENAI_API_KEY is not set"):
        tts(None).speak(line("Hi."))  # type: ignore[arg-type]


def test_a_server_that_is_not_there_fails_after_the_retries():
    with pytest.raises(BackendError, match="cannot connect"):
        tts(refused_url(), max_retries=1).speak(line("Hi."))


def test_an_empty_line_is_silence_without_a_request():
    with LoopbackServer() as server:
        audio = tts(server.base_url).speak(line("…"))
    assert not server.requests and audio.duration == pytest.approx(0.5)
    assert not audio.samples.any()


def test_identity_names_the_model_and_voices_never_the_key():
    voice = tts("http://user:secret@127.0.0.1:9/v1?api-key=x")
    identity = voice.identity()
    assert identity["model"] == "gpt-4o-mini-tts" and identity["categories"]["child"]["voice"]
    assert identity["base_url"] == "http://127.0.0.1:9/v1"
    assert KEY not in repr(identity) and "secret" not in repr(identity)


@pytest.mark.parametrize(("language", "native"), [("fr", "français natif"),
                                                   ("es", "nativa de español"),
                                                   ("de", "muttersprachlichem Deutsch"),
                                                   ("zh", "普通话")])
def test_the_shipped_languages_cast_every_category_with_native_instructions(language: str,
                                                                           native: str):
    """conf/tts/openai.yaml's own table: the story's language picks each category's voice and
    instructions in that language, a voice of the same kind as the category's English one."""
    shipped = tts("http://127.0.0.1:9")
    english, spoken = shipped.categories, shipped.languages[language]
    assert set(spoken) == set(english)
    with LoopbackServer(speech(), speech()) as server:
        voice = tts(server.base_url)
        voice.speak(line("…", "narrator", language=f"{language}-XX"))  # silence: no request
        voice.speak(line("Bonjour!", "girl", language=language))
        voice.speak(line("Hello!", "girl"))
    local, english_girl = server.requests
    assert local["voice"] == english_girl["voice"] == "coral"
    assert local["instructions"] != english_girl["instructions"]
    narrator = voice.voice_for(line("x", "narrator", language=f"{language}-XX"))
    assert narrator.voice == "nova" and native in narrator.instructions
    assert voice.voice_for(line("x", "creature", language=language)).voice == "verse"
    for category, entry in spoken.items():
        assert entry.instructions and entry.instructions != english[category].instructions
