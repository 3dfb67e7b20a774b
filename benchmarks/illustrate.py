"""Seconds per picture of the procedural illustrator at 720p, over settings in five languages.

    .venv/bin/python benchmarks/illustrate.py [--width 1280 --height 720 --seeds 3]

Prints CPU seconds (not wall time: other processes on the machine do not count), the best of the
seeds per setting: their mean (target: about 0.1 s with `supersample: 2`) and the slowest setting,
so a new element that costs too much shows by name.
"""

from __future__ import annotations

import argparse
import statistics
import time

from engine.backends.image import CharacterLook, DrawRequest
from engine.backends.image.procedural import ProceduralIllustrator

SETTINGS = [
    ("en", "a sunny meadow with flowers"), ("en", "a quiet village at night"),
    ("en", "dark clouds rolling over the sea, big waves"), ("en", "a storm over the castle"),
    ("en", "a grey moon surface under a black sky"), ("en", "a kitchen at dusk"),
    ("fr", "une forêt la nuit sous les aurores boréales"), ("fr", "une plage avec un arc-en-ciel"),
    ("es", "un mercado en otoño con viento"), ("de", "Nebel über dem See im Winter"),
    ("zh", "下雪的森林"), ("zh", "太空中的火箭和行星"),
]
CAST = (CharacterLook("Mia", "a little girl with a yellow raincoat"),
        CharacterLook("Robo", "a robot with a blinking red antenna"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--supersample", type=int, default=2)
    args = parser.parse_args()
    illustrator = ProceduralIllustrator(supersample=args.supersample)
    illustrator.draw(DrawRequest("warm-up", "", "", "a meadow", "", CAST, 64, 36, 0))
    times: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        for language, setting in SETTINGS:
            request = DrawRequest("s", f"Mia waving, {setting}", "A title", setting,
                                  "soft watercolor", CAST, args.width, args.height, seed, language)
            start = time.process_time()
            illustrator.draw(request)
            times.setdefault(setting, []).append(time.process_time() - start)
    best = {setting: min(ts) for setting, ts in times.items()}
    slowest = max(best, key=best.__getitem__)
    print(f"{args.width}x{args.height} supersample {args.supersample}: mean "
          f"{statistics.mean(best.values()):.3f} s CPU per picture over {len(best)} settings; "
          f"slowest {slowest!r} ({best[slowest]:.3f} s)")


if __name__ == "__main__":
    main()
