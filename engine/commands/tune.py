"""`storyreel tune STORY SCENE`: one scene drawn across trainedness values and seeds, as a sheet."""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from engine.errors import ConfigError, UsageError

USAGE = """usage: storyreel tune STORY SCENE [--alphas 0,0.25,...,1] [--seeds 3] [--out DIR]
                      [--checkpoints [--character NAME]] [KEY=VALUE ...]

Draws scene SCENE of STORY once per trainedness α (columns) and seed (rows) and writes a contact
sheet, contact-sheet.png plus contact-sheet.html, into a run folder (renders/<story>/<time>-tune-
<scene>/, or --out DIR). α is set for every personalised character (`model:`) in the scene; pick
one by eye and write it into the story (`trainedness: 0.6` in the scene). Seeds are the scene's
own and the next ones, as render.candidates draws them. Pictures go through the artifact cache, so
a later render at a chosen α reuses them. Everything else is a Hydra override:
  storyreel tune stories/fox.story snow image=diffusers image.model=models/sd15
  storyreel tune stories/fox.story snow --alphas 0,0.5,1 --seeds 2 image.steps=20
--checkpoints calibrates trainedness against real training: for the scene's seed, the final
checkpoint of the character's `storyreel train` run at each α beside every checkpoint of that run
(at α = 1), with a CLIP image–image similarity table when select=clip is configured, so the sheet
says which α stands in for which step count (--character NAME when several are personalised).
The same grid as separate renders is a Hydra multirun over the default trainedness:
  storyreel render stories/fox.story -m trainedness=0,0.5,1"""

DEFAULT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
THUMBNAIL_WIDTH = 320


def parse_alphas(text: str) -> list[float]:
    """`0,0.5,1`, or a progression written out by its first two terms and its last:
    `0,0.2,...,1` is 0, 0.2, 0.4, 0.6, 0.8, 1."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    try:
        if "..." not in words:
            return [float(w) for w in words]
        if len(words) != 4 or words[2] != "...":
            raise ValueError(text)
        first, second, last = float(words[0]), float(words[1]), float(words[3])
        step = second - first
        if step <= 0 or last < second:
            raise ValueError(text)
        count = int(round((last - first) / step)) + 1
        return [round(first + i * step, 6) for i in range(count)]
    except ValueError:
        raise UsageError(f"--alphas takes numbers like 0,0.5,1 or 0,0.2,...,1, not {text!r}",
                         USAGE) from None


@dataclass
class Arguments:
    """The command line: story and scene, the grid, where to write, the Hydra overrides."""

    words: list[str] = field(default_factory=list)
    alphas: list[float] = field(default_factory=lambda: list(DEFAULT_ALPHAS))
    seeds: int = 3
    out: Path | None = None
    checkpoints: bool = False
    character: str | None = None
    overrides: list[str] = field(default_factory=list)


_VALUED = ("--alphas", "--seeds", "--out", "--character")


def parse_arguments(argv: Sequence[str]) -> Arguments:
    """The command line's words, options and Hydra overrides."""
    parsed = Arguments()
    items = list(argv)
    while items:
        arg = items.pop(0)
        name, _, value = arg.partition("=")
        if arg == "--checkpoints":
            parsed.checkpoints = True
        elif name in _VALUED:
            if not value:
                if not items:
                    raise UsageError(f"{name} needs a value", USAGE)
                value = items.pop(0)
            _option(parsed, name, value)
        elif "=" in arg or arg.startswith("-"):
            parsed.overrides.append(arg)
        else:
            parsed.words.append(arg)
    return parsed


def _option(parsed: Arguments, name: str, value: str) -> None:
    if name == "--alphas":
        parsed.alphas = parse_alphas(value)
        if not parsed.alphas or any(not 0.0 <= a <= 1.0 for a in parsed.alphas):
            raise UsageError("--alphas must be numbers from 0 to 1", USAGE)
    elif name == "--seeds":
        if not value.isdigit() or int(value) < 1:
            raise UsageError(f"--seeds takes a count of at least 1, not {value!r}", USAGE)
        parsed.seeds = int(value)
    elif name == "--out":
        parsed.out = Path(value)
    else:
        parsed.character = value


def at_trainedness(request: Any, alpha: float, seed: int) -> Any:
    """The scene's request with every personalised character at α and the given seed."""
    looks = tuple(replace(look, trainedness=alpha) if look.model else look
                  for look in request.characters)
    return replace(request, characters=looks, seed=seed)


