"""What chat writers must answer: JSON schemas, lenient JSON extraction, and answer validation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from engine.backends.llm import SceneBrief, WriteRequest, WrittenLine, WrittenScene
from engine.ir import NARRATOR
from engine.secrets import mask

SCENE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_LINES_PER_SCENE = 16


class InvalidAnswer(Exception):
    """An answer that cannot be used; `problems` says why, one item each, for the retry prompt."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _string(nullable: bool = False, choices: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if choices:
        schema["enum"] = choices + ([None] if nullable else [])
    return schema


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    # Strict structured output wants every property required and nothing else allowed.
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


def speakers_of(request: WriteRequest) -> list[str]:
    return [NARRATOR] + [c.name for c in request.characters if c.name != NARRATOR]


def _array(items: dict[str, Any], least: int, most: int | None = None) -> dict[str, Any]:
    """An array schema with its counts: constrained decoders (vLLM, llama.cpp, Ollama) and
    strict structured outputs enforce them while the answer is generated."""
    schema = {"type": "array", "items": items, "minItems": least}
    return schema | ({"maxItems": most} if most is not None else {})


def line_counts(scene: SceneBrief) -> tuple[int, int]:
    """How many lines a scene's answer has: the author's count, else 1 to MAX_LINES_PER_SCENE."""
    if scene.wordless:
        return 0, 0
    return (len(scene.lines), len(scene.lines)) if scene.lines else (1, MAX_LINES_PER_SCENE)


def _characters(names: list[str]) -> dict[str, Any]:
    return _array(_string(choices=names or None), 0, len(names) if names else None)


def fill_schema(request: WriteRequest) -> dict[str, Any]:
    """The JSON schema of a fill answer: every scene, complete, in the request's order; the
    scene count exact, the line count exact for scenes the author gave lines (the widest
    range over the scenes when several are asked at once)."""
    names = [c.name for c in request.characters]
    line = _object({"speaker": _string(choices=speakers_of(request)),
                    "text": _string(), "direction": _string(nullable=True)})
    counts = [line_counts(s) for s in request.scenes] or [(1, MAX_LINES_PER_SCENE)]
    scene = _object({
        "id": _string(choices=[s.id for s in request.scenes] or None),
        "title": _string(), "setting": _string(),
        "characters": _characters(names),
        "image": _string(),
        "lines": _array(line, min(c[0] for c in counts), max(c[1] for c in counts)),
    })
    count = len(request.scenes)
    return _object({"scenes": _array(scene, count, count)})


def outline_schema(request: WriteRequest) -> dict[str, Any]:
    """The JSON schema of an outline answer: exactly `scene_count` scenes drafted from the
    premise."""
    names = [c.name for c in request.characters]
    scene = _object({"id": _string(), "title": _string(), "setting": _string(),
                     "characters": _characters(names), "image": _string()})
    return _object({"scenes": _array(scene, request.scene_count, request.scene_count)})


def extract_json(text: str) -> Any:
    """The JSON object in a model's reply, tolerating code fences and chatter around it."""
    stripped = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.DOTALL)
    if fenced:
        stripped = fenced.group(1).strip()
    start = stripped.find("{")
    if start < 0:
        raise InvalidAnswer([f"the answer is not JSON (it starts {_preview(text)})"])
    try:
        value, _ = json.JSONDecoder().raw_decode(stripped[start:])
    except json.JSONDecodeError as error:
        raise InvalidAnswer([f"the answer is not valid JSON ({error.msg} at character "
                             f"{error.pos + start}); it may be cut off"]) from None
    if not isinstance(value, dict):
        raise InvalidAnswer(["the answer must be one JSON object"])
    return value


def _preview(text: str, limit: int = 40) -> str:
    flat = mask(" ".join(text.split()))  # before the cut: half a key would escape the mask
    return repr(flat[:limit] + ("…" if len(flat) > limit else ""))


def max_words_for(audience: str) -> int:
    """The longest line, in words, for an audience (by its youngest age): short for the youngest."""
    match = re.search(r"\d+", audience or "")
    youngest = int(match.group()) if match else 8
    if youngest <= 5:
        return 30
    if youngest <= 8:
        return 45
    if youngest <= 12:
        return 60
    return 90


@dataclass(frozen=True, slots=True)
class _Checker:
    request: WriteRequest
    max_words: int

    def text(self, value: Any, what: str, problems: list[str]) -> str | None:
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{what} is missing or empty")
            return None
        return " ".join(value.split())

    def line(self, raw: Any, what: str, problems: list[str]) -> WrittenLine | None:
        if not isinstance(raw, dict):
            problems.append(f"{what} is not an object with speaker and text")
            return None
        speaker = raw.get("speaker")
        known = speakers_of(self.request)
        # Models write "Narrator", "owl" or null for narration; names are matched case-blind.
        canonical = {name.lower(): name for name in known}
        name = canonical.get((speaker or NARRATOR).strip().lower()) \
            if isinstance(speaker, str | None) else None
        if name is None:
            problems.append(f"{what}: speaker {speaker!r} is not one of {', '.join(known)}")
            return None
        text = self.text(raw.get("text"), f"{what} ({name}) text", problems)
        if text is None:
            return None
        words = len(text.split())
        if words > self.max_words:
            problems.append(f"{what} ({name}) has {words} words; keep lines under "
                            f"{self.max_words} words for ages {self.request.audience}")
            return None
        direction = raw.get("direction")
        direction = direction.strip() if isinstance(direction, str) and direction.strip() else None
        return WrittenLine(None if name == NARRATOR else name, text, direction)


