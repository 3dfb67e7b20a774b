"""The screen stage: every line and image prompt through the text checker; what it flags, and every
picture the safety check still flags after its redraws, becomes a flag in the manifest."""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Protocol, Sequence

from engine import secrets
from engine.backends.safety import SafetyChecker
from engine.backends.safety_text import TextChecker, TextCheckRequest, TextFlag
from engine.errors import counted
from engine.ir import Story
from engine.steps import Step

VERSION = 1
PICTURE_CATEGORY = "unsafe picture"
"""The category of a picture the safety check flagged (it names no finer one)."""

Field = Literal["line", "image_prompt", "picture"]
Source = Literal["author", "writer"]


@dataclass(frozen=True, slots=True)
class Text:
    """One text the video shows or is drawn from, and who wrote it."""

    scene: str
    line: int | None
    """The line's index in its scene (from 0); None for the scene's image prompt."""
    field: Field
    source: Source
    text: str

    @property
    def label(self) -> str:
        return f"{self.scene}:{self.line + 1}" if self.line is not None else f"{self.scene} image"


@dataclass(frozen=True, slots=True)
class Flag:
    """One item a person must review before the run is published (manifest.json `flags`)."""

    kind: Literal["text", "image"]
    scene: str
    line: int | None
    field: Field
    source: Source
    checker: str
    category: str
    score: float
    span: tuple[int, int] | None
    text: str
    """The flagged text (secrets masked), or for a picture why it was flagged."""
    sha256: str
    """Of the exact text (UTF-8), or of the picture file's bytes."""

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "scene": self.scene, "line": self.line, "field": self.field,
                "source": self.source, "checker": self.checker, "category": self.category,
                "score": self.score, "span": list(self.span) if self.span else None,
                "text": secrets.mask(self.text), "sha256": self.sha256}


def texts(original: Story, written: Story) -> list[Text]:
    """Every line and image prompt of the written story, in story order, with its author: the
    writer's lines say so; an image prompt is the author's when the original scene had one."""
    authored_prompts = {s.id for s in original.scenes if s.get("image") is not None}
    found = []
    for scene in written.scenes:
        prompt = scene.text("image")
        if prompt:
            found.append(Text(scene.id, None, "image_prompt",
                              "author" if scene.id in authored_prompts else "writer", prompt))
        for index, line in enumerate(scene.lines):
            if line.text:
                found.append(Text(scene.id, index, "line",
                                  "writer" if line.written_by == "llm" else "author", line.text))
    return found


def screen(items: Sequence[Text], checker: TextChecker, step: Step, language: str,
           advance: Callable[[], None] = lambda: None) -> list[Flag]:
    """Check every text (cached by the text, the language and the checker's identity)."""
    name = str(step.identity(checker).get("backend", "safety_text"))
    flags = []
    for item in items:
        request = TextCheckRequest(item.text, language)

        def check(out: Path, r: TextCheckRequest = request) -> None:
            out.write_text(json.dumps([asdict(f) for f in checker.check(r)]), encoding="utf-8")

        path = step.run("screen", VERSION, request, checker, "flags.json", check,
                        label=item.label)
        digest = hashlib.sha256(item.text.encode("utf-8")).hexdigest()
        for found in json.loads(path.read_text(encoding="utf-8")):
            flag = TextFlag(found["category"], float(found["score"]),
                            tuple(found["span"]) if found["span"] else None)
            flags.append(Flag("text", item.scene, item.line, item.field, item.source, name,
                              flag.category, flag.score, flag.span, item.text, digest))
        advance()
    return flags


class Picture(Protocol):
    """A scene's chosen picture as the draw stage returns it (`draw.Drawn`)."""

    scene_id: str
    image: Path
    review: str | None
    """Why a person must look at it (every try was flagged), or None."""


def picture_flags(drawn: Sequence[Picture], safety: SafetyChecker, step: Step) -> list[Flag]:
    """A flag for each scene whose every picture the safety check flagged (redraws included):
    the picture kept is marked, never shown unreviewed. A picture is the machine's work, so its
    source is `writer`."""
    name = str(step.identity(safety).get("backend", "safety"))
    return [Flag("image", d.scene_id, None, "picture", "writer", name, PICTURE_CATEGORY, 1.0,
                 None, d.review, step.digest(d.image))
            for d in drawn if d.review]


def summary(flags: Sequence[Flag], run_dir: object) -> str:
    """The line a render ends with when anything was flagged."""
    return (f"{counted(len(flags), 'safety flag')}: review before "
            f"publishing (storyreel review {shlex.quote(str(run_dir))})")
