"""`storyreel train STORY CHARACTER`: fine-tune the base model on a character's references."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import BackendError, ConfigError, Diagnostic, StoryError, UsageError
from engine.ir import Character, Field, Story, Value

if TYPE_CHECKING:
    from engine.backends.train import PictureStore
    from engine.steps import Step

USAGE = """usage: storyreel train STORY CHARACTER [--out DIR] [--write] [KEY=VALUE ...]

Fine-tunes the base model (image.model, a Stable Diffusion 1.x/2.x folder) on CHARACTER's
reference image (`reference:`) with its `token:` as the prompt
(a rare token and a class noun: `token: sks fox`). train=lora (the default) trains adapters;
train=full trains the whole UNet. Checkpoints every train.checkpoint_every steps are all kept,
each one a `model:`, in --out DIR (default: models/CHARACTER/ at the story repository's root).
Over-train on purpose: a scene's trainedness pulls the model back. Run the same command again
after Ctrl-C or a crash and it continues from the newest checkpoint, exactly. --write sets the
character's `model:` to the final checkpoint in the file that defines it.
  storyreel train stories/fox.story fox image=diffusers image.model=models/sd15
  storyreel train stories/fox.story fox train=full train.steps=2000 --write"""

_TRAIN_CHOICE = re.compile(r"^\+?train=(.*)$")


def parse_arguments(argv: Sequence[str]) -> tuple[list[str], Path | None, bool, list[str]]:
    """(story and character, --out, --write, Hydra overrides) from the command line."""
    words: list[str] = []
    overrides: list[str] = []
    out, write = None, False
    items = list(argv)
    while items:
        arg = items.pop(0)
        if arg == "--write":
            write = True
        elif arg == "--out" or arg.startswith("--out="):
            value = arg.partition("=")[2]
            if not value:
                if not items:
                    raise UsageError("--out needs a folder", USAGE)
                value = items.pop(0)
            out = Path(value)
        elif "=" in arg or arg.startswith("-"):
            overrides.append(arg)
        else:
            words.append(arg)
    return words, out, write, overrides


def with_train_choice(overrides: list[str]) -> list[str]:
    """The `train=` choice first (lora unless the command line picks another)."""
    choice = "lora"
    rest = []
    for word in overrides:
        match = _TRAIN_CHOICE.match(word)
        if match:
            choice = match.group(1)
        else:
            rest.append(word)
    return [f"train={choice}", *rest]


def _problem(character: Character, code: str, message: str, hint: str) -> StoryError:
    return StoryError((Diagnostic(character.name_span, "error", code, message, hint),))


def training_inputs(story: Story, name: str) -> tuple[Character, str, list[Path]]:
    """The character, its instance prompt and its reference images, or a story error."""
    from engine.dsl.vocabulary import IMAGE_SUFFIXES
    from engine.ir import images_at, resolve_path

    character = story.character(name)
    if character is None:
        known = ", ".join(c.name for c in story.all_characters()) or "none"
        raise ConfigError(f"{Path(story.path).name} has no character '{name}' "
                          f"(its characters: {known})")
    token = (character.text("token") or "").strip()
    if not token:
        raise _problem(character, "train-without-token", f"'{name}' has no `token:` to train",
                       "add a rare token and a class noun, e.g. `token: sks fox`")
    images = [image for f in character.all("reference") if f.value.text.strip()
              for image in images_at(resolve_path(f, story))]
    if not images:
        raise _problem(character, "train-without-reference",
                       f"'{name}' has no reference images to train on",
                       "add `reference: art/fox.png` (one image) or `reference: art/fox/` "
                       f"(a folder of {'/'.join(IMAGE_SUFFIXES)} images)")
    return character, token, images


def base_model(cfg: Any) -> Path:
    from omegaconf import OmegaConf

    node = cfg.get("image")
    if node is None or "model" not in node or OmegaConf.is_missing(node, "model"):
        raise ConfigError("train fine-tunes image.model: give image=diffusers "
                          "image.model=FOLDER (a Stable Diffusion folder saved with "
                          "save_pretrained)")
    return Path(str(node.model)).expanduser().absolute()


def with_model(fields: tuple[Field, ...], value: Value) -> tuple[Field, ...]:
    """The fields with `model:` set: the last one changed where it stands (its comment stays),
    others dropped; else added at the end."""
    last = max((i for i, f in enumerate(fields) if f.key == "model"), default=None)
    if last is None:
        return (*fields, Field("model", value))
    return tuple(dataclasses.replace(f, value=dataclasses.replace(value, span=f.value.span))
                 if i == last else f
                 for i, f in enumerate(fields) if f.key != "model" or i == last)


def set_model(character: Character, checkpoint: Path) -> Path:
    """Writes `model: <checkpoint>` into the character in the file that defines it (through
    the formatter: canonical text, comments kept); returns that file."""
    from engine.dsl.format import format_story
    from engine.dsl.parse import parse_text
    from engine.dsl.source import decode
    from engine.files import write_atomically

    file = Path(character.span.file)
    text, problems = decode(file.read_bytes(), str(file))
    story, syntax = parse_text(text, str(file))
    if problems or syntax:
        raise ConfigError(f"{file} no longer parses; model: not written")
    value = Value(os.path.relpath(checkpoint, file.parent))
    characters = []
    for block in story.characters:
        if block.name == character.name:
            block = dataclasses.replace(block, fields=with_model(block.fields, value))
        characters.append(block)
    written = format_story(dataclasses.replace(story, characters=tuple(characters)))
    if parse_text(written, str(file))[1]:
        raise BackendError("train", f"the formatter wrote text {file.name} cannot hold",
                           hint="please report it; set `model:` by hand meanwhile")
    write_atomically(file, written)
    return file


def run(story_path: Path, name: str, out: Path | None, overrides: list[str]) -> Any:
    """Trains the character with Rich progress; returns (character, TrainResult)."""
    from engine.backends.train import TrainRequest
    from engine.commands.fill import cached_step
    from engine.config import build_backend, compose_config
    from engine.dsl.load import load_story
    from engine.files import find_root

    story = load_story(story_path)
    character, token, images = training_inputs(story, name)
    cfg = compose_config(with_train_choice(overrides), story=story_path)
    base = base_model(cfg)
    trainer = build_backend("train", cfg.get("train"))
    folder = (out or find_root(story_path) / "models" / name).absolute()
    step = cached_step(story, cfg)
    try:
        with TrainProgress(name) as progress:
            result = trainer.train(TrainRequest(
                name, str(base), tuple(str(p) for p in images), token, str(folder),
                on_step=progress.update, pictures=picture_store(step)))
    finally:
        step.cache.close()
    return character, result


CLASS_VERSION = 1
"""Bumped when how a class image is drawn changes in a way its key does not show."""


def picture_store(step: Step) -> PictureStore:
    """Pictures a trainer draws, kept in the artifact cache like the draw stage's: stage
    `class`, keyed by the request and the painter's identity (`cache gc` treats them as any
    entry; a run whose manifest names none of them keeps them only with --older-than)."""
    def store(request: dict[str, Any], painter: Any, draw: Any, label: str) -> Path:
        return step.run("class", CLASS_VERSION, request, painter, "image.png", draw,
                        label=label)
    return store


class TrainProgress:
    """A Rich bar on stderr: step, loss, time left; each checkpoint as a line."""

    def __init__(self, name: str):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        console = Console(stderr=True)
        self._progress = Progress(TextColumn(f"[bold]train {name}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                                  TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                  console=console, disable=not console.is_terminal)
        self._task: Any = None

    def __enter__(self) -> TrainProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def update(self, report: Any) -> None:
        if self._task is None:
            self._task = self._progress.add_task("train", total=report.steps,
                                                 completed=report.step - 1, loss="-")
        self._progress.update(self._task, completed=report.step, loss=f"{report.loss:.4f}")
        if report.checkpoint:
            self._progress.console.print(f"step {report.step}: {report.checkpoint}",
                                         highlight=False)


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0
    from engine.commands.arguments import story_file
    from engine.commands.fill import setup_logging

    words, out, write, overrides = parse_arguments(argv)
    story_path = story_file(words[0] if len(words) == 2 else None, USAGE,
                            "which story and which character?")
    setup_logging()
    # a story's mistakes, bad settings, a failed backend and Ctrl-C: reported by engine.cli
    character, result = run(story_path, words[1], out, overrides)
    if write:
        written = set_model(character, Path(result.final))
    count = len(result.checkpoints)
    since = f" (continued from step {result.resumed_from})" if result.resumed_from else ""
    print(f"trained {words[1]}{since}: {count} checkpoint{'s' * (count != 1)}; "
          f"final {result.final}")
    if write:
        print(f"wrote model: into {written}", file=sys.stderr)
    return 0