def contact_sheet(cells: dict[tuple[int, int], Path], alphas: Sequence[float],
                  seeds: Sequence[int], title: str):
    """One PNG: a column per α, a row per seed, labelled on the top and the left."""
    from PIL import Image, ImageDraw, ImageFont

    first = Image.open(next(iter(cells.values())))
    width = min(THUMBNAIL_WIDTH, first.width)
    height = max(1, round(first.height * width / first.width))
    font = ImageFont.load_default(size=16)
    top, gap = 64, 8
    labels = [f"seed {seed}" for seed in seeds]  # a seed's every digit shows: it is copied
    left = 2 * gap + max(round(font.getlength(label)) for label in labels)
    sheet = Image.new("RGB", (left + len(alphas) * (width + gap),
                              top + len(seeds) * (height + gap)), "white")
    pen = ImageDraw.Draw(sheet)
    pen.text((gap, gap), title, fill="black", font=font)
    for column, alpha in enumerate(alphas):
        pen.text((left + column * (width + gap), top - 24), f"trainedness {alpha:g}", fill="black",
                 font=font)
    for row, label in enumerate(labels):
        pen.text((gap, top + row * (height + gap) + height // 2 - 8), label,
                 fill="black", font=font)
        for column in range(len(alphas)):
            with Image.open(cells[(row, column)]) as picture:
                thumbnail = picture.convert("RGB").resize((width, height),
                                                          Image.Resampling.LANCZOS)
            sheet.paste(thumbnail, (left + column * (width + gap), top + row * (height + gap)))
    return sheet


def sheet_html(cells: dict[tuple[int, int], str], alphas: Sequence[float], seeds: Sequence[int],
               story: str, scene: str, personalised: Sequence[str], prompt: str) -> str:
    from engine.storyboard import link

    escape = html.escape
    head = "".join(f"<th>α = {a:g}</th>" for a in alphas)
    rows = []
    for row, seed in enumerate(seeds):
        tds = "".join(f'<td><a href="{link(cells[(row, c)])}"><img '
                      f'src="{link(cells[(row, c)])}" alt="α {a:g}, seed {seed}"></a></td>'
                      for c, a in enumerate(alphas))
        rows.append(f"<tr><th>seed {seed}</th>{tds}</tr>")
    who = ", ".join(personalised) or "no personalised character: α changes nothing here"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(story)} · {escape(scene)} · tune</title>
