"""The speak stage: every line in its speaker's voice, one cached WAV per line (and the times
of its words, where the TTS reports them)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.backends.tts import TTS, Audio, SpeakRequest
from engine.backends.tts.audio import wav_bytes
from engine.feedback import NO_FEEDBACK, Feedback, ItemFeedback
from engine.ir import Story
from engine.steps import Step, subject_sha256
from engine.voices import voice_spec
from engine.words import write_words

VERSION = 2
WORDS = "words.json"
"""Beside a line's WAV in its cache entry: when each word is heard, as the TTS reported it."""


@dataclass(frozen=True, slots=True)
class Spoken:
    """One line's audio clip and where it belongs."""

    scene_id: str
    index: int
    speaker: str | None
    text: str
    audio: Path
    pinned: bool = False
    """An approved clip reused as it was (`speak`'s docstring says when)."""
    cache: str | None = None
    """The cache entry holding the clip, for a reviewer's approval to pin it."""
    subject: str = ""
    """What the clip says (`subject`, hashed): a pin holds while this is the same."""
    words: Path | None = None
    """`words.json` beside the clip; None: the TTS reports no word times."""


def build_requests(story: Story) -> list[tuple[str, int, str | None, SpeakRequest]]:
    """(scene id, line index, speaker, request) for every line of a written story."""
    language = story.text("language", "en") or "en"
    return [(scene.id, i, line.speaker,
             SpeakRequest(text=line.text or "", voice=voice_spec(story, line.speaker),
                          language=language, direction=line.direction))
            for scene in story.scenes for i, line in enumerate(scene.lines)]


def write_wav(audio: Audio, path: Path) -> None:
    """16-bit PCM mono WAV of the clip."""
    path.write_bytes(wav_bytes(audio.samples, audio.sample_rate))


def write_line(audio: Audio, path: Path) -> None:
    """The clip as `path` (WAV) and, when the TTS timed its words, `words.json` beside it."""
    write_wav(audio, path)
    if audio.words is not None:
        write_words(audio.words, path.with_name(WORDS))


def speak(story: Story, tts: TTS, step: Step,
          advance: Callable[[], None] = lambda: None,
          feedback: Feedback = NO_FEEDBACK) -> list[Spoken]:
    """Voice every line (cached); results in story order. A line whose approved clip the cache
    still holds for the same words, speaker, delivery, language and story voice reuses it
    (pinned), whatever TTS backend or settings speak it now. A TTS with a `concurrency` (one
    that waits on a network service) speaks that many lines at once."""
    def one(scene_id: str, index: int, speaker: str | None, request: SpeakRequest) -> Spoken:
        says = subject_sha256(subject(speaker, request))
        label = f"{scene_id}:{index + 1}"
        path = _pinned(feedback.line(scene_id, index), request.text, says, step, label)
        pinned = path is not None
        if path is None:
            path = step.run("speak", VERSION, request, tts, "line.wav",
                            lambda target: write_line(tts.speak(request), target), label=label)
        words = path.with_name(WORDS)
        advance()
        return Spoken(scene_id, index, speaker, request.text, path, pinned,
                      step.entry_key(path), says, words if words.exists() else None)

    requests = build_requests(story)
    workers = max(1, int(getattr(tts, "concurrency", 1)))
    if workers == 1 or len(requests) < 2:
        return [one(*line) for line in requests]
    pool = ThreadPoolExecutor(min(workers, len(requests)), thread_name_prefix="speak")
    try:
        futures = [pool.submit(one, *line) for line in requests]
        return [future.result() for future in futures]
    finally:  # the first failure: lines not started yet are not spoken
        pool.shutdown(cancel_futures=True)


def subject(speaker: str | None, request: SpeakRequest) -> dict[str, object]:
    """What a clip says and in which voice, as its pin knows it: the voice as the story gives it
    (name, category, per-backend ids, rate, pitch), not the TTS backend or its settings."""
    return {"speaker": speaker, "text": request.text, "direction": request.direction,
            "language": request.language, "voice": request.voice}


def _pinned(review: ItemFeedback, text: str, says: str, step: Step, label: str) -> Path | None:
    for approval in review.approved:
        if approval.text == text and approval.subject == says:
            path = step.kept(approval.cache, approval.content, stage="speak",
                             label=f"{label} (approved)")
            if path is not None:
                return path
    return None
