"""`storyreel tune --checkpoints`: the final model's α sweep beside its training checkpoints."""

from __future__ import annotations

import html
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from engine.commands.tune import THUMBNAIL_WIDTH, Drawing, prepare
from engine.errors import ConfigError


def trained_look(request: Any, name: str | None) -> Any:
    """The personalised character whose checkpoints are compared: `name`, or the scene's only
    one."""
    looks = [look for look in request.characters if look.model]
    if name is not None:
        found = [look for look in looks if look.name == name]
        if not found:
            raise ConfigError(f"'{name}' is not a personalised character (`model:`) of scene "
                              f"'{request.scene_id}' (those: {_names(looks)})")
        return found[0]
    if len(looks) != 1:
        raise ConfigError(f"scene '{request.scene_id}' has {_names(looks)} as personalised "
                          "characters; name one with --character NAME" if looks else
                          f"scene '{request.scene_id}' has no personalised character "
                          "(`model:`): nothing was trained for it")
    return looks[0]


def _names(looks: Sequence[Any]) -> str:
    return ", ".join(look.name for look in looks) or "none"


def training_checkpoints(model: Path) -> list[Path]:
    """The checkpoints of the training run a `model:` comes from, oldest first: the folders
    beside it when it is one (`models/fox/checkpoint-000800`), else those inside it."""
    from engine.backends.train.checkpoints import checkpoints, step_of

    folder = model if model.is_dir() else model.parent
    return checkpoints(folder.parent if step_of(folder) is not None else folder)


def with_weights(request: Any, name: str, model: Path, alpha: float) -> Any:
    """The request with one character drawn from `model` at α."""
    return replace(request, characters=tuple(
        replace(look, model=str(model), trainedness=alpha) if look.name == name else look
        for look in request.characters))


def calibrate(story_path: Path, scene_id: str, alphas: Sequence[float], out: Path | None,
              overrides: list[str], character: str | None) -> Path:
    """Draws the final checkpoint at every α and every checkpoint at α = 1 (one seed), compares
    them when the selector can, and writes the run folder; returns the HTML page."""
    from engine.backends.train.checkpoints import step_of
    from engine.config import build_backend
    from engine.stages.draw import draw_one

    drawing = prepare(story_path, scene_id, out, overrides)
    look = trained_look(drawing.request, character)
    found = training_checkpoints(Path(look.model))
    if not found:
        raise ConfigError(f"{look.name}'s model ({look.model}) has no training checkpoints "
                          "beside it: make them with storyreel train STORY "
                          f"{look.name}")
    final = found[-1]
    swept = [draw_one(with_weights(drawing.request, look.name, final, alpha), drawing.illustrator,
                      drawing.step, label=f"{scene_id}@{alpha:g}") for alpha in alphas]
    trained = [draw_one(with_weights(drawing.request, look.name, folder, 1.0),
                        drawing.illustrator, drawing.step, label=f"{scene_id}:{folder.name}")
               for folder in found]
    selector = build_backend("select", drawing.cfg.get("select"))
    compare = getattr(selector, "similarities", None)
    table = compare(swept, trained) if callable(compare) else None
    steps = [step_of(folder) or 0 for folder in found]
    return _write(drawing, look.name, alphas, steps, swept, trained, table, story_path)


def best_alphas(table: list[list[float]], alphas: Sequence[float]) -> list[float]:
    """Per checkpoint (column), the α whose picture is most like its picture."""
    return [alphas[max(range(len(alphas)), key=lambda row: table[row][column])]
            for column in range(len(table[0]))]


