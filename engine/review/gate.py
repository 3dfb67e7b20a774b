"""The publish gate: is every scene and line of a run approved for exactly what it holds?"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from engine.files import file_sha256
from engine.review import decisions
from engine.review.decisions import Decision
from engine.review.records import Item, Run, flag_id, load_run


def label(item: Item) -> str:
    return f"{item.kind} {item.key}"


def flags_text(flags: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    """`violence 0.91, fear 0.40`: what the safety checks found, for one line of text."""
    found = []
    for flag in flags:
        score = flag.get("score")
        found.append(f"{flag.get('category', '?')}"
                     + (f" {score:.2f}" if isinstance(score, (int, float)) else ""))
    return ", ".join(sorted(set(found)))


def item_problem(item: Item, decision: Decision | None, changed: str | None) -> str | None:
    """Why this item keeps the run from being published, or None when it is approved;
    `changed` says what changed since it was decided on (`decisions.what_changed`)."""
    if item.kind == "scene" and item.presented is None:
        return ("rendered before a scene's approval covered its sound, transition and camera "
                "(manifest.json has no `presented`); render it again")
    if decision is None:
        if changed:
            return f"{changed}; review it again"
        return "not reviewed" + (f" (flagged: {flags_text(item.flags)})" if item.flags else "")
    if not decision.approved:
        note = " ".join(decision.note.split())  # one line per item, whatever the note holds
        return "rejected" + (f": {note}" if note else "")
    unaccepted = item.flag_ids - set(decision.accepted_flags)
    if unaccepted:
        found = flags_text([f for f in item.flags if flag_id(f) in unaccepted])
        return f"flagged ({found}) and approved without --accept-flagged"
    return None


def changed_files(run: Run) -> list[str]:
    """Files of the run that are missing or no longer what the render recorded."""
    out = []
    for rel, sha in sorted(run.file_hashes().items()):
        path = run.folder / rel
        if not path.is_file():
            out.append(f"{rel}: missing from the run folder; render again")
        elif file_sha256(path) != sha:
            out.append(f"{rel}: changed since the render (its sha256 no longer matches "
                       "manifest.json); render again")
    return out


def problems(run: Run, data: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """Everything that keeps the run from being published, one line each (empty: publishable)."""
    return _run_problems(run) + [f"{label(item)}: {problem}"
                                 for item, _, _, problem in _item_problems(run, data)]


def _run_problems(run: Run) -> list[str]:
    """What keeps the run from being published besides its items: files changed since the
    render, flags about nothing in it."""
    out = changed_files(run)
    attached = {id(flag) for item in run.items for flag in item.flags}
    for flag in run.flags:
        if id(flag) not in attached:  # about no scene or line of this run: nobody can accept it
            where = flag.get("scene") if flag.get("line") is None else \
                f"{flag.get('scene')}:{flag.get('line')}"
            out.append(f"flag {flags_text([flag])} on {where}: about nothing in this run; "
                       "render again")
    return out


def _item_problems(run: Run, data: dict[str, dict[str, dict[str, Any]]]
                   ) -> list[tuple[Item, Decision | None, str | None, str]]:
    """Each item that keeps the run from being published: its decision (None: none for what
    it holds now), what changed since it was decided on, and the problem in words."""
    out = []
    for item in run.items:
        decision, changed = decisions.decision_for(data, item), decisions.what_changed(data, item)
        problem = item_problem(item, decision, changed)
        if problem:
            out.append((item, decision, changed, problem))
    return out


def publish_status(run_dir: Path) -> str:
    """One line for the end of a render: publishable, or how much still needs review."""
    run = load_run(run_dir)
    data = decisions.load(decisions.decisions_path(run.story))
    other, judged = _run_problems(run), _item_problems(run, data)
    if not other and not judged:
        return ("publishable: every scene and line is approved "
                f"(storyreel publish {shlex.quote(str(run_dir))} --to DIR)")
    rejected = sum(1 for _, decision, _, _ in judged
                   if decision is not None and not decision.approved)
    changed = [f"{label(item)}: {what}" for item, _, what, problem in judged
               if what and problem == f"{what}; review it again"]
    said = ([f"{rejected} rejected"] if rejected else []) + changed[:1] + (
        [f"{len(changed) - 1} more changed since they were decided on"] if changed[1:] else [])
    return (f"not publishable yet: {len(judged)} of {len(run.items)} scenes and lines need "
            "review" + (f": {'; '.join(said)}" if said else "")
            + (f", and {len(other)} other problems (storyreel publish lists them)"
               if other else "")
            + f" (storyreel review {shlex.quote(str(run_dir))})")