<style>body{{font-family:sans-serif;margin:2em}}img{{max-width:{THUMBNAIL_WIDTH}px}}
th{{font-weight:normal;padding:.3em}}td{{padding:.2em}}
code{{background:#eee;padding:0 .3em}}</style>
</head><body>
<h1>{escape(story)}: scene <code>{escape(scene)}</code></h1>
<p>Personalised: {escape(who)}.</p>
<p>Prompt: {escape(prompt)}</p>
<p>Write the α you like into the scene: <code>trainedness: 0.5</code>, or for one character
<code>trainedness NAME: 0.5</code>.</p>
<table><tr><th></th>{head}</tr>
{chr(10).join(rows)}
</table>
<p><a href="contact-sheet.png">contact-sheet.png</a></p>
</body></html>
"""


@dataclass(frozen=True)
class Drawing:
    """What both tune modes draw with: the written story's scene request, the illustrator, the
    cache step, the composed config and the run folder."""

    story_name: str
    request: Any
    illustrator: Any
    step: Any
    cfg: Any
    run_dir: Path


def prepare(story_path: Path, scene_id: str, out: Path | None, overrides: list[str]) -> Drawing:
    """The scene's request as render builds it (written, tagged), and the backends to draw it."""
    from engine.cache import Cache
    from engine.commands.fill import writer_from, written
    from engine.config import build_backend, compose_config, settings_from
    from engine.dsl.load import load_story
    from engine.manifest import Recorder
    from engine.stages import design as design_stage
    from engine.stages import draw as draw_stage
    from engine.steps import Step

    story = load_story(story_path)
    if story.scene(scene_id) is None:
        known = ", ".join(s.id for s in story.scenes)
        raise ConfigError(f"{story_path.name} has no scene '{scene_id}' (its scenes: {known})")
    cfg = compose_config(overrides, story=story_path)
    run_dir = out or Path("renders") / story_path.stem / (
        time.strftime("%Y-%m-%d_%H-%M-%S") + f"-tune-{scene_id}")
    settings = settings_from(cfg, run_dir.absolute())
    story = written(story, writer_from(cfg), cfg).story
    step = Step(Cache(settings.cache_dir), Recorder())
    if cfg.get("tagger") is not None:  # as render's design stage: reference images → tags
        tags = design_stage.tag_characters(story, build_backend("tagger", cfg.get("tagger")), step)
        story = design_stage.with_tags(story, tags)
    band = build_backend("video", cfg.get("video")).caption_band(settings.width, settings.height)
    draw_settings = draw_stage.DrawSettings(settings.width, settings.height, settings.seed,
                                            settings.trainedness, 1, caption_band=band)
    request = next(r for r in draw_stage.build_requests(story, draw_settings)
                   if r.scene_id == scene_id)
    return Drawing(story.name, request, build_backend("image", cfg.get("image")), step, cfg,
                   run_dir)


def tune(story_path: Path, scene_id: str, alphas: Sequence[float], seed_count: int,
         out: Path | None, overrides: list[str]) -> Path:
    """Draws the grid through the cache and writes the run folder; returns the HTML page."""
    from engine.stages.draw import draw_one

    drawing = prepare(story_path, scene_id, out, overrides)
    request = drawing.request
    seeds = [request.seed + n for n in range(seed_count)]
    cells: dict[tuple[int, int], Path] = {}
    for column, alpha in enumerate(alphas):  # α outermost: each α-set is applied once
        for row, seed in enumerate(seeds):
            variant = at_trainedness(request, alpha, seed)
            cells[(row, column)] = draw_one(variant, drawing.illustrator, drawing.step,
                                            label=f"{scene_id}@{alpha:g}#{seed}")
    return _write_sheet(drawing.run_dir, cells, alphas, seeds, story_path, drawing.story_name,
                        request, drawing.illustrator)


def _write_sheet(run_dir: Path, cells: dict[tuple[int, int], Path], alphas: Sequence[float],
                 seeds: list[int], story_path: Path, story_name: str, request: Any,
                 illustrator: Any) -> Path:
    """The run folder: each cell's picture, the contact sheet (PNG and HTML), tune.json."""
    import io

    from engine.backends.image.diffusers import DiffusersIllustrator, compose_prompt
    from engine.files import copy_atomically, write_atomically
    from engine.steps import identity_of

    scene_id = request.scene_id
    personalised = [look.name for look in request.characters if look.model]
    names: dict[tuple[int, int], str] = {}
    for (row, column), path in cells.items():
        names[(row, column)] = f"tune/alpha-{alphas[column]:g}_seed-{seeds[row]}.png"
        copy_atomically(path, run_dir / names[(row, column)])
    title = f"{story_name}, scene {scene_id}: trainedness by column, seed by row"
    png = io.BytesIO()
    contact_sheet(cells, alphas, seeds, title).save(png, format="PNG")
    write_atomically(run_dir / "contact-sheet.png", png.getvalue())
    prompt = compose_prompt(request) if isinstance(illustrator, DiffusersIllustrator) \
        else request.prompt
    page = run_dir / "contact-sheet.html"
    write_atomically(page, sheet_html(names, alphas, seeds, story_name, scene_id, personalised,
                                      prompt))
    write_atomically(run_dir / "tune.json", json.dumps({
        "story": str(story_path), "scene": scene_id, "alphas": list(alphas), "seeds": seeds,
        "personalised": personalised, "image": identity_of(illustrator),
        "characters": [{"name": c.name, "tags": list(c.tags), "token": c.token,
                        "model": c.model} for c in request.characters],
        "cells": [{"alpha": alphas[c], "seed": seeds[r], "file": names[(r, c)]}
                  for (r, c) in sorted(names)]}, indent=2, ensure_ascii=False))
    return page


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0
    from engine.commands.arguments import story_file
    from engine.commands.fill import setup_logging

    args = parse_arguments(argv)
    story_path = story_file(args.words[0] if len(args.words) == 2 else None, USAGE,
                            "which story and which scene?")
    setup_logging()
    if args.checkpoints:
        from engine.commands.tune_checkpoints import calibrate

        page = calibrate(story_path, args.words[1], args.alphas, args.out, args.overrides,
                         args.character)
    else:
        page = tune(story_path, args.words[1], args.alphas, args.seeds, args.out,
                    args.overrides)
    print(f"contact sheet: {page}")
    print(f"               {page.with_suffix('.png')}")
    return 0
