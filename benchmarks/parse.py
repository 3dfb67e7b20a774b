"""Parse + check speed of `.story` files against Lark's JSON example grammar (LALR), per kB.

Run: `.venv/bin/python benchmarks/parse.py [--scenes 100] [--repeat 30] [--big 5]`. Targets: the
story costs at most 2× what Lark's JSON example costs per kB, and a 10 kB story checks in at most
20 ms once the grammar is loaded. `--big N` also checks N MB stories of pathological shapes (one
long line, a long comment run, a broken line after another, …): each in a few seconds and in
memory a small multiple of its size. `--statements N [--against CHECKOUT]`: only CPU seconds on
N MB stories of very many small statements (against another checkout's parser, in turns).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from lark import Lark, Transformer

from engine.dsl.check import check_story
from engine.dsl.parse import _parser, parse_text

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
    def item(i: int) -> dict:
        return {"id": f"part-{i}", "title": f"Part {i}", "seed": i, "alpha": 0.5,
                "with": ["Luna", "Owl"], "lines": [
                    {"speaker": None, "text": "Every night, the moon lit up the sky."},
                    {"speaker": "Luna", "text": "Oh no! Where did my glow go?",
                     "direction": "worried"}], "still": True, "music": None}

    count = max(1, size // len(json.dumps([item(0)], indent=2)))
    text = json.dumps([item(i) for i in range(count)], indent=2, ensure_ascii=False)
    while len(text) < size:
        count += 1
        text = json.dumps([item(i) for i in range(count)], indent=2, ensure_ascii=False)
    return text


def best_of(repeat: int, work: Callable[[], object],
            clock: Callable[[], float] = time.perf_counter) -> float:
    """The fastest of `repeat` timings, in seconds (after one warm-up run): the least noisy."""
    work()
    times = []
    for _ in range(repeat):
        start = clock()
        work()
        times.append(clock() - start)
    return min(times)


def story_work(text: str) -> Callable[[], object]:
    def work() -> object:
        story, problems = parse_text(text, "bench.story")
        assert not problems
        return check_story(story)
    return work


def check_all(story) -> object:
    """What `storyreel check` does to a parsed story: its meaning, and the captions' warnings
    (a line too long to read along with)."""
    from engine.commands.glyphs import glyph_warnings

    return check_story(story), glyph_warnings(story)


def big(megabytes: float) -> None:
    """Parse + check of each pathological shape: seconds, and peak memory per character."""
    quarter = shapes(int(megabytes * 250_000))
    for shape, text in shapes(int(megabytes * 1_000_000)).items():
        start = time.perf_counter()
        story, problems = parse_text(text, "big.story")
        check_all(story)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        check_all(parse_text(quarter[shape], "big.story")[0])
        growth = seconds / max(time.perf_counter() - start, 1e-9)
        tracemalloc.start()
        story, problems = parse_text(text, "big.story")
        check_all(story)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{shape:>28}, {len(text) / 1e6:.1f} MB: {seconds:5.2f} s, peak "
              f"{peak / 1e6:6.1f} MB ({peak / len(text):4.1f} bytes a character), "
              f"{len(problems)} problems; 4x the text took {growth:.1f}x as long (linear: ~4)")


def statement_shapes(size: int) -> dict[str, str]:
    """Stories of about `size` characters made of very many small statements."""
    ordinary = story_text(100)
    return {"many tiny scenes": shapes(size)["many tiny scenes"],
            "one scene of dialogue lines": "character Luna\n\nscene a\n" + "".join(
                f'  Luna: "hello {i}"\n' for i in range(size // 20)),
            "an ordinary story repeated": ordinary * max(1, size // len(ordinary))}


def statements_cpu(megabytes: float, repeat: int) -> dict[str, float]:
    """CPU seconds (best of `repeat`) to parse + check each shape, and lark's JSON example on as
    many characters. CPU time, not wall time: on a shared machine only the former means much."""
    size = int(megabytes * 1_000_000)
    _parser()
    seconds = {}
    for shape, text in statement_shapes(size).items():
        seconds[shape] = best_of(repeat, story_work(text), clock=time.process_time)
    json_example = Lark(JSON_GRAMMAR, parser="lalr", lexer="basic", transformer=TreeToJson())
    document = json_text(size)
    seconds["lark's JSON example"] = best_of(repeat, lambda: json_example.parse(document),
                                             clock=time.process_time)
    return seconds


def compare(megabytes: float, against: Path, rounds: int) -> None:
    """`statements_cpu` of another checkout and of this one, run in turns (so both see the same
    load), printed side by side."""
    trees = {"against": against.resolve(), "this": Path(__file__).resolve().parents[1]}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            done = subprocess.run([sys.executable, __file__, "--statements", str(megabytes),
                                   "--repeat", "1", "--json"], cwd=tree, check=True,
                                  env={**os.environ, "PYTHONPATH": str(tree)},
                                  capture_output=True, text=True)
            runs[name].append(json.loads(done.stdout))
    print(f"CPU seconds to parse + check {megabytes} MB, {rounds} runs each, in turns "
          f"(against: {trees['against']})")
    for shape in runs["this"][0]:
        before = [run[shape] for run in runs["against"]]
        after = [run[shape] for run in runs["this"]]
        print(f"{shape:>28}: against {' / '.join(f'{t:.2f}' for t in before)} s, this "
              f"{' / '.join(f'{t:.2f}' for t in after)} s: {min(after) / min(before):.2f}x")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--scenes", type=int, default=100)
    args.add_argument("--repeat", type=int, default=30)
    args.add_argument("--big", type=float, default=0, metavar="MB",
                      help="also parse stories of this many MB, of pathological shapes")
    args.add_argument("--statements", type=float, default=0, metavar="MB",
                      help="only CPU seconds on stories of this many MB of small statements")
    args.add_argument("--against", type=Path, metavar="CHECKOUT",
                      help="with --statements: the same, in turns with another checkout")
    args.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    options = args.parse_args()
    if options.statements and options.against:
        compare(options.statements, options.against, options.repeat)
        return
    if options.statements:
        seconds = statements_cpu(options.statements, options.repeat)
        print(json.dumps(seconds) if options.json else "\n".join(
            f"{shape:>28}: {t:.2f} s" for shape, t in seconds.items()))
        return

    start = time.perf_counter()
    _parser()
    grammar_load = time.perf_counter() - start
    from engine.dsl.parse import new_parser  # (not in checkouts older than it)

    start = time.perf_counter()
    new_parser(cache=False)
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