def sheet(rows: list[tuple[str, list[tuple[str, Path]]]], title: str):
    """One PNG: a labelled row per model (the α sweep, the checkpoints), a caption per picture."""
    from PIL import Image, ImageDraw, ImageFont

    with Image.open(rows[0][1][0][1]) as first:
        width = min(THUMBNAIL_WIDTH, first.width)
        height = max(1, round(first.height * width / first.width))
    font = ImageFont.load_default(size=16)
    left, top, gap, caption = 150, 40, 8, 24
    columns = max(len(cells) for _, cells in rows)
    canvas = Image.new("RGB", (left + columns * (width + gap),
                               top + len(rows) * (height + caption + gap)), "white")
    pen = ImageDraw.Draw(canvas)
    pen.text((gap, gap), title, fill="black", font=font)
    for row, (label, cells) in enumerate(rows):
        y = top + row * (height + caption + gap)
        pen.text((gap, y + caption + height // 2 - 8), label, fill="black", font=font)
        for column, (text, path) in enumerate(cells):
            x = left + column * (width + gap)
            pen.text((x, y), text, fill="black", font=font)
            with Image.open(path) as picture:
                canvas.paste(picture.convert("RGB").resize((width, height),
                                                           Image.Resampling.LANCZOS),
                             (x, y + caption))
    return canvas


def _write(drawing: Drawing, name: str, alphas: Sequence[float], steps: list[int],
           swept: list[Path], trained: list[Path], table: list[list[float]] | None,
           story_path: Path) -> Path:
    """The run folder: the pictures, the sheet (PNG and HTML) and tune.json."""
    from engine.files import copy_atomically, write_atomically
    from engine.steps import identity_of

    run_dir, scene_id = drawing.run_dir, drawing.request.scene_id
    alpha_files = [f"tune/final_alpha-{a:g}.png" for a in alphas]
    step_files = [f"tune/step-{s}.png" for s in steps]
    for path, file in (*zip(swept, alpha_files), *zip(trained, step_files)):
        copy_atomically(path, run_dir / file)
    png = io.BytesIO()
    sheet([(f"step {steps[-1]}, α", [(f"α {a:g}", p) for a, p in zip(alphas, swept)]),
           ("checkpoints", [(f"step {s}", p) for s, p in zip(steps, trained)])],
          f"{drawing.story_name}, scene {scene_id}: {name}'s trainedness against its training "
          f"steps (seed {drawing.request.seed})").save(png, format="PNG")
    write_atomically(run_dir / "contact-sheet.png", png.getvalue())
    matches = best_alphas(table, alphas) if table else None
    page = run_dir / "contact-sheet.html"
    write_atomically(page, page_html(drawing, name, alphas, steps, alpha_files, step_files,
                                     table, matches))
    write_atomically(run_dir / "tune.json", json.dumps({
        "story": str(story_path), "scene": scene_id, "mode": "checkpoints", "character": name,
        "seed": drawing.request.seed, "alphas": list(alphas), "steps": steps,
        "image": identity_of(drawing.illustrator),
        "final": [{"alpha": a, "file": f} for a, f in zip(alphas, alpha_files)],
        "checkpoints": [{"step": s, "file": f} for s, f in zip(steps, step_files)],
        "similarity": table, "closest_alpha": matches}, indent=2, ensure_ascii=False))
    return page


def page_html(drawing: Drawing, name: str, alphas: Sequence[float], steps: list[int],
              alpha_files: list[str], step_files: list[str], table: list[list[float]] | None,
              matches: list[float] | None) -> str:
    from engine.storyboard import link

    escape = html.escape

    def row(label: str, files: list[str], captions: list[str]) -> str:
        cells = "".join(f'<td><a href="{link(f)}"><img src="{link(f)}" alt="{escape(c)}"></a>'
                        f"<br>{escape(c)}</td>" for f, c in zip(files, captions))
        return f"<tr><th>{escape(label)}</th>{cells}</tr>"

    pictures = row(f"step {steps[-1]} at α", alpha_files, [f"α = {a:g}" for a in alphas]) + \
        row("checkpoints at α = 1", step_files, [f"step {s}" for s in steps])
    if table is None:
        similarity = ("<p>Add <code>select=clip select.model=FOLDER</code> for a table of how "
                      "alike each α picture and each checkpoint picture are.</p>")
    else:
        head = "".join(f"<th>step {s}</th>" for s in steps)
        def cell(value: float, closest: bool) -> str:
            return f"<td><b>{value:.3f}</b></td>" if closest else f"<td>{value:.3f}</td>"

        body = "".join(
            f"<tr><th>α = {a:g}</th>" + "".join(cell(value, matches[c] == a)
                                                for c, value in enumerate(values)) + "</tr>"
            for a, values in zip(alphas, table))
        summary = ", ".join(f"step {s} ≈ α {m:g}" for s, m in zip(steps, matches))
        similarity = (f"<h2>CLIP image–image similarity</h2><p>Closest: {escape(summary)}.</p>"
                      f"<table><tr><th></th>{head}</tr>{body}</table>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(drawing.story_name)} · {escape(drawing.request.scene_id)} · checkpoints</title>
<style>body{{font-family:sans-serif;margin:2em}}img{{max-width:{THUMBNAIL_WIDTH}px}}
th{{font-weight:normal;padding:.3em}}td{{padding:.2em;text-align:center}}
code{{background:#eee;padding:0 .3em}}</style>
</head><body>
<h1>{escape(drawing.story_name)}: {escape(name)} in scene
<code>{escape(drawing.request.scene_id)}</code>, seed {drawing.request.seed}</h1>
<p>The final checkpoint (step {steps[-1]}) pulled back by trainedness α, beside the real
checkpoints of the same training run: which α stands in for which step count.</p>
<table>{pictures}</table>
{similarity}
<p><a href="contact-sheet.png">contact-sheet.png</a></p>
</body></html>
"""
