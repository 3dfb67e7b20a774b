"""`storyreel new "PREMISE" [-o FILE]`: draft a new story with the configured writer."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from engine.dsl import vocabulary as vocab
from engine.dsl.vocabulary import MAX_SCENES
from engine.errors import ConfigError, shown
from engine.files import create_exclusively
from engine.ir import NARRATOR, Character, Field, Story, Value

DESCRIPTION = """Draft a new .story file from a premise: the configured writer (llm=offline by
default; llm=openai, llm=transformers) plans the scenes, then writes their lines and image
prompts. Prints the story (like `fill`), or with -o writes it to a new file. Anything after the
options is a Hydra override (llm=openai llm.model=...)."""

EPILOG = """examples:
  storyreel new "a snail who is afraid of the rain learns to enjoy puddles" \\
      --scenes 4 --characters "Sam=a tiny green snail with a yellow shell" -o stories/snail.story
  storyreel new "a lost kite finds its way home" --characters Kite,Wind -o kite.story llm=openai
  storyreel new "a hedgehog who is scared of the dark" > hedgehog.story"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyreel new", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("premise", help="what the story is about, in a sentence")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the .story file to create (never overwritten); default: print the story")
    p.add_argument("--scenes", type=int, default=5, metavar="N",
                   help=f"how many scenes, 1 to {MAX_SCENES} (default 5)")
    p.add_argument("--characters", action="append", default=[], metavar="A,B",
                   help="comma-separated NAME or NAME=description; may repeat (default: the "
                        "hero the premise names, 'a turtle who...' → Turtle)")
    p.add_argument("--title", help="the story's title (default: from the premise)")
    p.add_argument("--audience", default="3-6", help="listeners' ages (default 3-6)")
    p.add_argument("--style", default="soft watercolor picture book, warm pastel colors",
                   help="the illustrations' style")
    p.add_argument("--language", default="en", help="the story's language (default en)")
    return p


TITLE_WORDS = 8
SMALL_WORDS = {"a", "an", "the", "and", "but", "or", "nor", "of", "in", "on", "at", "to", "by",
               "for", "with", "from", "into", "onto", "under", "over", "about", "as"}
"""Lower case inside a title."""
BOUNDARIES = {"who", "that", "which", "whose", "where", "when", "while", "because", "and", "but",
              "or", "so", "until", "after", "before", "as"}
"""Words that open a new phrase: a title may stop just before one."""
CONTINUING = {"of", "to", "the", "a", "an", "his", "her", "its", "their", "my", "our", "your"}
"""Words that carry on the phrase before them: a title does not stop just before one."""
DANGLING = SMALL_WORDS | BOUNDARIES | CONTINUING | {"is", "are", "was", "were", "be", "very",
                                                   "too", "not", "so", "far", "just", "more",
                                                   "named", "called"}
"""Words a title never ends on (they promise more: 'a snail named' waits for its name)."""


def title_from(premise: str) -> str:
    """A title from the premise's first phrase, never cut mid-phrase, in title case:
    'a hedgehog who is scared of the dark, and ...' → 'A Hedgehog Who Is Scared of the Dark'."""
    clause = re.split(r"[,;:.!?()\u2014\u2013]| - ", premise.strip(), maxsplit=1)[0]
    words = clause.split() or premise.split()
    if len(words) > TITLE_WORDS:
        words = words[:_phrase_end(words)]
    return " ".join(w if i and w.lower() in SMALL_WORDS else w[:1].upper() + w[1:]
                    for i, w in enumerate(words))


def _phrase_end(words: list[str]) -> int:
    """How many words a title keeps: the most, up to TITLE_WORDS, that end a phrase (not on a
    word that promises more, nor just before an 'of', 'the', 'to' that continues it)."""
    lower = [w.lower() for w in words]
    for count in range(TITLE_WORDS, 0, -1):
        if lower[count - 1] not in DANGLING and lower[count] not in CONTINUING:
            return count
    return next((n for n in range(TITLE_WORDS, 0, -1) if lower[n - 1] not in DANGLING),
                TITLE_WORDS)


