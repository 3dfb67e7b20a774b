"""The write stage: ask the writer for what the author left out and merge it into a new Story."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.backends.llm import (CharacterBrief, LineBrief, Rejected, SceneBrief, SceneOutline,
                                 Usage, Writer, WriteRequest, WriteResult, WrittenLine,
                                 WrittenScene)
from engine.errors import BackendError
from engine.feedback import NO_FEEDBACK, Feedback, ItemFeedback, line_key
from engine.ir import Field, Line, Scene, Story, Value
from engine.voices import voice_category

if TYPE_CHECKING:
    from engine.steps import Step

log = logging.getLogger(__name__)

VERSION = 1
DEFAULT_SCENE_COUNT = 5


@dataclass(frozen=True, slots=True)
class Written:
    """The story with every hole filled, and what the writer cost (None: it was not needed)."""

    story: Story
    request: WriteRequest | None
    usage: Usage
    pinned: tuple[str, ...] = ()
    """Holes filled with an approved answer, not written again: `SCENE:N` (a line, N from 1),
    `SCENE:image` (the image prompt of an approved picture)."""
    rewritten: tuple[str, ...] = ()
    """Holes the writer was asked again with reviewers' notes: `SCENE:N`, `SCENE:lines` (a
    scene whose lines it writes)."""


def build_request(story: Story, feedback: Feedback = NO_FEEDBACK) -> WriteRequest:
    """The writer's view of a story: its facts, and a None wherever the author left a hole.

    A hole a reviewer approved an answer for is filled with it (pinned: the writer sees it as
    written); a hole whose answers were rejected carries them, with the reviewers' notes."""
    characters = tuple(
        CharacterBrief(c.name, c.text("description", "") or "", voice_category(story, c.name),
                       c.tags)
        for c in story.all_characters())
    scenes = tuple(_scene_brief(story, s, feedback) for s in story.scenes)
    wanted = 0
    if not story.scenes:
        wanted = int(story.text("scenes") or DEFAULT_SCENE_COUNT)
    return WriteRequest(
        title=story.text("title") or story.name.replace("-", " ").title(),
        audience=story.text("audience", "3-8") or "3-8",
        style=story.text("style", "") or "",
        language=story.text("language", "en") or "en",
        premise=story.text("premise"),
        characters=characters, scenes=scenes, scene_count=wanted)


def _scene_brief(story: Story, scene: Scene, feedback: Feedback) -> SceneBrief:
    image = scene.text("image")
    if image is None:
        approved = feedback.scene(scene.id).approved
        image = (approved[0].text or None) if approved else None
    lines = tuple(_line_brief(line, feedback.line(scene.id, index))
                  for index, line in enumerate(scene.lines))
    rejected = () if scene.lines or scene.wordless else tuple(
        Rejected(r.text, r.note) for slot in feedback.lines_of(scene.id) for r in slot.rejected
        if r.text)
    return SceneBrief(id=scene.id, title=scene.text("title"), setting=scene.text("setting"),
                      characters=story.characters_in(scene), lines=lines, image=image,
                      rejected_lines=rejected, wordless=scene.wordless)


def _line_brief(line: Line, review: ItemFeedback) -> LineBrief:
    if line.text is not None:
        return LineBrief(line.speaker, line.text, line.direction)
    if review.approved and review.approved[0].text:
        return LineBrief(line.speaker, review.approved[0].text, line.direction)
    return LineBrief(line.speaker, None, line.direction,
                     tuple(Rejected(r.text, r.note) for r in review.rejected if r.text))


def needs_writer(request: WriteRequest) -> bool:
    return request.scene_count > 0 or any(s.has_holes for s in request.scenes)


def write_cached(story: Story, writer: Writer, step: Step,
                 feedback: Feedback = NO_FEEDBACK) -> Written:
    """`write` through the artifact cache: an unchanged story never asks the writer again.

    A writer that writes `scene_by_scene` is asked (and cached) per scene with a hole, with the
    story's outline as context: an edit to one scene re-asks that scene alone, and the others
    keep their answers, so their pictures and narration are reused too. A hole a reviewer
    approved an answer for is filled with it (pinned); rejected answers go to the writer with
    their notes."""
    request = build_request(story, feedback)
    pinned, rewritten = _pins_and_rewrites(story, request)
    if not needs_writer(request):
        written = merge(story, request, _as_written(request)) if pinned else story
        return Written(written, None, Usage(), pinned)
    if request.scene_count or not getattr(writer, "scene_by_scene", False):
        result = _answer(request, writer, step, story.name)
    else:
        result = _answer_by_scene(request, writer, step)
    return Written(merge(story, request, result), request, result.usage, pinned, rewritten)


def _answer(request: WriteRequest, writer: Writer, step: Step, label: str) -> WriteResult:
    path = step.run("write", VERSION, request, writer, "written.json",
                    lambda out: out.write_text(json.dumps(dataclasses.asdict(
                        writer.write(request))), encoding="utf-8"),
                    label=label)
    return result_from_json(json.loads(path.read_text(encoding="utf-8")))


def _answer_by_scene(request: WriteRequest, writer: Writer, step: Step) -> WriteResult:
    """One request per scene with a hole; complete scenes are not asked about."""
    outline = tuple(SceneOutline(s.id, s.title, s.setting, s.characters)
                    for s in request.scenes)
    scenes: list[WrittenScene] = []
    usage = Usage()
    for brief in request.scenes:
        if not brief.has_holes:
            continue
        part = dataclasses.replace(request, scenes=(brief,), outline=outline)
        answer = _answer(part, writer, step, brief.id)
        scenes.extend(w for w in answer.scenes if w.id == brief.id)
        usage += answer.usage
    return WriteResult(tuple(scenes), usage)


