"""`storyreel publish`: the approved run's video, captions and a record, into a folder at once."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from engine.dsl.load import display_path
from engine.files import copy_atomically, file_sha256, find_root, write_atomically
from engine.review import decisions
from engine.review.gate import label, problems
from engine.review.records import PUBLISHED_FILES, Run, flag_id

RECORD = "publish.json"


class NotPublishable(Exception):
    """The run is not (all) approved: `problems` says what is missing, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} items keep the run from being published")
        self.problems = problems


class PublishError(ValueError):
    """A destination that cannot take the publish (one line, exit 2)."""


def tool_version() -> str:
    try:
        return metadata.version("storyreel")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def publish(run: Run, data: dict[str, dict[str, dict[str, Any]]], to: Path) -> Path:
    """Copy video, captions and publish.json into `to`, only when nothing is missing; the folder
    appears whole or not at all (a previous publish there is replaced as a whole)."""
    found = problems(run, data)
    if found:
        raise NotPublishable(found)
    _check_destination(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    staging = to.parent / f".{to.name}.publishing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        expected = run.file_hashes()
        for name in published_names(expected):
            copy_atomically(run.folder / name, staging / name)
            if file_sha256(staging / name) != expected[name]:  # changed while we copied
                raise NotPublishable([f"{name}: changed while it was copied; publish again"])
        write_atomically(staging / RECORD, json.dumps(publish_record(run, data), indent=2,
                                                      ensure_ascii=False, sort_keys=True))
        _swap_in(staging, to)
    except OSError as error:  # named as the destination, not the folders made beside it
        if str(error.filename or "").startswith(str(to.parent / f".{to.name}.")):
            raise OSError(error.errno, error.strerror, str(to)) from error
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return to


def published_names(files: dict[str, str]) -> tuple[str, ...]:
    """The files a publish copies, of those the run recorded (a run made before the karaoke
    captions existed has no captions.words.vtt)."""
    return tuple(name for name in PUBLISHED_FILES if name in files)


def publish_record(run: Run, data: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """What was published and why it could be: every artifact's hash and its approval."""
    files = run.file_hashes()
    root = find_root(run.story)
    items = []
    for item in run.items:
        decision = decisions.decision_for(data, item)
        assert decision is not None  # the gate has passed
        items.append({"item": label(item), "content": item.content, "files": dict(item.files),
                      "decision": decision.decision, "note": decision.note,
                      "reviewer": decision.reviewer, "at": decision.at,
                      "flags": sorted(flag_id(f) for f in item.flags),
                      "accepted_flags": list(decision.accepted_flags),
                      **({"presented": item.presented} if item.presented else {})})
    return {
        "tool": {"name": "storyreel", "version": tool_version()},
        "published_at": decisions.now(),
        # Paths within the story repository, as its git history names them (a published folder
        # carries no one's home folder); one outside it stays absolute.
        "story": {"path": display_path(os.path.abspath(run.story), root),
                  "resolved_sha256": files.get("resolved.story")},
        "run": display_path(os.path.abspath(run.folder), root),
        "files": {name: files[name] for name in published_names(files)},
        "flags": run.flags,
        "items": items,
    }


def _check_destination(to: Path) -> None:
    if to.is_file():
        raise PublishError(f"{to} is a file; choose a folder: --to DIR")
    if to.is_dir() and any(to.iterdir()) and not (to / RECORD).is_file():
        raise PublishError(f"{to} holds other files; choose a new or empty folder "
                           "(an earlier publish there is replaced)")
    if to.is_dir():  # a folder the user cannot write in is theirs to keep, not to replace
        try:
            with tempfile.TemporaryFile(dir=to):
                pass
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(to)) from error


def _swap_in(staging: Path, to: Path) -> None:
    """Put the staged folder at `to`; an earlier publish (or an empty folder) there goes."""
    if not to.exists():
        os.rename(staging, to)
        return
    old = to.parent / f".{to.name}.previous-{os.getpid()}"
    os.rename(to, old)
    try:
        os.rename(staging, to)
    except BaseException:
        os.rename(old, to)
        raise
    shutil.rmtree(old, ignore_errors=True)