def characters_from(specs: list[str]) -> tuple[Character, ...]:
    from engine.dsl.format import is_name

    found: dict[str, Character] = {}
    for spec in specs:
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, description = (s.strip() for s in item.partition("="))
            if not is_name(name):
                raise ConfigError(f"--characters: {name!r} cannot name a character (one word: "
                                  "letters, digits, ' and -)")
            if name == NARRATOR:
                raise ConfigError("--characters: 'narrator' is reserved: it reads the narration "
                                  "of every story; give the character another name")
            if name in vocab.SCENE_KEYS or name in vocab.RESERVED_NAMES:
                raise ConfigError(f"--characters: '{name}' is a word of the language and cannot "
                                  "name a character; give the character another name")
            fields = (Field("description", Value(description)),) if description else ()
            found[name] = Character(name, fields)
    return tuple(found.values())


def hero_from(premise: str) -> Character | None:
    """The one the premise is about, as a character, when the author names none: 'a turtle who
    wants to win a race' → Turtle, described by its noun phrase, with a voice category that fits
    it (a picture book's hero sounds like a child unless the premise says old, a dragon, a king);
    None for a crowd ('two friends'), a clause ('learning to share'), a name the language keeps."""
    from engine.backends.llm.offline_words import PremiseShape
    from engine.dsl.format import is_name

    shape = PremiseShape.read(premise)
    name = shape.protagonist() if shape else None
    if shape is None or not name or not is_name(name) or name.lower() == NARRATOR or (
            name.lower() in (*vocab.SCENE_KEYS, *vocab.RESERVED_NAMES)):
        return None
    description = " ".join(p for p in (shape.named, shape.relative, shape.rest) if p)
    category = vocab.category_in(description)
    fields = [Field("voice", Value(category if category not in (None, NARRATOR) else "child"))]
    if description.lower() != name.lower():
        fields.insert(0, Field("description", Value(description)))
    return Character(name, tuple(fields))


def draft(args: argparse.Namespace, overrides: list[str], output: Path) -> tuple[str, str]:
    """The new story's text and a one-line report of what the writer made."""
    from engine.commands.fill import checked_text, summary, writer_from, written
    from engine.config import compose_config

    header = [("title", args.title or title_from(args.premise)), ("audience", args.audience),
              ("style", args.style), ("language", args.language),
              ("premise", " ".join(args.premise.split())), ("scenes", str(args.scenes))]
    hero = None if args.characters else hero_from(args.premise)
    story = Story(path=str(output), fields=tuple(Field(k, Value(v)) for k, v in header),
                  characters=characters_from(args.characters) or ((hero,) if hero else ()))
    cfg = compose_config(overrides, story=output)
    result = written(story, writer_from(cfg), cfg)
    return checked_text(result.story), summary(story, result.story,
                                                                   result.usage)


def problem_with(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments before any work, or None."""
    if not args.premise.strip():
        return "the premise is empty; say in a sentence what the story is about"
    if not 1 <= args.scenes <= MAX_SCENES:
        return f"--scenes must be a whole number from 1 to {MAX_SCENES}, not {args.scenes}"
    if args.title is not None and not args.title.strip():
        return "--title is empty; leave it out to take the title from the premise"
    try:
        characters_from(args.characters)
    except ConfigError as error:
        return str(error)
    if args.output is None:
        return None
    output = Path(args.output).absolute()
    if output.exists():
        return f"{args.output} already exists; choose another file (or `storyreel fill` it)"
    if not output.parent.is_dir():
        return f"no folder {output.parent} for {args.output}"
    return None


def main(argv: list[str]) -> int:
    args, overrides = parser().parse_known_args(argv)
    strays = [word for word in overrides if "=" not in word and not word.startswith("~")]
    if strays:
        print(f"storyreel new: unexpected {' '.join(strays)} (put the premise in quotes; "
              "overrides look like llm=openai)", file=sys.stderr)
        return 2
    problem = problem_with(args)
    if problem:
        print(f"storyreel new: {problem}", file=sys.stderr)
        return 2
    # printed, the story still needs a path: its folder is where conf/ and the cache are found
    output = Path(args.output or f"{_slug(title_from(args.premise))}.story").absolute()
    from engine.commands.fill import setup_logging

    setup_logging()
    try:
        text, report = draft(args, overrides, output)
        if args.output is not None:
            create_exclusively(output, text)
    except FileExistsError:
        print(shown(f"storyreel new: {args.output} appeared while the writer worked; nothing "
                    "written"), file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(text)
        print(f"{report} (save it with -o FILE)", file=sys.stderr)
        return 0
    print(shown(f"wrote {args.output}: {report}"), file=sys.stderr)
    return 0


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "story"
