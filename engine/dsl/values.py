"""What a field's value may be: numbers in their ranges, known words, an `sfx:` placement."""

from __future__ import annotations

import re
from pathlib import PurePath

from engine.dsl import vocabulary as vocab
from engine.dsl.hints import hint, listing, name_in_value
from engine.dsl.vocabulary import number
from engine.errors import Diagnostic
from engine.ir import Field, Scene

_WHOLE = re.compile(r"\+?[0-9]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def value_problems(f: Field, block: str, scene: Scene | None) -> list[Diagnostic]:
    """What is wrong with a field's value in a block of this kind (`scene`: the scene it is in)."""
    if f.key == "duration":
        return duration_problems(f)
    if f.key == "sfx" and block == "scene":
        return sound_problems(f, scene)
    found = _number_problem(f) or _word_problem(f, block)
    return [found] if found else []


def _error(f: Field, code: str, message: str, hint_text: str | None) -> Diagnostic:
    return Diagnostic(f.value.span, "error", code, message, hint_text)


def _number_problem(f: Field) -> Diagnostic | None:
    text, key = f.value.text, f.key
    if key == "trainedness":
        value = number(text)
        if text.strip() != vocab.AUTO and (value is None or not 0 <= value <= 1):
            return _error(f, "bad-trainedness",
                          f"trainedness must be a number from 0 to 1 or `auto`, not '{text}'",
                          "0 draws with the base model, 1 fully like the trained one; `auto` "
                          "tries several and keeps the best")
    elif key in {"rate", "pitch"}:
        low, high = vocab.RATE_RANGE
        value = number(text)
        if value is None or not low <= value <= high:
            return _error(f, f"bad-{key}",
                          f"{key} must be a number from {low:g} to {high:g}, not '{text}'",
                          "1 is the voice's normal " + ("speed" if key == "rate" else "pitch")
                          + "; 0.9 is a little " + ("slower" if key == "rate" else "lower"))
    elif key == "seed":
        if not _WHOLE.fullmatch(text.strip()):
            return _error(f, "bad-seed", f"seed must be a whole number, not '{text}'",
                          "e.g. `seed: 42`; the same seed draws the same picture")
    elif key == "scenes":
        whole = text.strip()
        if not _WHOLE.fullmatch(whole) or not 1 <= int(whole) <= vocab.MAX_SCENES:
            return _error(f, "bad-scenes",
                          f"scenes must be a whole number from 1 to {vocab.MAX_SCENES}, "
                          f"not '{text}'", "how many scenes the writer makes from the premise")
    return None


def _word_problem(f: Field, block: str) -> Diagnostic | None:
    text, key = f.value.text, f.key
    if key == "camera" and text not in vocab.CAMERAS:
        return _error(f, "unknown-camera", f"unknown camera '{text}'",
                      hint(text, vocab.CAMERAS, f"cameras: {listing(vocab.CAMERAS)}"))
    if key == "transition" and text not in vocab.TRANSITIONS:
        return _error(f, "unknown-transition", f"unknown transition '{text}'",
                      hint(text, vocab.TRANSITIONS, f"transitions: {listing(vocab.TRANSITIONS)}"))
    if key == "category" and block == "voice" and text not in vocab.VOICE_CATEGORIES:
        return _error(f, "unknown-category", f"unknown voice category '{text}'",
                      hint(text, vocab.VOICE_CATEGORIES,
                           f"categories: {listing(vocab.VOICE_CATEGORIES)}"))
    if key == "lines" and block == "scene" and text != vocab.NO_LINES:
        return _error(f, "bad-lines", f"`lines:` takes only `{vocab.NO_LINES}`, not '{text}'",
                      f"`lines: {vocab.NO_LINES}` makes a scene without words (its picture and "
                      "sound); a scene's lines are written under it, or by the writer")
    if key == "language" and not _LANGUAGE.fullmatch(text):
        return Diagnostic(f.value.span, "warning", "odd-language",
                          f"'{text}' does not look like a language code",
                          "use a code such as en, fr, de or en-GB")
    if not text.strip() and key not in vocab.PATH_KEYS:
        return Diagnostic(f.value.span, "warning", "empty-value", f"'{key}' is empty",
                          "write a value, or remove the line")
    return None


def duration_problems(f: Field) -> list[Diagnostic]:
    """A scene's `duration:`: an error outside its range, a warning outside the usual one."""
    text, bounds = f.value.text, vocab.DURATION
    value = number(text)
    if value is None or not bounds.low <= value <= bounds.high:
        return [_error(f, "bad-duration",
                       f"duration must be a number of seconds from {bounds.low:g} to "
                       f"{bounds.high:g}, not '{text}'",
                       "e.g. `duration: 6`; leave it out to fit the scene to its lines")]
    if not bounds.usual_low <= value <= bounds.usual_high:
        return [Diagnostic(f.value.span, "warning", "odd-duration",
                           f"a scene of {value:g} second{'' if value == 1 else 's'} is unusually "
                           + ("short" if value < bounds.usual_low else "long"),
                           f"scenes usually last {bounds.usual_low:g} to "
                           f"{bounds.usual_high:g} seconds; leave `duration:` out to fit the "
                           "scene to its lines")]
    return []


def sound_problems(f: Field, scene: Scene | None) -> list[Diagnostic]:
    """An `sfx:` value: its clauses readable, its offset, line and level in their ranges (the
    file itself is probed where paths are, `engine.dsl.load`)."""
    placed = vocab.sound_placement(f.value.text)
    form = f"write it as {vocab.SFX_FORM}"
    if placed.problems and not PurePath(placed.path).suffix:  # `owl at night.wav`
        form += ("; a file whose name holds the word `at` or `level` cannot be named here: "
                 "rename it (e.g. owl-at-night.wav)")
    out = [Diagnostic(name_in_value(f.value, start, end), "error", "bad-sfx", message, form)
           for start, end, message in placed.problems]

    def problem(part: str, message: str, hint_text: str) -> None:
        span = name_in_value(f.value, *placed.place(part))
        out.append(Diagnostic(span, "error", "bad-sfx", message, hint_text))

    low, high = vocab.SFX_OFFSET
    if placed.seconds is not None and not low <= placed.seconds <= high:
        problem("at", f"an sfx plays from {low:g} to {high:g} seconds into its scene, "
                f"not at {placed.seconds:g}", "e.g. `at 2.5s`; or at a line: `at line 2`")
    lines = len(scene.lines) if scene is not None else 0
    if placed.line is not None and not 1 <= placed.line <= lines:
        where = f"scene '{scene.id}'" if scene is not None else "this scene"
        has = (f"it has {lines}" if lines
               else "it says `lines: none`" if scene is not None and scene.wordless
               else "it has no lines yet: the writer's lines cannot be named")
        problem("line", f"{where} has no line {placed.line} ({has})",
                "lines count from 1, narration and dialogue alike; or place it at a time: "
                "`at 2.5s`")
    low, high = vocab.SFX_LEVEL
    if not low <= placed.level <= high:
        problem("level", f"an sfx level is from {low:g} to {high:g} dB, not {placed.level:g}",
                "0dB plays the file as it is; -6dB at half its amplitude")
    return out
