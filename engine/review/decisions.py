"""`<story>.review.yaml`: reviewers' decisions beside the story, keyed by what they were about."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from engine.files import write_atomically
from engine.locks import acquire, release
from engine.review.records import ASPECTS, Item

HEADER = """\
# Review decisions (storyreel review): a scene's under its picture's sha256 (with `presented`:
# the sha256 of its sound, transition, camera and duration; `approved_with`: those it was
# approved with before), a line's under its text's sha256
# and then its audio's, so each is about exactly what was seen and heard. `storyreel publish`
# needs every scene and line of a run approved here; a flagged one with accepted_flags naming
# its flags.
"""

DECISIONS = ("approved", "rejected")


def decisions_path(story: Path) -> Path:
    """`stories/first-snow.story` → `stories/first-snow.review.yaml`."""
    return story.with_name(f"{story.stem}.review.yaml")


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    note: str
    reviewer: str
    at: str
    accepted_flags: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        return self.decision == "approved"


class DecisionsError(ValueError):
    """A review file that cannot be read (one line, exit 2); where in it, when known."""

    def __init__(self, path: Path, problem: str, line: int = 0, column: int = 0):
        self.path, self.problem, self.line, self.column = path, problem, line, column
        where = f":{line}:{column}" if line else ""
        super().__init__(f"{path}{where}: error: {problem}")


def load(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The file as {"scenes"|"lines": {item key: {content hash: decision fields}}}."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {"scenes": {}, "lines": {}}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise DecisionsError(path, "not valid YAML; fix it or check it out again from git",
                             *((mark.line + 1, mark.column + 1) if mark else ())) from None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(group, {}), dict) for group in ("scenes", "lines")):
        raise DecisionsError(path, "expected `scenes:` and `lines:` mappings")
    return {"scenes": data.get("scenes") or {}, "lines": data.get("lines") or {}}


def decision_for(data: dict[str, dict[str, dict[str, Any]]], item: Item) -> Decision | None:
    """The decision about exactly this item's content, if any. A scene's picture approved with
    this very sound, transition, camera and duration (now or in an earlier approval of the same
    picture: `approved_with`); a rejected picture is rejected however it is presented."""
    entry = _entry(data, item)
    if entry is None:
        return None
    if entry["decision"] == "approved" and entry.get("presented") != item.presented and \
            item.presented not in (entry.get("approved_with") or []):
        return None
    return Decision(entry["decision"], str(entry.get("note") or ""),
                    str(entry.get("reviewer") or ""), str(entry.get("at") or ""),
                    tuple(entry.get("accepted_flags") or ()))


def _entry(data: dict[str, dict[str, dict[str, Any]]], item: Item) -> dict[str, Any] | None:
    """The decision recorded under this item's hashes (a scene's: for its picture)."""
    entry: Any = data[_group(item)].get(item.key)
    for step in _hashes(item):
        entry = entry.get(step) if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or entry.get("decision") not in DECISIONS:
        return None
    return entry


def what_changed(data: dict[str, dict[str, dict[str, Any]]], item: Item) -> str | None:
    """What changed in this item since it was decided on, in words (`its sound changed since it
    was approved`); None when it was never decided on, or exactly as it is now."""
    if not data[_group(item)].get(item.key) or decision_for(data, item) is not None:
        return None
    entry = _entry(data, item)
    if entry is None:
        return f"its {'picture' if item.kind == 'scene' else 'text or voice'} changed since it " \
               "was reviewed"
    was = entry.get("presented")
    if not isinstance(was, dict):
        return (f"it was {entry['decision']} before a scene's approval covered its sound, "
                "transition, camera and duration")
    now = item.presented or {}
    changed = [aspect for aspect in ASPECTS if was.get(aspect) != now.get(aspect)] or ["scene"]
    said = changed[0] if len(changed) == 1 else f"{', '.join(changed[:-1])} and {changed[-1]}"
    return f"its {said} changed since it was {entry['decision']}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """The decisions file held by this writer alone until the block ends (the page's server and
    a script may decide together: none is lost)."""
    lock = path.with_name(f".{path.name}.lock")
    try:
        fd = acquire(lock, wait=True)
    except OSError as error:  # named as the decisions file, not its lock beside it
        raise OSError(error.errno, error.strerror, str(path)) from error
    try:
        yield
    finally:
        if fd is not None:
            release(fd, lock)


def _write(path: Path, data: dict[str, dict[str, dict[str, Any]]],
           decisions: list[tuple[Item, Decision]]) -> None:
    """Add decisions to what `data` holds (replacing earlier ones for the same content) and write
    the file atomically."""
    for item, decision in decisions:
        entry: dict[str, Any] = {"decision": decision.decision, "note": decision.note,
                                 "reviewer": decision.reviewer, "at": decision.at}
        if decision.accepted_flags:
            entry["accepted_flags"] = sorted(decision.accepted_flags)
        if item.presented is not None:
            entry["presented"] = dict(item.presented)
        entry.update(_what_was_seen(item))
        place = data[_group(item)].setdefault(item.key, {})
        *outer, last = _hashes(item)
        for step in outer:
            place = place.setdefault(step, {})
        earlier = place.get(last)
        if item.presented is not None and decision.approved and isinstance(earlier, dict) \
                and earlier.get("decision") == "approved":
            # The same picture approved as presented before stays approved so (an older run,
            # or an edit taken back): its presentations are kept beside the newest.
            kept: list[dict[str, Any]] = []
            for shown in [*(earlier.get("approved_with") or []), earlier.get("presented")]:
                if isinstance(shown, dict) and shown != entry["presented"] and shown not in kept:
                    kept.append(shown)
            if kept:
                entry["approved_with"] = kept
        place[last] = entry
    body = yaml.safe_dump(data, sort_keys=True, allow_unicode=True, width=100,
                          default_flow_style=False)
    write_atomically(path, HEADER + body)


def _what_was_seen(item: Item) -> dict[str, str]:
    """Beside a decision, what the next render needs to act on it: a line's text (to pin it or
    to tell the writer what was rejected), a picture's image prompt (pinned with it), the
    author's scene as it read (a pin holds while it reads the same), the cache entry holding
    the picture or clip and what it was made for (`subject`)."""
    if item.kind == "line":
        seen = {"text": item.record.get("text", "")}
        made = item.record.get("audio") or {}
    else:
        seen = {"image_prompt": item.record.get("image_prompt", "")}
        made = item.record.get("picture") or {}
    if item.record.get("authored_sha256"):
        seen["authored"] = item.record["authored_sha256"]
    seen.update({name: made[name] for name in ("cache", "subject") if made.get(name)})
    return seen


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hashes(item: Item) -> list[str]:
    """Where an item's decision sits under its key: a picture's sha256; a line's text sha256,
    then its audio's (`none` without audio); short enough keys for plain YAML."""
    if item.kind == "scene":
        return [item.content.partition("+")[0]]
    text, _, audio = item.content.partition("+")
    return [text, audio or "none"]


