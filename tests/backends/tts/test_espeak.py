"""tts=espeak speaks real audio: voices per category, directions, determinism, threads, errors."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace

import numpy as np
import pytest

from tests.backends.tts.measures import (assert_concurrent_calls_match_sequential,
                                         assert_speech, median_f0, rms)
from tests.configured import configured

from engine.backends.tts import SAMPLE_RATE, SpeakRequest, VoiceSpec
from engine.backends.tts.espeak import EspeakTTS
from engine.errors import BackendError, MissingDependency

LINE = "The little fox ran all the way home across the snowy meadow."


@pytest.fixture(scope="module")
def tts() -> EspeakTTS:
    return configured("tts", "espeak")


def say(tts: EspeakTTS, text: str = LINE, category: str = "narrator", **kwargs):
    voice = VoiceSpec("voice", category, ids=kwargs.pop("ids", ()), rate=kwargs.pop("rate", 1.0),
                      pitch=kwargs.pop("pitch", 1.0))
    return tts.speak(SpeakRequest(text, voice, **kwargs))


def test_speaks_real_audio(tts: EspeakTTS):
    assert_speech(say(tts), SAMPLE_RATE, longest=6.0)


def test_duration_grows_with_text_and_shrinks_with_rate(tts: EspeakTTS):
    short = say(tts, "The fox ran home.").duration
    long = say(tts, "The fox ran home. " * 4).duration
    assert 3.0 < long / short < 5.0
    fast = say(tts, rate=1.5).duration
    normal = say(tts).duration
    assert 0.55 < fast / normal < 0.8
    assert say(tts, "   ").duration == pytest.approx(tts.empty_line)


def test_leading_and_trailing_silence_trimmed(tts: EspeakTTS):
    audio = say(tts)
    loud = np.flatnonzero(np.abs(audio.samples) > 0.01)
    assert loud[0] / audio.sample_rate < tts.keep_silence + 0.05
    assert (len(audio.samples) - loud[-1]) / audio.sample_rate < tts.keep_silence + 0.05


def test_categories_sound_different(tts: EspeakTTS):
    child = say(tts, category="child")
    elder = say(tts, category="elder")
    assert median_f0(child.samples, child.sample_rate) > 1.8 * median_f0(elder.samples,
                                                                           elder.sample_rate)
    assert elder.duration > child.duration * 1.1   # elders speak slower
    settings = {tts.plan(SpeakRequest(LINE, VoiceSpec("v", c)))[0]
                for c in ("narrator", "child", "adult", "elder", "creature")}
    assert len(settings) == 5


def test_free_text_categories_fall_back_sensibly(tts: EspeakTTS):
    def voice(category: str) -> str:
        return tts.plan(SpeakRequest(LINE, VoiceSpec("v", category)))[0].voice

    assert voice("girl") == voice("child-female") == voice("child")
    assert voice("little boy") == voice("child-male") != voice("child")
    assert voice("old woman").endswith("+grandma")
    assert voice("dragon") == voice("creature")
    assert voice("spaceship") == voice("adult")


def test_same_request_same_samples(tts: EspeakTTS):
    first = say(tts, category="child", direction="whispering")  # whisper: noise-driven
    say(tts, "Something else entirely, to move espeak's internal state.", category="elder")
    second = say(tts, category="child", direction="whispering")
    assert np.array_equal(first.samples, second.samples)
    assert np.array_equal(say(tts).samples, configured("tts", "espeak").speak(
        SpeakRequest(LINE, VoiceSpec("voice", "narrator"))).samples)


def test_directions_change_delivery(tts: EspeakTTS, caplog):
    plain = say(tts, category="adult")
    whisper = say(tts, category="adult", direction="whispering")
    shout = say(tts, category="adult", direction="shouting")
    sleepy = say(tts, category="adult", direction="sleepily")
    excited = say(tts, category="adult", direction="excitedly")
    assert tts.plan(SpeakRequest(LINE, VoiceSpec("v", "adult"), direction="whispers"))[0] \
        .voice.endswith("+whisper")
    assert tts.plan(SpeakRequest(LINE, VoiceSpec("v", "child"), direction="whisper"))[0] \
        .voice.endswith("+whisperf")
    assert rms(whisper.samples) < 0.85 * rms(plain.samples)
    assert rms(shout.samples) > 1.3 * rms(plain.samples)
    assert median_f0(shout.samples, SAMPLE_RATE) > 1.1 * median_f0(plain.samples, SAMPLE_RATE)
    assert sleepy.duration > 1.2 * plain.duration
    assert excited.duration < 0.9 * plain.duration
    with caplog.at_level(logging.DEBUG, logger="engine.backends.tts.delivery"):
        odd = say(tts, category="adult", direction="flamboyantly")
    assert np.array_equal(odd.samples, plain.samples)
    assert "flamboyantly" in caplog.text


def test_a_pitch_past_espeaks_scale_is_said_once_not_silently_capped(caplog):
    tts = configured("tts", "espeak")  # its own: what it has said is its own too
    with caplog.at_level(logging.WARNING, logger="engine"):
        high = say(tts, "Hello.", category="child", pitch=3.0)
        say(tts, "Hello again.", category="child", pitch=3.0)
        say(tts, "Hello.", category="child", pitch=1.1)  # 97: inside the scale
    told = [r.getMessage() for r in caplog.records if "pitch" in r.getMessage()]
    assert told == ["voice voice: pitch 3 asks espeak-ng for 264 on its 0–99 scale (the child "
                    "category's 88 × 3): it speaks at 99"]
    assert np.array_equal(high.samples, say(tts, "Hello.", category="child", pitch=4.0).samples)


def test_concurrent_calls_match_sequential(tts: EspeakTTS):
    requests = [SpeakRequest(f"Line number {n} of the story.", VoiceSpec("v", c), direction=d)
                for n, (c, d) in enumerate([("child", None), ("elder", "sadly"),
                                            ("creature", "angrily"), ("narrator", "whispering")])]
    assert_concurrent_calls_match_sequential(tts, requests, threads=8, repeats=2)


def test_voice_id_wins(tts: EspeakTTS):
    chosen = tts.plan(SpeakRequest(LINE, VoiceSpec("v", "elder", ids=(("espeak", "en-gb+f3"),))))
    assert chosen[0].voice.endswith("/en+f3")
    assert tts.plan(SpeakRequest(LINE, VoiceSpec("v", "child", ids=(("espeak", "+m7"),)),
                                 language="fr"))[0].voice.endswith("/fr+m7")
    assert tts.plan(SpeakRequest(LINE, VoiceSpec("v", "child"), language="fr"))[0] \
        .voice.split("+")[0].endswith("/fr")
    overridden = say(tts, category="elder", ids=(("espeak", "en-gb+f3"),))
    assert not np.array_equal(overridden.samples, say(tts, category="elder").samples)
    higher = tts.plan(SpeakRequest(LINE, VoiceSpec("v", "adult", pitch=1.2)))[0]
    assert higher.pitch == 60


@pytest.mark.parametrize("voice_id, problem", [("xx-yy+f3", "no language 'xx-yy'"),
                                               ("en+nosuchvariant", "no voice variant")])
def test_bad_voice_id_fails_clearly(tts: EspeakTTS, voice_id: str, problem: str):
    with pytest.raises(BackendError) as caught:
        say(tts, "Hello there, Grandpa.", ids=(("espeak", voice_id),))
    message = str(caught.value)
    assert problem in message and voice_id in message
    assert 'line "Hello there, Grandpa."' in message and "tts=espeak" in message
    assert "en-gb+f3" in message  # the hint shows the expected shape


def test_quotes_and_ellipses_are_not_read(tts: EspeakTTS):
    plain = say(tts, "Where are you going, little fox")
    quoted = say(tts, "“Where are you going… little fox?”")
    assert abs(quoted.duration - plain.duration) < 0.6
    assert say(tts, "“…”").duration == pytest.approx(tts.empty_line)


def test_the_yaml_is_the_voice_table_and_overrides_merge_into_it(tts: EspeakTTS):
    identity = tts.identity()
    assert identity["espeak_ng"].startswith("1.") and identity["sample_rate"] == SAMPLE_RATE
    assert set(identity["categories"]) >= {"narrator", "child", "adult", "elder", "creature"}
    assert "whisper" in identity["directions"]
    tweaked = configured("tts", "espeak", "tts.categories.child.pitch=70",
                         "+tts.directions.sad={rate:0.5}")
    assert tweaked.identity() != identity
    assert tweaked.categories["child"] == replace(tts.categories["child"], pitch=70)
    assert tweaked.directions["sad"].rate == 0.5
    with pytest.raises(ValueError, match="no variant"):
        EspeakTTS(categories={"child": {"variant": "nonsense"}})
    with pytest.raises(ValueError, match="no voice categories"):
        EspeakTTS(categories={})


def test_missing_library_names_the_install(monkeypatch):
    import espeakng_loader

    from engine.backends.tts import espeak_lib

    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: "/nonexistent/libespeak-ng.so")
    with pytest.raises(MissingDependency, match="pip install espeakng-loader"):
        espeak_lib.Library()
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # not installed at all
    with pytest.raises(MissingDependency, match="pip install espeakng-loader"):
        espeak_lib.Library()


def test_word_events_time_each_word_at_its_sound(tts: EspeakTTS):
    audio = tts.speak(SpeakRequest("Bob. Sam. Tom. Pam.", VoiceSpec("n", "narrator")))
    assert [w.text for w in audio.words] == ["Bob", "Sam", "Tom", "Pam"]
    rate, samples = audio.sample_rate, audio.samples

    def level(begin: float, end: float) -> float:
        return float(np.sqrt(np.mean(samples[int(begin * rate):int(end * rate)] ** 2)))

    assert audio.words[0].start <= 0.1  # the trimmed clip starts with its first word
    for word in audio.words[1:]:  # each after a sentence's pause: silence, then the word
        assert level(word.start - 0.06, word.start - 0.01) < 0.001 < level(word.start,
                                                                          word.start + 0.1)
    assert all(a.end == b.start for a, b in zip(audio.words, audio.words[1:]))
    assert audio.words[-1].end == pytest.approx(audio.duration, abs=1e-3)
    chinese = tts.speak(SpeakRequest("小狐狸，我们走吧。", VoiceSpec("n", "narrator"), language="zh"))
    assert "".join(w.text for w in chinese.words) in "小狐狸我们走吧"
    assert len(chinese.words) >= 4