def _pins_and_rewrites(story: Story, request: WriteRequest
                       ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which holes the request fills with approved answers, and which it asks again."""
    pinned, rewritten = [], []
    for scene, brief in zip(story.scenes, request.scenes):
        if scene.get("image") is None and brief.image is not None:
            pinned.append(f"{scene.id}:image")
        if brief.rejected_lines:
            rewritten.append(f"{scene.id}:lines")
        for index, (line, asked) in enumerate(zip(scene.lines, brief.lines)):
            if line.text is None and asked.text is not None:
                pinned.append(line_key(scene.id, index))
            elif asked.rejected:
                rewritten.append(line_key(scene.id, index))
    return tuple(pinned), tuple(rewritten)


def _as_written(request: WriteRequest) -> WriteResult:
    """A request with no hole left (every one pinned), as the writer would have answered it."""
    return WriteResult(tuple(_as_written_scene(s) for s in request.scenes))


def _as_written_scene(brief: SceneBrief) -> WrittenScene:
    """A scene the writer is not asked about, as it would have answered (pins included)."""
    return WrittenScene(brief.id, brief.title or "", brief.setting or "", brief.characters,
                        brief.image or "", tuple(WrittenLine(l.speaker, l.text or "", l.direction)
                                                 for l in brief.lines))


def merge(story: Story, request: WriteRequest, result: WriteResult) -> Story:
    """The story with the writer's answer filled in; the author's own words are never changed."""
    name = type(result).__module__
    if request.scene_count:
        if len(result.scenes) != request.scene_count:
            raise BackendError("llm", f"asked for {request.scene_count} scenes, got "
                               f"{len(result.scenes)}", where=story.path)
        scenes = tuple(_new_scene(w) for w in result.scenes)
        # `scenes: N` has done its work once the scenes exist (check warns on it beside them)
        story = dataclasses.replace(story, fields=tuple(f for f in story.fields
                                                        if f.key != "scenes"))
    else:
        by_id = {w.id: w for w in result.scenes}
        holes = {brief.id for brief in request.scenes if brief.has_holes}
        missing = [s.id for s in story.scenes if s.id in holes and s.id not in by_id]
        if missing:
            raise BackendError("llm", f"the answer has no scene {', '.join(missing)}",
                               where=story.path, hint=f"the writer ({name}) must return every "
                               "scene it was asked to write")
        scenes = tuple(_fill_scene(s, by_id.get(s.id) or _as_written_scene(brief), brief)
                       for s, brief in zip(story.scenes, request.scenes))
    return dataclasses.replace(story, scenes=scenes)


def _fill_scene(scene: Scene, written: WrittenScene, brief: SceneBrief) -> Scene:
    """The scene with the writer's answer in its holes; a hole the request filled with an
    approved answer (pinned) keeps exactly that, whatever the writer returned for it."""
    fields = scene.fields
    if scene.get("title") is None and not scene.lines and written.title.strip():
        fields = fields + (Field("title", Value(written.title.strip())),)
    if scene.get("image") is None:
        image = brief.image if brief.image is not None else written.image.strip()
        if not image:
            raise BackendError("llm", "wrote no image prompt", where=f"scene {scene.id}")
        fields = fields + (Field("image", Value(image)),)
    if scene.wordless:
        return dataclasses.replace(scene, fields=fields)
    if not scene.lines:
        lines = tuple(_llm_line(w.speaker, w.text, w.direction, scene.id) for w in written.lines)
        return dataclasses.replace(scene, fields=fields, lines=lines)
    if len(written.lines) != len(scene.lines):
        raise BackendError("llm", f"returned {len(written.lines)} lines for a scene of "
                           f"{len(scene.lines)}", where=f"scene {scene.id}")
    lines = []
    for number, (mine, asked, theirs) in enumerate(zip(scene.lines, brief.lines, written.lines),
                                                   start=1):
        if mine.text is not None:
            lines.append(mine)
            continue
        if asked.text is not None:
            lines.append(dataclasses.replace(mine, text=asked.text, written_by="llm"))
            continue
        if theirs.speaker != mine.speaker:
            raise BackendError("llm", f"wrote line {number} for {theirs.speaker or 'the narrator'}"
                               f", not {mine.speaker or 'the narrator'}", where=f"scene {scene.id}")
        if not theirs.text.strip():
            raise BackendError("llm", f"left line {number} empty", where=f"scene {scene.id}")
        lines.append(dataclasses.replace(mine, text=theirs.text.strip(), written_by="llm"))
    return dataclasses.replace(scene, fields=fields, lines=tuple(lines))


def _llm_line(speaker: str | None, text: str, direction: str | None, scene_id: str) -> Line:
    if not text.strip():
        raise BackendError("llm", "wrote an empty line", where=f"scene {scene_id}")
    return Line(speaker, text.strip(), direction=direction, written_by="llm")


def _new_scene(written: WrittenScene) -> Scene:
    fields = [Field("title", Value(written.title)), Field("setting", Value(written.setting))]
    if written.characters:
        fields.append(Field("with", Value(", ".join(written.characters))))
    fields.append(Field("image", Value(written.image)))
    lines = tuple(_llm_line(w.speaker, w.text, w.direction, written.id) for w in written.lines)
    return Scene(written.id, tuple(fields), lines)



def result_from_json(data: dict) -> WriteResult:
    """A WriteResult read back from its cached JSON (dataclasses.asdict form)."""
    scenes = tuple(
        WrittenScene(id=s["id"], title=s["title"], setting=s["setting"],
                     characters=tuple(s["characters"]), image=s["image"],
                     lines=tuple(WrittenLine(**l) for l in s["lines"]))
        for s in data["scenes"])
    return WriteResult(scenes, Usage(**data.get("usage", {})))
