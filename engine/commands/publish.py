"""`storyreel publish RUN_DIR --to DIR`: copy an approved run's video, captions and record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.review import decisions
from engine.review.publish import NotPublishable, PublishError, publish
from engine.review.records import RunError, load_run


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="storyreel publish",
        description="Copy video.mp4, the captions and publish.json into DIR, only when every "
                    "scene and line of the run is approved (storyreel review) for exactly what "
                    "the run holds. Nothing is uploaded anywhere.")
    parser.add_argument("run", type=Path, metavar="RUN_DIR")
    parser.add_argument("--to", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    try:
        run = load_run(args.run)
        published = publish(run, decisions.load(decisions.decisions_path(run.story)), args.to)
    except (RunError, PublishError, decisions.DecisionsError) as error:
        print(f"storyreel publish: error: {error}", file=sys.stderr)
        return 2
    except NotPublishable as refused:
        print(f"storyreel publish: {args.run} is not publishable; nothing was copied:",
              file=sys.stderr)
        for problem in refused.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    copied = sorted(p.name for p in published.iterdir())
    print(f"published: {published} ({', '.join(copied)})")
    return 0
