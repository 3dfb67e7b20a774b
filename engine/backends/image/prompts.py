"""Prompts a CLIP text encoder reads whole: who is there first, then what happens, where, how."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from engine.backends.image import DrawRequest
from engine.backends.tts.delivery import heard_only

WHO, LOOKS, ACTION, SETTING, STYLE = range(5)
"""Ranks, most important first: a phrase of a higher rank is left out before any of a lower."""

_SENTENCE = re.compile(r"[.;!?]+(?:\s+|$)|\n+")
_SPLIT = re.compile(r"[.;!?]+(?:\s+|$)|,\s*|\n+")
_FILLER = frozenset({"a", "an", "the", "and", "very", "little", "bit", "in", "with", "voice",
                     "tone", "of", "to"})
CLIP_TOKENS = 77
"""What a CLIP text encoder reads (start and end marks included) when its tokenizer says less."""


@dataclass(frozen=True, slots=True)
class Phrase:
    """One thing the prompt says, its rank, and whether it may never be left out."""

    text: str
    rank: int
    kept: bool = False  # a personalised character's token and name


@dataclass(frozen=True, slots=True)
class Fitted:
    """A prompt as handed to the pipeline, its tokens per encoder, and what was left out."""

    text: str
    tokens: dict[str, int]
    dropped: tuple[str, ...] = ()


def split_phrases(text: str) -> list[str]:
    """A prompt's phrases: the pieces between sentence ends and commas."""
    return [piece.strip() for piece in _SPLIT.split(text or "") if piece and piece.strip()]


def _key(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def only_heard(phrase: str) -> bool:
    """A phrase that says only how a line sounds (`whispering`, `in a soft voice`)."""
    words = re.findall(r"[a-z]+", phrase.lower())
    return any(heard_only(w) for w in words) and all(heard_only(w) or w in _FILLER
                                                      for w in words)


def scene_phrases(request: DrawRequest) -> list[Phrase]:
    """Everything the picture should show, each thing once, in the order the encoder reads it:
    each character's token, name and tags (or description) and what the scene says that
    character does, then the rest of the scene prompt, its setting and the story's style.

    A scene prompt that repeats a character's description, the setting or the style (as filled
    prompts do) does not say it twice, and a line's voice direction is not a picture."""
    said: set[str] = set()
    groups: dict[str, list[Phrase]] = {}
    for look in request.characters:
        groups[_key(look.name)] = group = []
        _add(group, said, f"{look.token} {look.name}" if look.token else look.name, WHO,
             kept=bool(look.token))
        for detail in look.tags or split_phrases(look.description):
            _add(group, said, detail, LOOKS)
    for look in request.characters:  # the scene prompt's copy of a look says nothing new
        said.update(_key(p) for p in [look.name, look.description,
                                       *split_phrases(look.description)])
    later = ([(p, SETTING) for p in split_phrases(request.setting)]
             + [(p, STYLE) for p in split_phrases(request.style)])
    said_later = {_key(text) for text, _rank in later}
    rest: list[Phrase] = []
    for sentence in _SENTENCE.split(request.prompt or ""):
        phrases = split_phrases(sentence)
        # "Luna, a small moon, smiling.": what follows a name is that character's
        owner = groups.get(_key(phrases[0])) if phrases else None
        for phrase in phrases:
            if _key(phrase) not in said_later and not only_heard(phrase):
                _add(rest if owner is None else owner, said, phrase, ACTION)
    for text, rank in later:
        _add(rest, said, text, rank)
    return [phrase for group in groups.values() for phrase in group] + rest


def _add(into: list[Phrase], said: set[str], text: str, rank: int, kept: bool = False) -> None:
    """`text` as a phrase of `into`, unless the prompt says it already."""
    key = _key(text)
    if key and key not in said:
        said.add(key)
        into.append(Phrase(text.strip(), rank, kept))


def join(phrases: Iterable[Phrase]) -> str:
    return ", ".join(p.text for p in phrases)


def fit(phrases: Sequence[Phrase], count: Callable[[str], dict[str, int]], limit: int | None
        ) -> Fitted:
    """The phrases joined, leaving out the lowest-ranked (the last of a rank first) until every
    encoder's token count is within `limit`; a kept phrase is never left out. No limit: all."""
    kept = list(phrases)
    text, dropped = join(kept), []
    tokens = count(text)
    while limit is not None and tokens and max(tokens.values()) > limit:
        droppable = [i for i, p in enumerate(kept) if not p.kept]
        if not droppable:
            break
        victim = max(droppable, key=lambda i: (kept[i].rank, i))
        dropped.append(kept.pop(victim).text)
        text = join(kept)
        tokens = count(text)
    return Fitted(text, tokens, tuple(dropped))


def negative_phrases(negative_prompt: str) -> list[Phrase]:
    """A negative prompt's phrases, each once; the last is the first left out."""
    seen: set[str] = set()
    out = []
    for phrase in split_phrases(negative_prompt):
        if _key(phrase) not in seen:
            seen.add(_key(phrase))
            out.append(Phrase(phrase, STYLE))
    return out


def token_counter(tokenizers: dict[str, Any]) -> Callable[[str], dict[str, int]]:
    """Counts a text's tokens (start and end marks included) with each named tokenizer."""
    def count(text: str) -> dict[str, int]:
        return {name: len(tokenizer(text, truncation=False, verbose=False).input_ids)
                for name, tokenizer in tokenizers.items()}
    return count


def token_limit(tokenizers: dict[str, Any]) -> int | None:
    """The fewest tokens any of the tokenizers' encoders reads; None without tokenizers."""
    limits = [t.model_max_length if 0 < t.model_max_length < 100_000 else CLIP_TOKENS
              for t in tokenizers.values()]
    return min(limits) if limits else None
