"""`storyreel new "PREMISE" -o FILE`: draft a new story file with the configured writer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import BackendError, ConfigError, StoryError
from engine.files import create_exclusively
from engine.ir import Character, Field, Story, Value

DESCRIPTION = """Draft a new .story file from a premise: the configured writer (llm=offline by
default; llm=openai, llm=transformers) plans the scenes, then writes their lines and image
prompts. Anything after the options is a Hydra override (llm=openai llm.model=...)."""

EPILOG = """examples:
  storyreel new "a snail who is afraid of the rain learns to enjoy puddles" \\
      --scenes 4 --characters "Sam=a tiny green snail with a yellow shell" -o stories/snail.story
  storyreel new "a lost kite finds its way home" --characters Kite,Wind -o kite.story llm=openai"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyreel new", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("premise", help="what the story is about, in a sentence")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the .story file to create (never overwritten)")
    p.add_argument("--scenes", type=int, default=5, metavar="N", help="how many scenes (default 5)")
    p.add_argument("--characters", action="append", default=[], metavar="A,B",
                   help="comma-separated NAME or NAME=description; may repeat")
    p.add_argument("--title", help="the story's title (default: from the premise)")
    p.add_argument("--audience", default="3-6", help="listeners' ages (default 3-6)")
    p.add_argument("--style", default="soft watercolor picture book, warm pastel colors",
                   help="the illustrations' style")
    p.add_argument("--language", default="en", help="the story's language (default en)")
    return p


def title_from(premise: str) -> str:
    """The premise's first words in title case: 'A Hedgehog Who Is Scared of the Dark'."""
    small = {"a", "an", "the", "and", "but", "or", "of", "in", "on", "at", "to", "by", "for",
             "with", "from", "into", "under"}
    words = premise.strip().rstrip(".!?").split()[:8]
    return " ".join(w if i and w.lower() in small else w[:1].upper() + w[1:]
                    for i, w in enumerate(words))


def characters_from(specs: list[str]) -> tuple[Character, ...]:
    from engine.dsl.format import is_name

    found: dict[str, Character] = {}
    for spec in specs:
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, description = (s.strip() for s in item.partition("="))
            if not is_name(name):
                raise ConfigError(f"--characters: {name!r} cannot name a character (one word: "
                                  "letters, digits, ' and -)")
            fields = (Field("description", Value(description)),) if description else ()
            found[name] = Character(name, fields)
    return tuple(found.values())


def draft(args: argparse.Namespace, overrides: list[str], output: Path) -> tuple[str, str]:
    """The new story's text and a one-line report of what the writer made."""
    from engine.commands.fill import checked_text, compose, summary, writer_from, written

    if args.scenes < 1:
        raise ConfigError("--scenes must be at least 1")
    header = [("title", args.title or title_from(args.premise)), ("audience", args.audience),
              ("style", args.style), ("language", args.language),
              ("premise", " ".join(args.premise.split())), ("scenes", str(args.scenes))]
    story = Story(path=str(output), fields=tuple(Field(k, Value(v)) for k, v in header),
                  characters=characters_from(args.characters))
    cfg = compose(output, overrides)
    result = written(story, writer_from(cfg), cfg)
    return checked_text(result.story), summary(story, result.story,
                                                                   result.usage)


def main(argv: list[str]) -> int:
    args, overrides = parser().parse_known_args(argv)
    strays = [word for word in overrides if "=" not in word and not word.startswith("~")]
    if strays:
        print(f"storyreel new: unexpected {' '.join(strays)} (put the premise in quotes; "
              "overrides look like llm=openai)", file=sys.stderr)
        return 2
    output = Path(args.output).absolute()
    if output.exists():
        print(f"storyreel new: {args.output} already exists; choose another file "
              "(or `storyreel fill` it)", file=sys.stderr)
        return 2
    if not output.parent.is_dir():
        print(f"storyreel new: no folder {output.parent}", file=sys.stderr)
        return 2
    from engine.commands.fill import setup_logging

    setup_logging()
    try:
        text, report = draft(args, overrides, output)
        create_exclusively(output, text)
    except StoryError as error:
        from engine.dsl.load import render_diagnostics

        print(render_diagnostics(error.diagnostics), file=sys.stderr)
        return 2
    except (BackendError, ConfigError) as error:
        print(f"storyreel new: error: {error}", file=sys.stderr)
        return 1
    except FileExistsError:
        print(f"storyreel new: {args.output} appeared while the writer worked; nothing written",
              file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {report}", file=sys.stderr)
    return 0
