"""`<story>.review.yaml` read for the next render: what it redraws, rewrites and keeps (pins)."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.errors import Diagnostic, StoryError
from engine.feedback import Approval, Feedback, ItemFeedback, Rejection
from engine.ir import Span, Story
from engine.review import decisions
from engine.review.records import authored_sha256, text_sha256

Decided = tuple[str, str, dict[str, Any]]
"""(the sha256 the decision is keyed by, the text it is about, the decision's fields)."""


def load_feedback(story: Story) -> Feedback:
    """The decisions beside `story` (as its author wrote it, before the writer) as the render
    uses them; a review file that cannot be read is the story's error, located in that file."""
    path = decisions.decisions_path(Path(story.path))
    try:
        data = decisions.load(path)
    except decisions.DecisionsError as error:
        line, column = error.line or 1, error.column or 1
        raise StoryError([Diagnostic(Span(str(path), line, column, line, column + 1), "error",
                                     "review-file", error.problem,
                                     hint="the render reads reviewers' decisions from it")]
                         ) from None
    authored = {scene.id: authored_sha256(scene) for scene in story.scenes}
    scenes = {key: _item(list(_pictures(entries)), authored.get(key))
              for key, entries in data["scenes"].items() if isinstance(entries, dict)}
    lines = {key: _item(list(_lines(entries)), authored.get(str(key).rpartition(":")[0]))
             for key, entries in data["lines"].items() if isinstance(entries, dict)}
    return Feedback(MappingProxyType(scenes), MappingProxyType(lines))


def _pictures(entries: dict[str, Any]) -> list[Decided]:
    """A scene's decisions: keyed by the picture's sha256, about the image prompt drawn."""
    return [(sha, str(entry.get("image_prompt") or ""), entry)
            for sha, entry in entries.items() if _is_decision(entry)]


def _lines(entries: dict[str, Any]) -> list[Decided]:
    """A line slot's decisions, one per text: the newest over its voicings decides. An approval
    is kept by its audio's sha256 (to reuse that clip), a rejection by the text's."""
    out = []
    for text_sha, voicings in entries.items():
        if not isinstance(voicings, dict):
            continue
        decided = [(str(entry.get("at") or ""), audio, entry)
                   for audio, entry in voicings.items() if _is_decision(entry)]
        if not decided:
            continue
        _, audio, entry = max(decided, key=lambda d: (d[0], d[1]))
        text = str(entry.get("text") or "")
        out.append((audio if entry["decision"] == "approved" else text_sha, text, entry))
    return out


def _item(decided: list[Decided], authored_now: str | None) -> ItemFeedback:
    """Approvals newest first, and only while the author's scene reads as it did when they were
    made; rejections oldest first, whatever changed since (what was rejected stays rejected)."""
    def when(d: Decided) -> tuple[str, str]:
        return str(d[2].get("at") or ""), d[0]

    approved = [d for d in decided if d[2]["decision"] == "approved"
                and authored_now is not None and d[2].get("authored") == authored_now]
    rejected = [d for d in decided if d[2]["decision"] == "rejected"]
    return ItemFeedback(
        tuple(Approval(sha, text, str(entry.get("cache") or ""), str(entry.get("subject") or ""))
              for sha, text, entry in sorted(approved, key=when, reverse=True)),
        tuple(Rejection(sha, text, " ".join(str(entry.get("note") or "").split()))
              for sha, text, entry in sorted(rejected, key=when)))


def _is_decision(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("decision") in decisions.DECISIONS


def rejected_author_lines(story: Story) -> list[Diagnostic]:
    """A warning at each line the author wrote that a reviewer rejected, as it reads now: the
    render cannot rewrite the author's words, so `check` tells the author (with the note)."""
    feedback = load_feedback(story)
    found = []
    for scene in story.scenes:
        for index, line in enumerate(scene.lines):
            if line.text is None:
                continue
            sha = text_sha256(line.text)
            for rejection in feedback.line(scene.id, index).rejected:
                if rejection.content == sha:
                    found.append(Diagnostic(
                        line.span, "warning", "rejected-in-review",
                        f"a reviewer rejected this line: {rejection.note or '(no note)'}",
                        hint="edit it (the next render voices it again), or approve it in "
                             "`storyreel review`"))
    return found
