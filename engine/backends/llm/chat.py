"""The chat writers' shared loop: prompts from templates, one batched request, validate, retry."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Protocol, TypeVar

from engine.backends.llm import (Rejected, SceneBrief, SceneOutline, Usage, WriteRequest,
                                 WriteResult, WrittenLine, WrittenScene)
from engine.backends.llm.answers import (
    InvalidAnswer,
    extract_json,
    fill_schema,
    max_words_for,
    outline_schema,
    title_from_id,
    validate_fill,
    validate_outline,
)
from engine.errors import BackendError, ConfigError
from engine.ir import NARRATOR
from engine.resources import shipped
from engine.secrets import mask

log = logging.getLogger(__name__)

DEFAULT_PROMPTS = shipped("conf") / "prompts" / "story.yaml"
PROMPT_KEYS = ("system", "fill", "outline", "retry")
MAX_ECHOED_ANSWER = 6000  # characters of a bad answer sent back with the retry prompt

T = TypeVar("T")
Message = dict[str, str]


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One model answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 1


class ChatModel(Protocol):
    """What the loop needs of a model: one chat turn that answers JSON text for a schema."""

    backend: str

    def chat(self, messages: list[Message], schema: dict[str, Any],
             schema_name: str) -> ChatReply: ...


@dataclass(frozen=True, slots=True)
class Prompts:
    system: str
    fill: str
    outline: str
    retry: str

    def digest(self) -> str:
        """Identifies the templates in a backend identity (a changed prompt is a changed writer)."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_prompts(source: Mapping[str, Any] | str | Path | None = None) -> Prompts:
    """Templates from a mapping (what Hydra composed), a YAML file, or the packaged defaults."""
    if source is None or isinstance(source, (str, Path)):
        import yaml

        path = Path(source) if source is not None else DEFAULT_PROMPTS
        try:
            source = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read prompt templates {path}: {error.strerror}") from None
    if not isinstance(source, Mapping):
        raise ConfigError("prompt templates must be a mapping of system, fill, outline, retry")
    missing = [k for k in PROMPT_KEYS
               if not isinstance(source.get(k), str) or not source[k].strip()]
    if missing:
        raise ConfigError(f"prompt templates lack {', '.join(missing)}")
    return Prompts(**{k: str(source[k]) for k in PROMPT_KEYS})


def _characters_block(request: WriteRequest) -> str:
    if not request.characters:
        return "(none: the narrator tells the whole story)"
    rows = []
    for c in request.characters:
        looks = f"; looks: {', '.join(c.tags)}" if c.tags else ""
        rows.append(f"- {c.name}: {c.description or 'no description'} "
                    f"(voice: {c.voice_category}{looks})")
    return "\n".join(rows)


def _scenes_block(scenes: tuple[SceneBrief, ...]) -> str:
    out = []
    for scene in scenes:
        todo = scene.has_holes
        out.append(f"scene {scene.id}" + ("" if todo else "  (complete: context only)"))
        out.append(f"  title: {scene.title or '(not given)'}")
        out.append(f"  setting: {scene.setting or '(not given)'}")
        if scene.characters:
            out.append(f"  with: {', '.join(scene.characters)}")
        out.append(f"  image: {scene.image or '(write it)'}")
        if scene.wordless:
            out.append("  lines: none (a scene without words: write no lines for it)")
            continue
        if not scene.lines:
            out.append("  lines: (none yet: write them)")
            out.extend(_rejected_block(scene.rejected_lines, "    "))
            continue
        out.append("  lines:")
        for number, line in enumerate(scene.lines, start=1):
            who = line.speaker or NARRATOR
            if line.direction:
                who += f" ({line.direction})"
            text = json.dumps(line.text, ensure_ascii=False) if line.text is not None \
                else "(write this line)"
            out.append(f"    {number}. {who}: {text}")
            out.extend(_rejected_block(line.rejected, "       "))
    return "\n".join(out)


def _story_block(request: WriteRequest) -> str:
    """The story's scenes as the writer sees them: all of them, or, for a scene asked on its
    own, that scene in full among the others' outlines."""
    if not request.outline:
        return _scenes_block(request.scenes)
    asked = {scene.id: scene for scene in request.scenes}
    return "\n".join(_scenes_block((asked[s.id],)) if s.id in asked else _outline_rows(s)
                     for s in request.outline)


def _outline_rows(scene: SceneOutline) -> str:
    rows = [f"scene {scene.id}  (another scene: context only)",
            f"  title: {scene.title or '(not given)'}",
            f"  setting: {scene.setting or '(not given)'}"]
    if scene.characters:
        rows.append(f"  with: {', '.join(scene.characters)}")
    return "\n".join(rows)


def _rejected_block(rejected: tuple[Rejected, ...], indent: str) -> list[str]:
    """Earlier answers a reviewer rejected, each with the note: write something else."""
    if not rejected:
        return []
    out = [(f"{indent}a reviewer rejected these earlier answers; write something new that "
            "follows their notes:")]
    for item in rejected:
        note = json.dumps(item.note, ensure_ascii=False) if item.note else "(no note)"
        out.append(f"{indent}- rejected {json.dumps(item.text, ensure_ascii=False)}; note: "
                   f"{note}")
    return out


