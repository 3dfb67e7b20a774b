"""Who speaks a line with which voice: a character's voice name or category → a VoiceSpec."""

from __future__ import annotations

from engine.backends.tts import VoiceSpec
from engine.dsl.vocabulary import category_in
from engine.ir import NARRATOR, Story, Voice

_VOICE_SETTINGS = frozenset({"category", "rate", "pitch"})


def _guess_category(description: str) -> str:
    """A category from a description, for characters that name no voice."""
    return category_in(description) or "adult"


def voice_category(story: Story, speaker: str | None) -> str:
    """The category of the voice that speaks for `speaker` (None: the narrator)."""
    return voice_spec(story, speaker).category


def _number(voice: Voice, key: str) -> float:
    text = voice.text(key)
    return float(text) if text else 1.0


def _from_block(voice: Voice, fallback_category: str) -> VoiceSpec:
    ids = tuple(sorted((f.key, f.value.text) for f in voice.fields
                       if f.key not in _VOICE_SETTINGS and f.argument is None))
    return VoiceSpec(name=voice.name, category=voice.text("category") or fallback_category,
                     ids=ids, rate=_number(voice, "rate"), pitch=_number(voice, "pitch"))


def voice_spec(story: Story, speaker: str | None) -> VoiceSpec:
    """The voice for a speaker: a `voice` block by name, else a category, else a guess."""
    if speaker is None or speaker == NARRATOR:
        block = story.voice(NARRATOR)
        return _from_block(block, NARRATOR) if block else VoiceSpec(NARRATOR, NARRATOR)
    character = story.character(speaker)
    if character is None:
        return VoiceSpec(speaker, "adult")
    chosen = character.text("voice")
    if chosen:
        block = story.voice(chosen)
        if block is not None:
            return _from_block(block, _guess_category(character.text("description", "") or ""))
        return VoiceSpec(chosen, chosen)
    return VoiceSpec(f"{speaker}-voice", _guess_category(character.text("description", "") or ""))