def _scene_list(answer: dict[str, Any], expected: int) -> list[Any]:
    scenes = answer.get("scenes")
    if not isinstance(scenes, list):
        raise InvalidAnswer(['the answer has no "scenes" list'])
    if len(scenes) != expected:
        raise InvalidAnswer([f"the answer has {len(scenes)} scenes; exactly {expected} are needed"])
    return scenes


def validate_fill(answer: dict[str, Any], request: WriteRequest,
                  max_words: int | None = None) -> tuple[WrittenScene, ...]:
    """Every scene of the request, complete; the author's text always wins over the answer's."""
    checker = _Checker(request, max_words or max_words_for(request.audience))
    raw_scenes = _scene_list(answer, len(request.scenes))
    by_id = {s["id"]: s for s in raw_scenes
             if isinstance(s, dict) and isinstance(s.get("id"), str)}
    problems: list[str] = []
    written: list[WrittenScene] = []
    for brief in request.scenes:
        raw = by_id.get(brief.id)
        if raw is None:
            problems.append(f"scene '{brief.id}' is missing from the answer")
            continue
        scene = _fill_scene(brief, raw, checker, problems)
        if scene is not None:
            written.append(scene)
    if problems:
        raise InvalidAnswer(problems)
    return tuple(written)


def _fill_scene(brief: SceneBrief, raw: dict[str, Any], checker: _Checker,
                problems: list[str]) -> WrittenScene | None:
    where = f"scene '{brief.id}'"
    before = len(problems)
    # Titles and settings the author left out are welcome but not required: no stage needs them.
    title = brief.title or _optional(raw.get("title")) or title_from_id(brief.id)
    setting = brief.setting or _optional(raw.get("setting")) or ""
    image = brief.image or checker.text(raw.get("image"), f"{where} image prompt", problems)
    raw_lines = raw.get("lines")
    if not isinstance(raw_lines, list):
        problems.append(f"{where} has no lines list")
        return None
    lines: list[WrittenLine] = []
    if brief.wordless:
        pass  # no words, whatever came back
    elif brief.lines:
        if len(raw_lines) != len(brief.lines):
            problems.append(f"{where} must have exactly {len(brief.lines)} lines in the author's "
                            f"order, not {len(raw_lines)}")
            return None
        for number, (given, answered) in enumerate(zip(brief.lines, raw_lines), start=1):
            if given.text is not None:
                lines.append(WrittenLine(given.speaker, given.text, given.direction))
                continue
            line = checker.line(answered, f"{where} line {number}", problems)
            if line is None:
                continue
            if line.speaker != given.speaker:
                problems.append(f"{where} line {number} must be spoken by "
                                f"{given.speaker or NARRATOR}, not {line.speaker or NARRATOR}")
                continue
            lines.append(WrittenLine(given.speaker, line.text, given.direction or line.direction))
    else:
        if not 1 <= len(raw_lines) <= MAX_LINES_PER_SCENE:
            problems.append(f"{where} needs between 1 and {MAX_LINES_PER_SCENE} lines, "
                            f"not {len(raw_lines)}")
            return None
        for number, answered in enumerate(raw_lines, start=1):
            line = checker.line(answered, f"{where} line {number}", problems)
            if line is not None:
                lines.append(line)
    if len(problems) > before:
        return None
    characters = brief.characters or _present(raw.get("characters"), checker.request, lines)
    assert image
    return WrittenScene(brief.id, title, setting, characters, image, tuple(lines))


def title_from_id(scene_id: str) -> str:
    return scene_id.replace("-", " ").strip().capitalize() or scene_id


def _optional(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _present(raw: Any, request: WriteRequest, lines: list[WrittenLine]) -> tuple[str, ...]:
    """Who is in a scene without `with:`: the known characters it names, then every speaker."""
    known = [c.name for c in request.characters]
    named = [n for n in raw if isinstance(n, str) and n in known] if isinstance(raw, list) else []
    named += [ln.speaker for ln in lines if ln.speaker and ln.speaker not in named]
    return tuple(dict.fromkeys(named))


def validate_outline(answer: dict[str, Any], request: WriteRequest) -> tuple[SceneBrief, ...]:
    """`scene_count` scenes with unique ids, titles, settings and image prompts; no lines yet."""
    checker = _Checker(request, max_words_for(request.audience))
    raw_scenes = _scene_list(answer, request.scene_count)
    known = {c.name for c in request.characters}
    problems: list[str] = []
    seen: set[str] = set()
    briefs: list[SceneBrief] = []
    for number, raw in enumerate(raw_scenes, start=1):
        where = f"scene {number}"
        if not isinstance(raw, dict):
            problems.append(f"{where} is not an object")
            continue
        scene_id = raw.get("id")
        if not isinstance(scene_id, str) or not SCENE_ID.match(scene_id):
            problems.append(f"{where}: id {scene_id!r} must be lowercase words joined by hyphens")
            continue
        if scene_id in seen:
            problems.append(f"{where}: id '{scene_id}' is used twice")
            continue
        seen.add(scene_id)
        where = f"scene '{scene_id}'"
        title = checker.text(raw.get("title"), f"{where} title", problems)
        setting = checker.text(raw.get("setting"), f"{where} setting", problems)
        image = checker.text(raw.get("image"), f"{where} image prompt", problems)
        raw_characters = raw.get("characters")
        characters = raw_characters if isinstance(raw_characters, list) else []
        unknown = [n for n in characters if not isinstance(n, str) or n not in known]
        if unknown:
            problems.append(f"{where}: unknown characters {unknown}; use only "
                            f"{', '.join(sorted(known)) or 'none (narration only)'}")
            continue
        briefs.append(SceneBrief(scene_id, title, setting, tuple(dict.fromkeys(characters)),
                                 (), image))
    if problems:
        raise InvalidAnswer(problems)
    return tuple(briefs)
