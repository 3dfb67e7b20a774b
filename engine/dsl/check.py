"""The semantic pass: names, keys and values of a parsed story, every problem reported at once."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.dsl import vocabulary as vocab
from engine.dsl.directions import KNOWN_DIRECTIONS, direction_meanings, language_directions
from engine.dsl.hints import (BLOCK_COLON, did_you_mean, fold, hint, key_span, listing,
                               name_in_value, straight_quoted)
from engine.dsl.unread import Unread
from engine.dsl.values import value_problems
from engine.errors import Diagnostic, Severity
from engine.ir import NARRATOR, Character, Field, Scene, Span, Story, Voice

__all__ = ["cast_file_told", "check_story", "did_you_mean", "is_cast_file"]

_BLOCK_KEYS = {"header": vocab.HEADER_KEYS, "voice": vocab.VOICE_KEYS,
               "character": vocab.CHARACTER_KEYS, "scene": vocab.SCENE_KEYS}


class _Checker:
    """Collects diagnostics for one story and every file it uses."""

    def __init__(self, story: Story, unread: Unread):
        self.story = story
        self.unread = unread
        self.out: list[Diagnostic] = []
        self.files = list(_files(story))
        self.character_names = [c.name for c in story.all_characters()]
        self.declared = frozenset(self.character_names)  # membership in O(1) on big stories
        self.modelled = frozenset(c.name for c in story.all_characters()
                                  if c.get("model") is not None)
        self.voice_names = [v.name for v in story.all_voices()]
        self.speaker_hints: dict[str, str | None] = {}

    def add(self, span: Span, severity: Severity, code: str, message: str,
            hint: str | None = None) -> None:
        self.out.append(Diagnostic(span, severity, code, message, hint))

    def error(self, span: Span, code: str, message: str, hint: str | None = None) -> None:
        self.add(span, "error", code, message, hint)

    def warn(self, span: Span, code: str, message: str, hint: str | None = None) -> None:
        self.add(span, "warning", code, message, hint)

    def run(self) -> list[Diagnostic]:
        for index, file in enumerate(self.files):
            self.fields(file.fields, "header", "", scene=None)
            if index:
                self.used_file(file)
            for voice in file.voices:
                self.fields(voice.fields, "voice", f" in voice '{voice.name}'", scene=None)
                self.voice(voice)
            for character in file.characters:
                self.fields(character.fields, "character", f" in character '{character.name}'",
                            scene=None)
                self.character(character)
        self.duplicates("voice", ((v.name, v.name_span) for v in self.story.all_voices()))
        self.duplicates("character",
                        ((c.name, c.name_span) for c in self.story.all_characters()))
        self.duplicates("scene", ((s.id, s.id_span) for s in self.story.scenes))
        for scene in self.story.scenes:
            self.fields(scene.fields, "scene", f" in scene '{scene.id}'", scene=scene)
            self.scene_lines(scene)
        self.first_transition(self.story)
        self.header(self.story)
        return self.out

    # -- fields shared by every block ---------------------------------------------------------

    def fields(self, fields: tuple[Field, ...], block: str, where: str,
               scene: Scene | None) -> None:
        allowed = _BLOCK_KEYS[block]
        seen: dict[tuple[str, str | None], Field] = {}
        for f in fields:
            if f.key not in allowed:
                if block == "scene":
                    self.scene_key(f, scene)
                else:
                    self.error(key_span(f), "unknown-key", f"unknown key '{f.key}'{where}",
                               _elsewhere(f.key, block) or _block_colon(f, block)
                               or hint(f.key, allowed, f"known keys: {listing(allowed)}"))
                continue
            if f.argument is not None and not (block == "scene" and f.key == "trainedness"):
                self.error(f.argument_span or f.span, "unexpected-name",
                           f"'{f.key}' takes no name",
                           "only a scene's `trainedness NAME: value` names a character")
                continue
            if f.key not in vocab.REPEATABLE_KEYS:
                first = seen.setdefault((f.key, f.argument), f)
                if first is not f:
                    label = f"{f.key} {f.argument}" if f.argument else f.key
                    self.error(key_span(f), "duplicate-key", f"'{label}' is set twice{where}",
                               f"line {first.span.line} sets it too; keep one")
            self.out += value_problems(f, block, scene)

    # -- blocks ----------------------------------------------------------------------------------

    def voice(self, voice: Voice) -> None:
        if voice.get("category") is None and voice.name != NARRATOR:
            self.warn(voice.name_span, "no-category", f"voice '{voice.name}' has no category",
                      f"add `category: ...` ({listing(vocab.VOICE_CATEGORIES)}) so every TTS "
                      "backend can pick a fitting voice")

    def character(self, character: Character) -> None:
        name = character.name
        if name == NARRATOR:
            self.error(character.name_span, "reserved-name",
                       "'narrator' reads the narration; it cannot be a character",
                       "pick another name; narration lines need no speaker")
        elif name in vocab.SCENE_KEYS or name in vocab.RESERVED_NAMES:
            self.error(character.name_span, "reserved-name",
                       f"a character cannot be called '{name}'",
                       f"in a scene, a line starting with '{name}:' is a setting; "
                       "pick another name")
        voice = character.get("voice")
        if voice is not None:
            text = voice.value.text
            if text not in self.voice_names and text not in vocab.VOICE_CATEGORIES \
                    and not self.unread.may_declare(text):
                self.error(voice.value.span, "unknown-voice", f"unknown voice '{text}'",
                           hint(text, self.voice_names + list(vocab.VOICE_CATEGORIES),
                                 "a voice is declared with `voice NAME`, or is a category: "
                                 + listing(vocab.VOICE_CATEGORIES)))
        trained = character.get("trainedness")
        if trained is not None and character.get("model") is None:
            self.warn(key_span(trained), "trainedness-without-model",
                      f"'{name}' has no `model:`, so trainedness changes nothing",
                      f"add `model: PATH` to character '{name}', or remove this line")

    def used_file(self, file: Story) -> None:
        for f in file.fields:
            if f.key != "use" and f.key in vocab.HEADER_KEYS:
                self.warn(key_span(f), "ignored-in-used-file",
                          f"'{f.key}' in a file used by another has no effect",
                          "a used file shares only its voices and characters")
        for scene in file.scenes:
            self.warn(scene.id_span, "ignored-in-used-file",
                      f"scene '{scene.id}' in a file used by another has no effect",
                      "a used file shares only its voices and characters")

    def duplicates(self, kind: str, names: Iterable[tuple[str, Span]]) -> None:
        first: dict[str, Span] = {}
        for name, span in names:
            earlier = first.setdefault(name, span)
            if earlier is span:
                continue
            where = (f"line {earlier.line}" if earlier.file == span.file
                     else f"{Path(earlier.file).name} line {earlier.line}")
            self.error(span, f"duplicate-{kind}", f"{kind} '{name}' is declared twice",
                       f"the first is at {where}; rename or remove one")

    # -- scenes ------------------------------------------------------------------------------------

    def scene_key(self, f: Field, scene: Scene | None) -> None:
        """A scene field with an unknown key: unquoted dialogue, or a misspelt setting."""
        where = f" in scene '{scene.id}'" if scene else ""
        if f.key in self.declared or f.key == NARRATOR or f.key in self.unread.declared:
            self.error(f.value.span, "unquoted-dialogue", "dialogue must be quoted",
                       f"write it as `{f.key}: {straight_quoted(f.value.text)}`")
            return
        if self.unread.everything:
            # the speaker may be declared in a file that could not be read: only misspellings
            match = did_you_mean(f.key, vocab.SCENE_KEYS)
            if match:
                self.error(key_span(f), "unknown-key", f"unknown setting '{f.key}'{where}",
                           f"did you mean '{match}'?")
            return
        match = did_you_mean(f.key, list(vocab.SCENE_KEYS) + self.character_names)
        if match in self.declared:
            hint = f'did you mean \'{match}\'? dialogue is quoted: `{match}: "..."`'
        elif match:
            hint = f"did you mean '{match}'?"
        else:
            hint = (f"scene settings: {listing(vocab.SCENE_KEYS)}; dialogue is "
                    '`Name: "text"` with a declared character')
        self.error(key_span(f), "unknown-key", f"unknown setting '{f.key}'{where}", hint)

    def speaker_hint(self, speaker: str) -> str | None:
        """The hint for an unknown speaker, worked out once a name (a big story may repeat one
        on thousands of lines)."""
        if speaker not in self.speaker_hints:
            self.speaker_hints[speaker] = hint(
                speaker, self.character_names + [NARRATOR],
                f"declare them with `character {speaker}`; narration lines need no speaker")
        return self.speaker_hints[speaker]

    def scene_lines(self, scene: Scene) -> None:
        if scene.wordless and scene.lines:
            self.error(key_span(scene.get("lines")), "wordless-with-lines",
                       f"scene '{scene.id}' says `lines: none` but has lines",
                       "remove `lines: none`, or the lines")
        for line in scene.lines:
            if line.text is not None and not line.text.strip():
                self.error(line.span, "empty-line", "this line says nothing",
                           "write what is said, or `...` to let the writer fill it in")
        self.directions(scene)
        for line in scene.lines:
            if line.speaker is not None and line.speaker not in self.declared \
                    and not self.unread.may_declare(line.speaker):
                self.error(line.speaker_span or line.span, "unknown-speaker",
                           f"unknown speaker '{line.speaker}'", self.speaker_hint(line.speaker))
        with_field = scene.get("with")
        if with_field is not None:
            for name, start, end in _comma_items(with_field.value.text):
                if name not in self.declared and not self.unread.may_declare(name):
                    self.error(name_in_value(with_field.value, start, end), "unknown-character",
                               f"unknown character '{name}' in `with:`",
                               hint(name, self.character_names,
                                     f"declare them with `character {name}`"))
        for f in scene.fields:
            if f.key != "trainedness":
                continue
            if f.argument is None:
                if not self.modelled:
                    self.warn(key_span(f), "trainedness-without-model",
                              "no character has a `model:`, so trainedness changes nothing",
                              "give a character `model: PATH`, or remove this line")
            elif f.argument not in self.declared:
                if self.unread.may_declare(f.argument):
                    continue
                self.error(f.argument_span or f.span, "unknown-character",
                           f"unknown character '{f.argument}' in `trainedness {f.argument}:`",
                           hint(f.argument, self.character_names,
                                 f"declare them with `character {f.argument}`"))
            elif f.argument not in self.modelled:
                self.warn(f.argument_span or f.span, "trainedness-without-model",
                          f"'{f.argument}' has no `model:`, so trainedness changes nothing",
                          f"add `model: PATH` to character '{f.argument}', or remove this line")

    def directions(self, scene: Scene) -> None:
        """A direction none of whose words the voices know (or a picture shows: `waving`), in
        any language the word tables hold, is said as if it were not there."""
        for line in scene.lines:
            if line.direction is None:
                continue
            meant, unknown = direction_meanings(line.direction, KNOWN_DIRECTIONS)
            if unknown and not meant:
                language = self.story.text("language", "en") or "en"
                words = _hinted_directions(language)
                match = did_you_mean(max(unknown, key=len), words, cutoff=0.75)  # not `un`
                self.warn(line.direction_span or line.span, "unknown-direction",
                          f"unknown delivery direction '{line.direction}'",
                          (f"did you mean '{match}'? " if match else "")
                          + f"the line is said plainly; directions the voices know "
                          f"({language}): {listing(words[:12])}, … (docs/language.md lists "
                          "them; a TTS backend's `directions:` setting adds more)")

    # -- the story as a whole -------------------------------------------------------------------

    def first_transition(self, story: Story) -> None:
        """A transition is how a scene begins from the one before: the first has none."""
        first = story.scenes[0] if story.scenes else None
        transition = first.get("transition") if first else None
        if transition is not None and transition.value.text != "cut" \
                and transition.value.text in vocab.TRANSITIONS:  # (an unknown one is an error)
            self.warn(transition.value.span, "first-transition",
                      "the first scene has no scene before it: its `transition: "
                      f"{transition.value.text}` is not shown",
                      "a scene's `transition:` says how it begins; give it to the second scene, "
                      "or leave it out here")

    def header(self, story: Story) -> None:
        if self.unread.everything or self.unread.declared or self.unread.scene:
            return  # a broken line may be the scene or premise this story lacks
        start = Span(story.path, 1, 1, 1, 1)
        premise, count = story.get("premise"), story.get("scenes")
        is_cast = is_cast_file(story)
        if not story.scenes and premise is None and not is_cast:
            self.error(start, "no-scenes", "this story has neither scenes nor a premise",
                       "add a `scene ID` block, or `premise: ...` for the writer to make scenes "
                       "from")
        if story.scenes and count is not None:
            self.warn(key_span(count), "scenes-ignored",
                      "`scenes:` has no effect when the story has scene blocks",
                      "it tells the writer how many scenes to make from the premise")
        if is_cast or premise is not None or any(not s.lines and not s.wordless
                                                  for s in story.scenes):
            return  # a cast file's characters are for others; a writer may bring any in
        for character in story.characters:
            if not _appears(character.name, story.scenes) \
                    and not self.unread.may_mention(character.name):
                self.warn(character.name_span, "unused-character",
                          f"character '{character.name}' never appears in a scene",
                          "give them a line, or name them in a scene's `with:`")


def is_cast_file(story: Story) -> bool:
    """Whether the file only declares voices and characters (for other stories to `use:`)."""
    return (not story.scenes and all(f.key == "use" for f in story.fields)
            and bool(story.voices or story.characters))


def cast_file_told(story: Story) -> Diagnostic | None:
    """The error of asking for a cast file to be told (rendered, filled) as a story: the writer
    would make up every scene of a story nobody asked for."""
    if not is_cast_file(story):
        return None
    return Diagnostic(Span(story.path, 1, 1, 1, 1), "error", "cast-file-told",
                      "this file only declares voices and characters (a cast for other stories "
                      "to `use:`): it has no scenes and no premise to tell",
                      "render a story that `use:`s it, or add a `scene ID` block or "
                      "`premise: ...` to make it a story")


@functools.lru_cache(maxsize=16)
def _hinted_directions(language: str) -> tuple[str, ...]:
    """The direction words of a story's language in the order hints list them (sorted once a
    language, not once a scene)."""
    return tuple(sorted(language_directions(language), key=fold))


def _elsewhere(key: str, block: str) -> str | None:
    """A hint for a key that belongs to another kind of block (often: a line not indented)."""
    places = [("the header (not indented)" if other == "header"
               else f"a `{other}` block (indented under it)")
              for other, keys in _BLOCK_KEYS.items() if other != block and key in keys]
    return f"'{key}' belongs in " + " or in ".join(places) if places else None


def _block_colon(f: Field, block: str) -> str | None:
    """A hint for a block line written as a header field (`scene: the-end`)."""
    if (block == "header" and f.key in vocab.RESERVED_NAMES and f.argument is None
            and not f.value.quoted and len(f.value.text.split()) == 1):
        return BLOCK_COLON.format(keyword=f.key, name=f.value.text)
    return None


def _comma_items(text: str) -> Iterator[tuple[str, int, int]]:
    """The comma-separated names of `text`, with where each starts and ends."""
    for match in re.finditer(r"[^,]+", text):
        name = match.group().strip()
        if name:
            start = match.start() + len(match.group()) - len(match.group().lstrip())
            yield name, start, start + len(name)


def _appears(name: str, scenes: tuple[Scene, ...]) -> bool:
    for scene in scenes:
        if name in scene.present or any(line.speaker == name for line in scene.lines) \
                or any(f.key == name for f in scene.fields):
            return True
        if scene.get("trainedness", name) is not None:
            return True
        texts = [f.value.text for f in scene.fields] + [line.text or "" for line in scene.lines]
        if any(name in text for text in texts):
            return True
    return False


def _files(story: Story) -> Iterator[Story]:
    """The story and every file it uses, each once."""
    seen: set[str] = set()
    stack = [story]
    while stack:
        file = stack.pop(0)
        if file.path in seen:
            continue
        seen.add(file.path)
        yield file
        stack.extend(file.used)


def check_story(story: Story, *, names_known: bool = True,
                unread: Unread | None = None) -> list[Diagnostic]:
    """Every semantic problem of a parsed story (and the files it uses).

    `unread` (the lines syntax errors kept out) quiets the checks that would only repeat those
    errors: unknown speakers, voices and characters named there, and unused characters.
    `names_known=False` (a file that could not be read) quiets them for every name.
    """
    unread = unread or Unread()
    if not names_known:
        unread = Unread(unread.declared, unread.mentioned, everything=True, scene=unread.scene)
    return _Checker(story, unread).run()
