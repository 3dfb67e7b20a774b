"""`storyreel fill STORY [--write]`: run only the write stage; print the fills or save them."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any

from engine.config import compose_config
from engine.errors import BackendError, counted, shown
from engine.ir import Story

USAGE = """usage: storyreel fill STORY [--write] [KEY=VALUE ...]

Runs only the writing stage: asks the configured writer (llm=offline by default; llm=openai,
llm=transformers) for every line marked `...`, every scene without lines, every missing image
prompt, and the scenes of a premise-only story. Prints the filled story as canonical .story text;
with --write, writes the fills into STORY itself so they show up in `git diff` and are not written
again. Answers are cached like a render's, so a later `render` uses the same fills. A scene whose
trainedness is `auto` gets the α render would choose (drawn and scored through the same cache;
needs select=clip), written as a number a reviewer can see and pin.
  storyreel fill stories/moon.story
  storyreel fill stories/moon.story --write llm=openai llm.model=gpt-4o-mini"""

log = logging.getLogger(__name__)


def setup_logging() -> None:
    """Warnings (a retried request, a fallback) to stderr through Rich, once per process (whole
    lines where stderr is not a terminal, as a render's)."""
    root = logging.getLogger()
    if root.handlers:
        return
    from engine.progress import ConsoleLog, output_console

    root.addHandler(ConsoleLog(console=output_console(), show_time=False, show_path=False))
    root.setLevel(logging.WARNING)


def writer_from(cfg: Any) -> Any:
    from engine.config import build_backend

    return build_backend("llm", cfg.get("llm"))


def cached_step(story: Story, cfg: Any) -> Any:
    """A unit of work through the story's artifact cache (the one `render` uses)."""
    from engine.cache import Cache, cache_dir
    from engine.manifest import Recorder
    from engine.steps import Step

    cache_node = cfg.get("cache") or {}
    return Step(Cache(cache_dir(cache_node.get("dir"), Path(story.path))), Recorder())


def written(story: Story, writer: Any, cfg: Any):  # -> engine.stages.write.Written
    """The write stage through the artifact cache: the same answer `render` would use."""
    from engine.review.feedback import load_feedback
    from engine.stages.write import write_cached

    return write_cached(story, writer, cached_step(story, cfg), load_feedback(story))


def with_auto_resolved(story: Story, cfg: Any) -> Story:
    """Each `trainedness: auto` scene's α chosen as `render` chooses it (its pictures through
    the same cache) and written in as a number; the story as it was when nothing is `auto`, or
    (with a warning) when the selector cannot score for it."""
    from engine.auto_trainedness import (auto_characters, choose_trainedness,
                                         with_chosen_trainedness)
    from engine.config import build_backend, settings_from
    from engine.stages import design, draw

    settings = settings_from(cfg, Path.cwd())
    draw_settings = draw.DrawSettings(settings.width, settings.height, settings.seed,
                                      settings.trainedness, 1, settings.auto)
    if not any(auto_characters(story, scene, draw_settings) for scene in story.scenes):
        return story
    band = build_backend("video", cfg.get("video")).caption_band(settings.width, settings.height)
    draw_settings = dataclasses.replace(draw_settings, caption_band=band)
    selector = build_backend("select", cfg.get("select"))
    if not callable(getattr(selector, "axes", None)):
        log.warning("trainedness: auto is left as it is: choosing α needs select=clip "
                    "select.model=FOLDER")
        return story
    step = cached_step(story, cfg)
    tagged = story
    if cfg.get("tagger") is not None:  # the prompts render draws with carry the tags
        tagged = design.with_tags(story, design.tag_characters(
            story, build_backend("tagger", cfg.get("tagger")), step))
    requests = draw.build_requests(tagged, draw_settings)
    _, choices = choose_trainedness(tagged, requests, draw_settings,
                                    build_backend("image", cfg.get("image")), selector, step)
    return with_chosen_trainedness(story, choices)


def summary(before: Story, after: Story, usage: Any) -> str:
    lines = sum(1 for s in after.scenes for ln in s.lines if ln.written_by == "llm")
    images = sum(1 for s in after.scenes if s.get("image") is not None) - \
        sum(1 for s in before.scenes if s.get("image") is not None)
    new_scenes = len(after.scenes) - len(before.scenes)
    text = f"filled {counted(lines, 'line')}, {counted(images, 'image prompt')}"
    if new_scenes:
        text += f", {counted(new_scenes, 'new scene')}"
    if usage.requests:
        text += (f" ({counted(usage.requests, 'request')}, {usage.prompt_tokens} prompt + "
                 f"{usage.completion_tokens} completion tokens)")
    return text


def checked_text(story: Story) -> str:
    """The story's canonical text, parsed back to be sure it is a story `check` accepts."""
    import dataclasses

    from engine.dsl.check import check_story
    from engine.dsl.format import format_story
    from engine.dsl.parse import parse_text

    text = format_story(story)
    again, problems = parse_text(text, story.path)
    if not problems:  # the files it uses are the ones already loaded: names they bring count
        problems = tuple(d for d in check_story(dataclasses.replace(again, used=story.used))
                         if d.severity == "error")
    if problems:
        raise BackendError("fill", "the filled story is not a story `check` accepts: "
                           + "; ".join(d.message for d in problems[:3]),
                           hint="a writer wrote text the language cannot hold; please report it")
    return text


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0
    from engine.commands.arguments import story_file
    from engine.commands.render import split_story

    write_back = "--write" in argv
    story_arg, overrides = split_story([a for a in argv if a != "--write"])
    path = story_file(story_arg, USAGE)
    if write_back:  # before the writer works: a file that may not be written is one line
        from engine.files import refuse_read_only

        refuse_read_only(path)
    setup_logging()
    from engine.dsl.load import load_story

    original = path.read_bytes()
    story = load_story(path, to_tell=True)
    cfg = compose_config(overrides, story=path)
    try:
        result = written(story, writer_from(cfg), cfg)
    except OSError as error:  # the cache (by default in the story's folder) cannot be written
        from engine.cache import cache_dir
        from engine.files import explain_os_error

        cache = cache_dir((cfg.get("cache") or {}).get("dir"), path)
        said = explain_os_error(error, {cache: ("the cache", "choose another: cache.dir=PATH")})
        print(shown(f"storyreel fill: error: {said}"), file=sys.stderr)
        return 1
    filled = with_auto_resolved(result.story, cfg)
    text = checked_text(filled)
    report = summary(story, result.story, result.usage)
    if filled is not result.story:
        report += "; trainedness: auto chosen"
    if not write_back:
        sys.stdout.write(text)
        print(report, file=sys.stderr)
        return 0
    if result.request is None and filled is result.story:
        print(shown(f"{story_arg}: nothing to fill"), file=sys.stderr)
        return 0
    if path.read_bytes() != original:
        print(shown(f"storyreel fill: {story_arg} changed while the writer worked; run fill "
                    "again"), file=sys.stderr)
        return 1
    from engine.files import write_atomically

    write_atomically(path, text)
    print(shown(f"wrote {story_arg}: {report}"), file=sys.stderr)
    return 0
