"""The interpreter: runs the stages over a checked story and writes the run's output folder."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from engine.backends.image import Illustrator
from engine.backends.llm import Writer
from engine.backends.safety import SafetyChecker
from engine.backends.safety_text import TextChecker
from engine.backends.select import Selector
from engine.backends.tagger import Tagger
from engine.backends.tts import TTS
from engine.backends.video import Editor
from engine.cache import Cache
from engine.files import place_atomically, write_atomically
from engine.dsl.format import format_story
from engine.dsl.load import load_with_diagnostics, rebase_paths
from engine.errors import StoryError
from engine.ir import Scene, Story, resolve_path
from engine.manifest import Recorder, write_manifest
from engine.progress import StageProgress, summary_table
from engine.review.records import run_record
from engine.run_folder import RunFolder
from engine.stages import design as design_stage
from engine.stages import draw as draw_stage
from engine.stages import screen as screen_stage
from engine.stages import speak as speak_stage
from engine.stages import write as write_stage
from engine.stages.cut import CutLine, CutScene, canonical, cut
from engine.steps import Step
from engine.storyboard import write_storyboard
from engine.timeline import MixSettings, TimelineSettings

log = logging.getLogger(__name__)

CUT_VERSION = 2


class _Stopped(Exception):
    """A stage gave up because the stage beside it failed; that failure is what is reported."""


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """Everything a render needs from the configuration, as plain typed values."""

    story: Path
    run_dir: Path
    cache_dir: Path
    seed: int | None
    trainedness: float
    width: int
    height: int
    fps: int
    candidates: int
    caption_speakers: bool
    timeline: TimelineSettings
    mix: MixSettings | None = None


@dataclass(frozen=True, slots=True)
class Backends:
    """The backends of one run, built once from the configuration."""

    writer: Writer
    illustrator: Illustrator
    tts: TTS
    editor: Editor
    tagger: Tagger | None = None
    selector: Selector | None = None
    safety: SafetyChecker | None = None
    safety_text: TextChecker | None = None


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    video: Path
    duration: float
    seconds: float
    recorder: Recorder
    flags: tuple[screen_stage.Flag, ...] = ()
    """What a person must review before the video is published (manifest.json `flags`)."""


def _cut(story: Story, drawn: list[draw_stage.Drawn], spoken: list[speak_stage.Spoken],
         editor: Editor, settings: RenderSettings, step: Step, cache: Cache) -> Path:
    by_scene: dict[str, list[speak_stage.Spoken]] = {}
    for s in spoken:
        by_scene.setdefault(s.scene_id, []).append(s)
    # A scene's `transition:` says how it begins; the editor wants how each scene ends.
    following = [s.text("transition") for s in story.scenes[1:]] + [None]
    language = story.text("language", "en") or "en"
    scenes = tuple(
        CutScene(scene_id=scene.id, image=d.image, camera=scene.text("camera"),
                 into_next=into_next, duration=_seconds(scene.text("duration")),
                 music=_music(story, scene),
                 lines=tuple(CutLine(audio=s.audio, text=s.text, speaker=s.speaker)
                             for s in by_scene.get(scene.id, [])))
        for scene, d, into_next in zip(story.scenes, drawn, following))
    request = {
        "scenes": [canonical(scene, step.digest) for scene in scenes],
        "size": [settings.width, settings.height, settings.fps],
        "timeline": asdict(settings.timeline),
        "caption_speakers": settings.caption_speakers,
        "mix": asdict(settings.mix) if settings.mix else None,
        "language": language,
    }
    workdir = cache.root / "segments"
    return step.run("cut", CUT_VERSION, request, editor, "video.mp4",
                    lambda out: cut(scenes, editor, settings.timeline, settings.width,
                                    settings.height, settings.fps, out.parent, workdir,
                                    speakers_in_captions=settings.caption_speakers,
                                    mix=settings.mix, language=language),
                    label="video", record="cut.json")


def _music(story: Story, scene: Scene) -> Path | None:
    """The scene's `music:`, else the story's, as an absolute path."""
    field = scene.get("music") or story.get("music")
    return resolve_path(field, story) if field is not None else None


def _seconds(text: str | None) -> float | None:
    return float(text) if text else None


def render(settings: RenderSettings, backends: Backends, console: Console) -> RenderOutcome:
    """Run every stage for one story; the run folder gets its files together, the manifest last
    (a run that fails leaves the folder as it was)."""
    started = time.perf_counter()
    story, diagnostics = load_with_diagnostics(settings.story)
    if story is None:
        raise StoryError(diagnostics)
    cache = Cache(settings.cache_dir)
    try:
        with RunFolder(settings.run_dir) as folder:
            return _render(story, settings, backends, console, cache, folder, started)
    finally:
        cache.close()


def _render(story: Story, settings: RenderSettings, backends: Backends, console: Console,
            cache: Cache, folder: RunFolder, started: float) -> RenderOutcome:
    recorder = Recorder()
    staging = folder.staging
    step = Step(cache, recorder)
    run_dir = settings.run_dir
    flags: list[screen_stage.Flag] = []
    with StageProgress(console) as progress:
        with recorder.timed("write"), progress.stage("write", 1) as advance:
            written = write_stage.write_cached(story, backends.writer, step)
            advance()
        if backends.safety_text is not None:
            texts = screen_stage.texts(story, written.story)
            with recorder.timed("screen"), progress.stage("screen", len(texts)) as advance:
                flags += screen_stage.screen(texts, backends.safety_text, step,
                                             written.story.text("language", "en") or "en",
                                             advance)
        story = written.story
        if backends.tagger is not None:
            wanted = [c for c in story.all_characters() if design_stage.needs_tags(c)]
            with recorder.timed("design"), progress.stage("design", len(wanted)) as advance:
                tags = design_stage.tag_characters(story, backends.tagger, step, advance)
            story = design_stage.with_tags(story, tags)
        write_atomically(staging / "resolved.story",
                         format_story(rebase_paths(story, run_dir)).encode())
        draw_settings = draw_stage.DrawSettings(settings.width, settings.height, settings.seed,
                                                settings.trainedness, settings.candidates)
        requests = draw_stage.build_requests(story, draw_settings)
        line_count = sum(len(s.lines) for s in story.scenes)

        stop = threading.Event()

        def until_stopped(advance: Callable[[], None]) -> Callable[[], None]:
            """`advance`, and give up after this item once the other stage has failed."""
            def done_one() -> None:
                advance()
                if stop.is_set():
                    raise _Stopped
            return done_one

        def run_draw() -> list[draw_stage.Drawn]:
            with recorder.timed("draw"), progress.stage("draw", len(requests)) as advance:
                return draw_stage.draw(requests, backends.illustrator, step,
                                       settings.candidates, backends.selector, backends.safety,
                                       advance=until_stopped(advance))

        def run_speak() -> list[speak_stage.Spoken]:
            with recorder.timed("speak"), progress.stage("speak", line_count) as advance:
                return speak_stage.speak(story, backends.tts, step,
                                         advance=until_stopped(advance))

        # Drawing and speaking are independent: on two cores they overlap.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="stage") as pool:
            drawing, speaking = pool.submit(run_draw), pool.submit(run_speak)
            try:
                for finished in as_completed((drawing, speaking)):
                    finished.result()  # the first failure (or Ctrl-C) stops the other stage
            except BaseException:
                stop.set()
                raise
            drawn, spoken = drawing.result(), speaking.result()
        if backends.safety is not None:
            flags += screen_stage.picture_flags(drawn, backends.safety, step)
        with recorder.timed("cut"), progress.stage("cut", 1) as advance:
            video = _cut(story, drawn, spoken, backends.editor, settings, step, cache)
            advance()
    for name in ("video.mp4", "captions.srt", "captions.vtt"):
        place_atomically(video.parent / name, staging / name)
    duration = _duration(staging / "video.mp4")
    write_storyboard(staging, story, drawn, spoken, place_atomically)
    seconds = time.perf_counter() - started
    facts = {**_facts(settings, backends, written, step, duration, seconds),
             **run_record(story, drawn, spoken, step.digest, staging),
             "flags": [flag.record() for flag in flags]}
    folder.commit(lambda path, outputs: write_manifest(path, recorder,
                                                       {**facts, "outputs": outputs}))
    console.print(summary_table(recorder, duration, seconds))
    if written.usage.requests:
        reused = recorder.counts().get("write", (0, 0))[0] == 0
        console.print(f"llm: {written.usage.requests} requests, {written.usage.prompt_tokens} "
                      f"prompt + {written.usage.completion_tokens} completion tokens"
                      + (" (an earlier run's answer, reused from the cache)" if reused else ""),
                      highlight=False)
    if flags:
        console.print(screen_stage.summary(flags, run_dir), highlight=False, soft_wrap=True)
    return RenderOutcome(run_dir / "video.mp4", duration, seconds, recorder, tuple(flags))


def output_places(settings: RenderSettings | None) -> dict[Path, tuple[str, str]]:
    """The folders a render writes, for naming them in an error (`files.explain_os_error`)."""
    if settings is None:
        return {}
    return {settings.run_dir.absolute(): ("the run folder", "choose another: hydra.run.dir=PATH"),
            settings.cache_dir.absolute(): ("the cache", "choose another: cache.dir=PATH")}


def _duration(video: Path) -> float:
    import av

    with av.open(str(video)) as container:
        return float(container.duration or 0) / 1_000_000


def _facts(settings: RenderSettings, backends: Backends, written: write_stage.Written,
           step: Step, duration: float, seconds: float) -> dict[str, Any]:
    return {
        "story": str(settings.story),
        "video": "video.mp4",
        "duration": round(duration, 3),
        "seconds": round(seconds, 3),
        "seed": settings.seed,
        "size": [settings.width, settings.height, settings.fps],
        "backends": {role: step.identity(b) for role, b in _roles(backends).items()},
        # what the writer's answer cost; `reused`: an earlier run paid it (the cache kept it)
        "llm_usage": {**asdict(written.usage), "reused": bool(
            written.request is not None and step.recorder.counts().get("write", (0, 0))[0] == 0)},
        "cache": str(settings.cache_dir),
    }


def _roles(backends: Backends) -> dict[str, object]:
    roles = {"llm": backends.writer, "image": backends.illustrator, "tts": backends.tts,
             "video": backends.editor, "tagger": backends.tagger, "select": backends.selector,
             "safety": backends.safety, "safety_text": backends.safety_text}
    return {role: backend for role, backend in roles.items() if backend is not None}
