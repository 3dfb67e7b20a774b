"""Parse + check speed of `.story` files against Lark's JSON example grammar (LALR), per kB.

Run: `.venv/bin/python benchmarks/parse.py [--scenes 100] [--repeat 30] [--big 5]`. Targets: the
story costs at most 2× what Lark's JSON example costs per kB, and a 10 kB story checks in at most
20 ms once the grammar is loaded. `--big N` also checks N MB stories of pathological shapes (one
long line, a long comment run, a broken line after another, …): each in a few seconds and in
memory a small multiple of its size.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from lark import Lark, Transformer

from engine.dsl.check import check_story
from engine.dsl.indenter import StoryIndenter
from engine.dsl.parse import GRAMMAR_PATH, _parser, parse_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.dsl.shapes import shapes  # noqa: E402

# The grammar of lark's examples/json_parser.py, written out here.
JSON_GRAMMAR = r"""
    ?start: value
    ?value: object
          | array
          | string
          | SIGNED_NUMBER      -> number
          | "true"             -> true
          | "false"            -> false
          | "null"             -> null
    array  : "[" [value ("," value)*] "]"
    object : "{" [pair ("," pair)*] "}"
    pair   : string ":" value
    string : ESCAPED_STRING
    %import common.ESCAPED_STRING
    %import common.SIGNED_NUMBER
    %import common.WS
    %ignore WS
"""


class TreeToJson(Transformer):
    """lark's example transformer: the parse tree as Python values."""

    def string(self, s):
        (s,) = s
        return s[1:-1]

    def number(self, n):
        (n,) = n
        return float(n)

    list = list
    pair = tuple
    dict = dict
    array = list

    def object(self, pairs):
        return dict(pairs)

    def null(self, _):
        return None

    def true(self, _):
        return True

    def false(self, _):
        return False


def story_text(scenes: int) -> str:
    """A story with a header, voices, characters and `scenes` scenes of settings and lines."""
    out = ["# A generated story for the benchmark", "title: The Long Night",
           "audience: 3-6", "style: soft watercolor picture book", "language: en", "seed: 7", ""]
    out += ["voice narrator", "  category: narrator", "  espeak: en-gb+f3", "  rate: 0.95", ""]
    names = ["Luna", "Owl", "Zoë", "Pip"]
    for name in names:
        out += [f"character {name}", f"  description: {name} the friendly one, small and kind",
                "  voice: child", f"  tags: {name.lower()}, round eyes, bright scarf",
                "  trainedness: 0.8", ""]
    for i in range(scenes):
        a, b = names[i % 4], names[(i + 1) % 4]
        out += [f"scene part-{i}", f"  title: Part {i}",
                "  setting: a quiet village at night, rooftops under bright stars  # where",
                f"  with: {a}, {b}", "  camera: slow zoom in", f"  seed: {i}",
                "  \"Every night, the moon lit up the sky above the sleepy village.\"",
                f"  {a} (worried): \"Oh no! Where did my glow go? I had it a moment ago.\"",
                f"  {b}: \"Let us look for it together, in the forest and by the river.\"",
                f"  {a}: ...", ""]
    return "\n".join(out)


def json_text(size: int) -> str:
    """A JSON document of about `size` characters: scenes as objects with strings and numbers."""
    items, text = [], "[]"
    while len(text) < size:
        i = len(items)
        items.append({"id": f"part-{i}", "title": f"Part {i}", "seed": i, "alpha": 0.5,
                      "with": ["Luna", "Owl"], "lines": [
                          {"speaker": None, "text": "Every night, the moon lit up the sky."},
                          {"speaker": "Luna", "text": "Oh no! Where did my glow go?",
                           "direction": "worried"}], "still": True, "music": None})
        text = json.dumps(items, indent=2, ensure_ascii=False)
    return text


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of `repeat` timings, in seconds (after one warm-up run): the least noisy."""
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def story_work(text: str) -> Callable[[], object]:
    def work() -> object:
        story, problems = parse_text(text, "bench.story")
        assert not problems
        return check_story(story)
    return work


def big(megabytes: float) -> None:
    """Parse + check of each pathological shape: seconds, and peak memory per character."""
    quarter = shapes(int(megabytes * 250_000))
    for shape, text in shapes(int(megabytes * 1_000_000)).items():
        start = time.perf_counter()
        story, problems = parse_text(text, "big.story")
        check_story(story)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        check_story(parse_text(quarter[shape], "big.story")[0])
        growth = seconds / max(time.perf_counter() - start, 1e-9)
        tracemalloc.start()
        story, problems = parse_text(text, "big.story")
        check_story(story)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{shape:>28}, {len(text) / 1e6:.1f} MB: {seconds:5.2f} s, peak "
              f"{peak / 1e6:6.1f} MB ({peak / len(text):4.1f} bytes a character), "
              f"{len(problems)} problems; 4x the text took {growth:.1f}x as long (linear: ~4)")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--scenes", type=int, default=100)
    args.add_argument("--repeat", type=int, default=30)
    args.add_argument("--big", type=float, default=0, metavar="MB",
                      help="also parse stories of this many MB, of pathological shapes")
    options = args.parse_args()

    start = time.perf_counter()
    _parser()
    grammar_load = time.perf_counter() - start
    start = time.perf_counter()
    Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
         postlex=StoryIndenter(), strict=True, maybe_placeholders=False)
    grammar_build = time.perf_counter() - start
    story = story_text(options.scenes)
    document = json_text(len(story))
    json_example = Lark(JSON_GRAMMAR, parser="lalr", lexer="basic", transformer=TreeToJson())
    json_tree = Lark(JSON_GRAMMAR, parser="lalr", lexer="basic")
    assert json.loads(document) == json_example.parse(document)

    story_kb, json_kb = len(story.encode()) / 1024, len(document.encode()) / 1024
    t_story = best_of(options.repeat, story_work(story)) / story_kb
    t_example = best_of(options.repeat, lambda: json_example.parse(document)) / json_kb
    t_tree = best_of(options.repeat, lambda: json_tree.parse(document)) / json_kb
    print(f"grammar load (once per process): {grammar_load * 1000:.1f} ms from the table cache, "
          f"{grammar_build * 1000:.1f} ms built from scratch")
    print(f"story, {options.scenes} scenes, {story_kb:.1f} kB: parse + check "
          f"{t_story * 1000:.3f} ms/kB")
    print(f"JSON, {json_kb:.1f} kB, lark example (LALR + TreeToJson): {t_example * 1000:.3f} ms/kB"
          f"  -> ratio story/JSON {t_story / t_example:.2f}x (target <= 2x)")
    print(f"JSON, {json_kb:.1f} kB, LALR parse tree only:            {t_tree * 1000:.3f} ms/kB"
          f"  -> ratio story/JSON {t_story / t_tree:.2f}x")

    ten_kb = story_text(1)
    scenes = 1
    while len(ten_kb.encode()) < 10 * 1024:
        scenes += 1
        ten_kb = story_text(scenes)
    t_ten = best_of(options.repeat, story_work(ten_kb))
    print(f"story of {len(ten_kb.encode()) / 1024:.1f} kB ({scenes} scenes): parse + check "
          f"{t_ten * 1000:.2f} ms (target <= 20 ms)")
    if options.big:
        big(options.big)


if __name__ == "__main__":
    main()
