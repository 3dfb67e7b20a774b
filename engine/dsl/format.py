"""The canonical text of a story: `storyreel fmt`, `fill --write` and `resolved.story` use it."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from engine.dsl.vocabulary import FORBIDDEN, SCENE_KEYS, sound_placement
from engine.ir import NARRATOR, Comment, Field, Line, Story, Value

INDENT = "  "

_NAME = re.compile(r"[^\W\d][\w'\-]*|\d[\w'\-]*")
_BARE = re.compile(r'[^\s#"][^#\r\n]*')
_DIRECTION = re.compile(r"[^()\s#][^()\r\n#]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_name(text: str) -> bool:
    """Whether `text` can name a voice, character or scene (one word: letters, digits, ' and -)."""
    return bool(_NAME.fullmatch(text))


def to_name(text: str) -> str:
    """A name made from any text (`The Big Search` → `the-big-search`), for a writer's names."""
    words = re.findall(r"[\w']+", text.casefold())
    name = "-".join(w.strip("'") for w in words if w.strip("'"))
    return name if is_name(name) else "unnamed"


def quote(text: str) -> str:
    """`text` between double quotes, with quotes, backslashes, line breaks and tabs escaped.

    Characters no story may hold (control characters, bidirectional overrides: a writer's text
    can carry them) are left out.
    """
    text = FORBIDDEN.sub("", text)
    return '"' + re.sub(r'[\\"\n\r\t]', lambda m: _ESCAPES[m.group()], text) + '"'


def can_be_bare(text: str) -> bool:
    """Whether `text` reads back the same without quotes."""
    return (bool(_BARE.fullmatch(text)) and text == text.rstrip() and text != "..."
            and not FORBIDDEN.search(text))


def format_value(value: Value) -> str:
    """The value as authored: quoted when it was (or must be), bare otherwise."""
    return value.text if not value.quoted and can_be_bare(value.text) else quote(value.text)


def format_field(f: Field) -> str:
    _require_name(f.key, "key")
    head = f.key
    if f.argument is not None:
        head += " " + _require_name(f.argument, "name")
    if f.key == "sfx" and not f.value.quoted:
        return f"{head}: {format_value(Value(canonical_sound(f.value.text), span=f.value.span))}"
    return f"{head}: {format_value(f.value)}"


def canonical_sound(text: str) -> str:
    """An `sfx:` value in its one spelling (`bell.wav at 2.5s level -6dB`, `at line 2`); as
    written when it does not read."""
    placed = sound_placement(text)
    if placed.problems:
        return text
    named = {name for name, _, _ in placed.places}
    parts = [placed.path]
    if placed.line is not None:
        parts.append(f"at line {placed.line}")
    elif placed.seconds is not None:
        parts.append(f"at {placed.seconds:.10g}s")
    if "level" in named:
        parts.append(f"level {placed.level:+.10g}dB".replace("+0dB", "0dB"))
    return " ".join(parts)


def format_line(line: Line) -> str:
    speaker = NARRATOR if line.speaker is None else _require_name(line.speaker, "speaker")
    if line.speaker in SCENE_KEYS:
        raise ValueError(f"'{line.speaker}' cannot speak: in a scene it is a setting")
    direction = _direction(line.direction)
    said = "..." if line.text is None else quote(line.text)
    if line.speaker is None and direction is None and line.text is not None:
        return said
    return f"{speaker} ({direction}): {said}" if direction else f"{speaker}: {said}"


def _direction(direction: str | None) -> str | None:
    """A direction that reads back the same; parentheses, '#' and line breaks become spaces."""
    if direction is None or (_DIRECTION.fullmatch(direction) and direction == direction.strip()
                             and not FORBIDDEN.search(direction)):
        return direction
    cleaned = " ".join(re.sub(r"[()#\r\n]", " ", FORBIDDEN.sub("", direction)).split())
    return cleaned or None


def _require_name(text: str, what: str) -> str:
    if not is_name(text):
        raise ValueError(f"cannot write {what} {text!r}: a name is one word "
                         "(letters, digits, ' and -); engine.dsl.format.to_name makes one")
    return text


@dataclass
class _Anchor:
    """A statement that comments attach to, with where the author wrote it."""

    node: object
    line: int
    top: bool       # a header field or a block's first line
    block: object   # the block it belongs to (itself for a block's first line), None: header


@dataclass
class _Attached:
    leading: dict[int, list[Comment]] = field(default_factory=dict)
    trailing: dict[int, Comment] = field(default_factory=dict)
    tail: dict[int, list[Comment]] = field(default_factory=dict)   # at the end of a block
    end: list[Comment] = field(default_factory=list)                # at the end of the file


def _blocks(story: Story) -> list[Story | object]:
    return [*story.voices, *story.characters, *story.scenes]


def _anchors(story: Story) -> list[_Anchor]:
    out = [_Anchor(f, f.span.line, True, None) for f in story.fields]
    for block in _blocks(story):
        out.append(_Anchor(block, block.span.line, True, block))  # type: ignore[attr-defined]
        inner = list(block.fields) + list(getattr(block, "lines", ()))  # type: ignore
        out += [_Anchor(node, node.span.line, False, block) for node in inner]
    return sorted((a for a in out if a.line > 0), key=lambda a: a.line)


def _attach(story: Story) -> _Attached:
    """Each comment goes with the statement after it; trailing ones with their own line."""
    anchors = _anchors(story)
    lines = [a.line for a in anchors]
    by_line = {a.line: a for a in anchors}
    out = _Attached()
    for comment in sorted(story.comments, key=lambda c: (c.span.line, c.span.column)):
        line = comment.span.line
        if comment.trailing and line in by_line and id(by_line[line].node) not in out.trailing:
            out.trailing[id(by_line[line].node)] = comment
            continue
        index = bisect.bisect_right(lines, line)
        after = anchors[index] if index < len(anchors) else None
        before = anchors[index - 1] if index > 0 else None
        indented = comment.span.column > 1
        if (indented and before is not None and before.block is not None
                and (after is None or after.top)):
            out.tail.setdefault(id(before.block), []).append(comment)
        elif after is None:
            out.end.append(comment)
        else:
            out.leading.setdefault(id(after.node), []).append(comment)
    return out


class _Writer:
    def __init__(self, story: Story):
        self.story = story
        self.attached = _attach(story)

    def leading(self, node: object, indent: str, top: bool) -> list[str]:
        """Comments before a statement; at the top level, a blank line where the author left one."""
        group = self.attached.leading.get(id(node), [])
        out = []
        for i, comment in enumerate(group):
            out.append(indent + comment.text)
            following = (group[i + 1] if i + 1 < len(group) else node).span.line  # type: ignore
            if top and following > comment.span.line + 1:
                out.append("")
        return out

    def statement(self, node: object, text: str, indent: str, top: bool) -> list[str]:
        trailing = self.attached.trailing.get(id(node))
        line = indent + text + (f"  {trailing.text}" if trailing else "")
        return self.leading(node, indent, top) + [line]

    def block(self, block: object, head: str) -> list[str]:
        out = self.statement(block, head, "", True)
        for f in block.fields:  # type: ignore[attr-defined]
            out += self.statement(f, format_field(f), INDENT, False)
        for line in getattr(block, "lines", ()):
            out += self.statement(line, format_line(line), INDENT, False)
        out += [INDENT + c.text for c in self.attached.tail.get(id(block), [])]
        return out

    def write(self) -> str:
        story = self.story
        sections: list[list[str]] = []
        header: list[str] = []
        for f in story.fields:
            header += self.statement(f, format_field(f), "", True)
        if header:
            sections.append(header)
        for voice in story.voices:
            sections.append(self.block(voice, f"voice {_require_name(voice.name, 'voice')}"))
        for character in story.characters:
            name = _require_name(character.name, "character")
            sections.append(self.block(character, f"character {name}"))
        for scene in story.scenes:
            sections.append(self.block(scene, f"scene {_require_name(scene.id, 'scene')}"))
        if self.attached.end:
            sections.append([c.text for c in self.attached.end])
        text = "\n\n".join("\n".join(section) for section in sections)
        return text + "\n" if text else ""


def format_story(story: Story) -> str:
    """The one canonical text of a story's own file (its `use:` files are not included).

    Header fields, then voices, characters and scenes in the author's order; two-space indents;
    one blank line between blocks; comments kept with the statement they precede or follow.
    Stories made in memory (no spans, no comments) format the same way.
    """
    return _Writer(story).write()