def _fill_format(todo: tuple[SceneBrief, ...]) -> str:
    example = {"scenes": [{"id": "...", "title": "...", "setting": "...", "characters": ["..."],
                           "image": "...", "lines": [{"speaker": NARRATOR, "text": "...",
                                                      "direction": None}]}]}
    return ("Answer with one JSON object of this shape, with exactly these scenes in this order: "
            f"{', '.join(s.id for s in todo)}. Use \"narrator\" as the speaker of narration; "
            "direction is a short delivery note such as \"whispering\", or null.\n"
            + json.dumps(example, ensure_ascii=False))


def _outline_format(count: int) -> str:
    example = {"scenes": [{"id": "a-scene-id", "title": "...", "setting": "...",
                           "characters": ["..."], "image": "..."}]}
    return (f"Answer with one JSON object of this shape, with exactly {count} scenes:\n"
            + json.dumps(example, ensure_ascii=False))


def _fields(request: WriteRequest, max_words: int) -> dict[str, str]:
    return {"title": request.title, "audience": request.audience, "style": request.style,
            "language": request.language, "premise": request.premise or "(none given)",
            "characters": _characters_block(request), "scene_count": str(request.scene_count),
            "max_words": str(max_words)}


def _render(template: str, fields: Mapping[str, str]) -> str:
    # safe_substitute: a `$` the template author meant literally stays as written.
    return Template(template).safe_substitute(fields).strip()


class ChatWriting:
    """Drafts an outline when asked, then fills every gap in one request; validates; retries."""

    def __init__(self, model: ChatModel, prompts: Prompts, *, attempts: int = 3,
                 max_words: int | None = None):
        if attempts < 1:
            raise ConfigError("validation attempts must be at least 1")
        self.model, self.prompts = model, prompts
        self.attempts, self.max_words = attempts, max_words

    def write(self, request: WriteRequest) -> WriteResult:
        usage = Usage()
        max_words = self.max_words or max_words_for(request.audience)
        if not request.scenes and request.scene_count > 0:
            briefs, usage = self._ask("outline", request, usage,
                                      self._outline_messages(request, max_words),
                                      outline_schema(request),
                                      lambda answer: validate_outline(answer, request))
            request = dataclasses.replace(request, scenes=briefs, scene_count=0)
        todo = tuple(s for s in request.scenes if s.has_holes)
        written: dict[str, WrittenScene] = {}
        if todo:
            part = dataclasses.replace(request, scenes=todo)
            scenes, usage = self._ask("fill", request, usage,
                                      self._fill_messages(request, todo, max_words),
                                      fill_schema(part),
                                      lambda answer: validate_fill(answer, part, max_words))
            written = {s.id: s for s in scenes}
        return WriteResult(tuple(written.get(s.id) or _as_written(s) for s in request.scenes),
                           usage)

    def _fill_messages(self, request: WriteRequest, todo: tuple[SceneBrief, ...],
                       max_words: int) -> list[Message]:
        fields = _fields(request, max_words) | {"scenes": _story_block(request),
                                                "format": _fill_format(todo)}
        return [{"role": "system", "content": _render(self.prompts.system, fields)},
                {"role": "user", "content": _render(self.prompts.fill, fields)}]

    def _outline_messages(self, request: WriteRequest, max_words: int) -> list[Message]:
        fields = _fields(request, max_words) | {"scenes": "",
                                                "format": _outline_format(request.scene_count)}
        return [{"role": "system", "content": _render(self.prompts.system, fields)},
                {"role": "user", "content": _render(self.prompts.outline, fields)}]

    def _ask(self, what: str, request: WriteRequest, usage: Usage, messages: list[Message],
             schema: dict[str, Any], validate: Callable[[dict[str, Any]], T]) -> tuple[T, Usage]:
        conversation = list(messages)
        problems: list[str] = []
        for attempt in range(1, self.attempts + 1):
            reply = self.model.chat(conversation, schema, f"story_{what}")
            # A key the server echoes back must not reach the story, the cache or a message.
            reply = dataclasses.replace(reply, text=mask(reply.text))
            usage = Usage(usage.requests + reply.requests,
                          usage.prompt_tokens + reply.prompt_tokens,
                          usage.completion_tokens + reply.completion_tokens)
            try:
                return validate(extract_json(reply.text)), usage
            except InvalidAnswer as invalid:
                problems = invalid.problems
            log.warning("%s: %s answer %d of %d was invalid: %s", self.model.backend, what,
                        attempt, self.attempts, "; ".join(problems))
            retry = _render(self.prompts.retry,
                            {"problems": "\n".join(f"- {p}" for p in problems)})
            conversation = list(messages) + [
                {"role": "assistant", "content": reply.text[:MAX_ECHOED_ANSWER]},
                {"role": "user", "content": retry}]
        shown = problems[:8] + ([f"and {len(problems) - 8} more"] if len(problems) > 8 else [])
        raise BackendError(
            self.model.backend,
            f"the {what} answer was still unusable after {self.attempts} attempts: "
            + "; ".join(shown),
            where=f"story '{request.title}'",
            hint="try a stronger model, a lower temperature, or write the missing parts by hand")


def _as_written(scene: SceneBrief) -> WrittenScene:
    """A scene the author completed: passed through unchanged."""
    return WrittenScene(scene.id, scene.title or title_from_id(scene.id), scene.setting or "",
                        scene.characters, scene.image or "",
                        tuple(WrittenLine(ln.speaker, ln.text or "", ln.direction)
                              for ln in scene.lines))