def _group(item: Item) -> str:
    return "scenes" if item.kind == "scene" else "lines"


class NeedsAcceptFlagged(ValueError):
    """An approval of flagged items without saying the flags were seen and accepted."""

    def __init__(self, items: list[Item]):
        super().__init__(f"{len(items)} flagged items need an explicit acceptance")
        self.items = items


class NeedsNote(ValueError):
    """A rejection without a reason: the next render (and the author) need to know why."""

    def __init__(self) -> None:
        super().__init__("a rejection needs a reason (a note saying what is wrong)")


@dataclass(frozen=True, slots=True)
class Kept:
    """An item a decision left as it was: `still rejected`, `still approved` or `already
    approved`, and why (a rejection's note; who approved it)."""

    item: Item
    state: str
    why: str


@dataclass(frozen=True, slots=True)
class Decided:
    """What one `decide` saved, and what it left as it was."""

    made: list[tuple[Item, Decision]]
    kept: list[Kept]


def decide(path: Path, items: list[Item], decision: str, note: str, reviewer: str,
           accept_flagged: bool, named: frozenset[str] | None = None) -> Decided:
    """Record one decision for every item (all or none), by the rules the page and the command
    line share: a rejection needs a note; approving a flagged item needs `accept_flagged` (and
    then names the flags it accepts), unless it is already approved with exactly these flags
    accepted (it is left so). A decision about a group (`all`, a scene) keeps an item's own
    decision about what it holds now, unless the item is among `named` (None: every item is):
    an approval leaves it rejected; a rejection leaves it rejected with its own note, or
    approved while that approval counts (its flags accepted)."""
    if decision == "rejected" and not note.strip():
        raise NeedsNote()
    with _locked(path):
        data = load(path)
        made: list[tuple[Item, Decision]] = []
        kept: list[Kept] = []
        at = now()
        for item in items:
            left = _kept(decision_for(data, item), item, decision, accept_flagged,
                         named is None or item.key in named)
            if left:
                kept.append(left)
            else:
                made.append((item, Decision(decision, note.strip(), reviewer, at, tuple(
                    sorted(item.flag_ids)) if decision == "approved" else ())))
        flagged = [item for item, _ in made if item.flags]
        if decision == "approved" and flagged and not accept_flagged:
            raise NeedsAcceptFlagged(flagged)
        if made:
            _write(path, data, made)
    return Decided(made, kept)


def _kept(current: Decision | None, item: Item, decision: str, accept_flagged: bool,
          named: bool) -> Kept | None:
    """The item left as it is by this decision, or None when the decision applies to it. An
    approval that still counts (the publish gate takes it: its flags accepted) is kept by a
    group's decision, approval (its reviewer and note stay) or rejection; one that no longer
    does is not."""
    if current is None:
        return None
    counts = current.approved and item.flag_ids <= set(current.accepted_flags)
    if not named and not current.approved:
        return Kept(item, "still rejected", " ".join(current.note.split()))
    if decision == "approved" and counts and item.flags and not accept_flagged:
        return Kept(item, "already approved", "its flags accepted earlier")
    if not named and counts:  # a group's decision keeps who approved it, and why
        note = " ".join(current.note.split())
        by = f" by {current.reviewer}" if current.reviewer else ""
        return Kept(item, "still approved" if decision == "rejected" else "already approved",
                    f"approved{by}" + (f": {note}" if note else ""))
    return None
