"""`storyreel review RUN_DIR`: the review page, or decisions straight from the command line."""

from __future__ import annotations

import argparse
import difflib
import errno
import getpass
import subprocess
import sys
from pathlib import Path

from engine.review import decisions
from engine.review.gate import flags_text, publish_status
from engine.review.records import Item, Run, RunError, load_run

USAGE_EPILOG = """\
ITEM: `all`, a scene id (its picture and every line in it), `SCENE:picture`, or `SCENE:N` (its
N-th line, from 1); a picture's decision covers the sound, transition, camera and duration its
scene plays with. Decisions go to <story>.review.yaml beside the story, keyed by the sha256 of
exactly what was reviewed; commit it with the story. Approving `all` or a scene leaves its
rejected items rejected (name one to approve it) and its approved ones as they are (reviewer,
note);
rejecting a scene rejects its picture and leaves its lines' own approvals and rejections as
they are (name a line to reject it), and rejecting `all` every item's own decision.
  storyreel review renders/first-snow/2026-01-01_10-00-00          (the page, in a browser)
  storyreel review RUN --approve all
  storyreel review RUN --reject snowflakes:picture --note "Pip has three ears"
  storyreel review RUN --approve warm-den:2 --accept-flagged"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storyreel review", epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Review a rendered run: serve its review page on 127.0.0.1, or approve or "
                    "reject scenes and lines without one.")
    parser.add_argument("run", type=Path, metavar="RUN_DIR")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--approve", nargs="+", metavar="ITEM")
    group.add_argument("--reject", nargs="+", metavar="ITEM")
    parser.add_argument("--note", default="", help="why (needed with --reject)")
    parser.add_argument("--accept-flagged", action="store_true",
                        help="approve items the safety checks flagged, having looked at them")
    parser.add_argument("--reviewer", help="who decides (default: git's user.name, else the "
                                           "login name)")
    parser.add_argument("--port", type=_port, default=0,
                        help="the page's port, 1 to 65535 (default: a free one)")
    return parser


def _port(text: str) -> int:
    """`--port`'s value: a TCP port, or 0 for a free one."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 1 to 65535, or 0 (or "
                                         "leave --port out) for a free one")
    return port


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        run = load_run(args.run)
    except RunError as error:
        print(f"storyreel review: error: {error}", file=sys.stderr)
        return 2
    if args.reviewer is not None and not args.reviewer.strip():
        print("storyreel review: error: --reviewer needs a name (leave it out to use git's "
              "user.name)", file=sys.stderr)
        return 2
    reviewer = args.reviewer or _default_reviewer()
    if args.approve or args.reject:
        return _decide_here(run, args, reviewer)
    return _serve(run, reviewer, args.port)


def _decide_here(run: Run, args: argparse.Namespace, reviewer: str) -> int:
    decision = "approved" if args.approve else "rejected"
    names = args.approve or args.reject
    try:
        items = named_items(run, names)
        done = decisions.decide(decisions.decisions_path(run.story), items, decision, args.note,
                                reviewer, args.accept_flagged,
                                frozenset(named_alone(names, decision)))
    except decisions.NeedsNote:
        print("storyreel review: error: a rejection needs a reason: --note \"...\"",
              file=sys.stderr)
        return 2
    except decisions.NeedsAcceptFlagged as flagged:
        print("storyreel review: error: nothing saved; flagged by the safety checks (look at "
              "them, then approve with --accept-flagged):", file=sys.stderr)
        for item in flagged.items:
            print(f"  {decided_on(item)}: {flags_text(item.flags)}", file=sys.stderr)
        return 2
    except ValueError as error:  # an unknown scene or line, an unreadable review file
        print(f"storyreel review: error: {error}", file=sys.stderr)
        return 2
    for item, _ in done.made:
        print(f"{decision} {decided_on(item)}")
    for kept in done.kept:
        print(_kept_text(kept, decision))
    print(publish_status(run.folder))
    return 0


def _kept_text(kept: decisions.Kept, decision: str) -> str:
    """One line for an item the decision left as it was, and how to decide on it after all."""
    text = f"{kept.state} {decided_on(kept.item)}: {kept.why or 'no note'}"
    if kept.state == "already approved":
        return text
    name = _name(kept.item)
    if decision == "approved":
        return f"{text} (to approve it, name it: --approve {name})"
    instead = " with this note instead" if kept.state == "still rejected" else ""
    return f"{text} (to reject it{instead}, name it: --reject {name})"


def named_alone(names: list[str], decision: str) -> list[str]:
    """The item keys named by themselves (`SCENE:picture`, `SCENE:N`; a rejected `SCENE`'s
    picture, which is what rejecting a scene rejects), not through `all` or a scene: a group
    decision leaves its items' own decisions as they are, but not these."""
    out = []
    for name in names:
        scene, _, part = name.partition(":")
        if part:
            out.append(scene if part == "picture" else name)
        elif decision == "rejected" and name != "all":
            out.append(scene)
    return out


def _name(item: Item) -> str:
    """The ITEM that names exactly this item: `SCENE:picture` or `SCENE:N`."""
    return f"{item.key}:picture" if item.kind == "scene" else item.key


def decided_on(item: Item) -> str:
    """What a decision was about, as `_name` names it: `picture SCENE` (a scene's decision is
    about its picture, with the sound, transition and camera it plays with; never its lines)
    or `line SCENE:N`. The publish gate says `scene SCENE` (`gate.label`) for the same item."""
    return f"picture {item.key}" if item.kind == "scene" else f"line {item.key}"


def named_items(run: Run, names: list[str]) -> list[Item]:
    """The items `all`, `SCENE`, `SCENE:picture` and `SCENE:N` name, in run order, once each."""
    wanted: set[str] = set()
    scenes = [s["id"] for s in run.scenes]
    for name in names:
        if name == "all":
            wanted.update(item.key for item in run.items)
            continue
        scene, _, part = name.partition(":")
        if scene not in scenes:
            close = difflib.get_close_matches(scene, scenes, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; scenes: {', '.join(scenes)}"
            raise ValueError(f"no scene '{scene}' in this run{hint}")
        if part in ("", "picture"):
            wanted.add(scene)
        if part == "":
            wanted.update(i.key for i in run.items if i.key.startswith(f"{scene}:"))
        elif part != "picture":
            if run.item(name) is None:
                count = sum(1 for i in run.items if i.key.startswith(f"{scene}:"))
                lines = f"lines 1 to {count}" if count else "no lines"
                if not part.isdigit():
                    raise ValueError(f"no '{part}' in scene {scene}: name its picture "
                                     f"({scene}:picture), a line ({scene}:N; it has {lines}) "
                                     f"or the whole scene ({scene})")
                raise ValueError(f"no line '{name}': scene {scene} has {lines}")
            wanted.add(name)
    return [item for item in run.items if item.key in wanted]


def _serve(run: Run, reviewer: str, port: int) -> int:
    from engine.review.server import ReviewServer

    try:
        server = ReviewServer(run.folder, reviewer, port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"storyreel review: error: port {port} on 127.0.0.1 is already in use (another "
              "review page, or another program); choose another with --port N, or leave --port "
              "out (or --port 0) for a free one", file=sys.stderr)
        return 2
    print(f"review page: {server.url}\n(decisions go to "
          f"{decisions.decisions_path(run.story)}; Ctrl-C stops the server)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nreview: stopped")
    finally:
        server.server_close()
    print(publish_status(run.folder))
    return 0


def _default_reviewer() -> str:
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True,
                              timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or getpass.getuser()
