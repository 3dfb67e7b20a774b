"""The interpreter: runs the stages over a checked story and writes the run's output folder."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from engine import auto_trainedness
from engine.backends.image import Illustrator
from engine.backends.llm import Writer
from engine.backends.safety import SafetyChecker
from engine.backends.safety_text import TextChecker
from engine.backends.select import Selector
from engine.backends.tagger import Tagger
from engine.backends.tts import TTS
from engine.backends.video import Editor
from engine.backends.video.libav import libav_version
from engine.cache import Cache
from engine.cut_scenes import cut_scenes
from engine.dsl.format import format_story
from engine.dsl.load import load_with_diagnostics, rebase_paths
from engine.errors import StoryError, counted
from engine.feedback import Feedback
from engine.files import place_atomically, write_atomically
from engine.ir import Story
from engine.manifest import Recorder, write_manifest
from engine.mix import MixSettings
from engine.progress import StageProgress, summary_table
from engine.review.feedback import load_feedback
from engine.review.records import PUBLISHED_FILES, authored_sha256, run_record
from engine.run_folder import RunFolder, register_run_folder
from engine.stages import design as design_stage
from engine.stages import draw as draw_stage
from engine.stages import screen as screen_stage
from engine.stages import speak as speak_stage
from engine.stages import write as write_stage
from engine.stages.cut import CutScene, canonical, cut
from engine.steps import Step
from engine.storyboard import write_storyboard
from engine.timeline import TimelineSettings

log = logging.getLogger(__name__)

CUT_VERSION = 10  # 7: clips' 5 ms fades, aac_coder=fast; 8, 10: lowered ceilings; 9: words


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
    auto: draw_stage.AutoTrainedness | None = None


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


def _cut(story: Story, scenes: tuple[CutScene, ...], editor: Editor, settings: RenderSettings,
         step: Step, cache: Cache) -> Path:
    language = story.text("language", "en") or "en"
    request = {
        "scenes": [canonical(scene, step.digest) for scene in scenes],
        "size": [settings.width, settings.height, settings.fps],
        "timeline": asdict(settings.timeline),
        "caption_speakers": settings.caption_speakers,
        "mix": asdict(settings.mix) if settings.mix else None,
        "language": language,
        "narration_encoder": libav_version(),  # the AAC pieces' libavcodec (not the editor's)
    }
    workdir = cache.root / "segments"
    return step.run("cut", CUT_VERSION, request, editor, "video.mp4",
                    lambda out: cut(scenes, editor, settings.timeline, settings.width,
                                    settings.height, settings.fps, out.parent, workdir,
                                    speakers_in_captions=settings.caption_speakers,
                                    mix=settings.mix, language=language),
                    label="video", record="cut.json")


def render(settings: RenderSettings, backends: Backends, console: Console) -> RenderOutcome:
    """Run every stage for one story (`_render`'s numbered phases); the run folder gets its files
    together, the manifest last (a run that fails leaves the folder as it was)."""
    started = time.perf_counter()
    story, diagnostics = load_with_diagnostics(settings.story, to_tell=True)
    if story is None:
        raise StoryError(diagnostics)
    cache = Cache(settings.cache_dir)
    try:
        with RunFolder(settings.run_dir) as folder:
            outcome = _render(story, settings, backends, console, cache, folder, started)
        register_run_folder(cache.root, settings.run_dir)  # `cache gc` keeps what it references
        return outcome
    finally:
        cache.close()


@dataclass(slots=True)
class _Run:
    """What every phase of one render shares."""

    settings: RenderSettings
    backends: Backends
    step: Step
    cache: Cache
    progress: StageProgress
    feedback: Feedback
    """Reviewers' decisions on earlier renders (`<story>.review.yaml`)."""

    @property
    def recorder(self) -> Recorder:
        return self.step.recorder

    def stage(self, name: str, total: int) -> Any:
        """Time a stage and show its progress bar (`with run.stage(...) as advance`)."""
        return _timed_stage(self.recorder, self.progress, name, total)


@contextmanager
def _timed_stage(recorder: Recorder, progress: StageProgress, name: str,
                 total: int) -> Iterator[Callable[[], None]]:
    with recorder.timed(name), progress.stage(name, total) as advance:
        yield advance


def _render(story: Story, settings: RenderSettings, backends: Backends, console: Console,
            cache: Cache, folder: RunFolder, started: float) -> RenderOutcome:
    """The phases of one render, in order; each one's output is the next one's input."""
    recorder = Recorder()
    with StageProgress(console) as progress:
        run = _Run(settings, backends, Step(cache, recorder), cache, progress,
                   load_feedback(story))
        authored = {scene.id: authored_sha256(scene) for scene in story.scenes}
        # 1. write: the writer fills what the author left out (reviewers' notes in the request)
        written = _write(run, story)
        # 2. screen: every line and image prompt, the author's and the writer's, checked
        flags = _screen(run, story, written.story)
        # 3. design: characters' reference images become tags
        story = _design(run, written.story)
        # 4. draw and speak, side by side; resolved.story carries each α `auto` chose
        drawn, spoken = _draw_and_speak(run, story)
        resolved = auto_trainedness.with_chosen_trainedness(
            story, auto_trainedness.choices_of(drawn))
        write_atomically(folder.staging / "resolved.story",
                         format_story(rebase_paths(resolved, settings.run_dir)).encode())
        # 5. pictures that stayed flagged after their redraws
        if backends.safety is not None:
            flags += screen_stage.picture_flags(drawn, backends.safety, run.step)
        # 6. cut: the timeline, the mix and the video
        scenes = cut_scenes(story, drawn, spoken)
        with run.stage("cut", 1) as advance:
            video = _cut(story, scenes, backends.editor, settings, run.step, cache)
            advance()
    # 7. the run folder: outputs moved in together, the manifest last
    acted = _feedback_acted_on(written, drawn, spoken)
    duration = _fill_run_folder(run, folder, story, written, video, drawn, spoken, flags,
                                started, {"authored": authored, "feedback": acted,
                                          "cut": scenes})
    # 8. what happened, said once
    seconds = time.perf_counter() - started
    _report(console, recorder, written, flags, duration, seconds, settings.run_dir)
    if any(acted.values()):
        console.print(_feedback_line(acted), highlight=False, soft_wrap=True)
    return RenderOutcome(settings.run_dir / "video.mp4", duration, seconds, recorder,
                         tuple(flags))


def _write(run: _Run, story: Story) -> write_stage.Written:
    with run.stage("write", 1) as advance:
        written = write_stage.write_cached(story, run.backends.writer, run.step, run.feedback)
        advance()
    return written


def _screen(run: _Run, story: Story, written: Story) -> list[screen_stage.Flag]:
    if run.backends.safety_text is None:
        return []
    texts = screen_stage.texts(story, written)
    with run.stage("screen", len(texts)) as advance:
        return list(screen_stage.screen(texts, run.backends.safety_text, run.step,
                                        written.text("language", "en") or "en", advance))


def _design(run: _Run, story: Story) -> Story:
    if run.backends.tagger is None:
        return story
    wanted = [c for c in story.all_characters() if design_stage.needs_tags(c)]
    with run.stage("design", len(wanted)) as advance:
        tags = design_stage.tag_characters(story, run.backends.tagger, run.step, advance)
    return design_stage.with_tags(story, tags)


def _draw_and_speak(run: _Run, story: Story
                    ) -> tuple[list[draw_stage.Drawn], list[speak_stage.Spoken]]:
    """Both stages on two threads (they are independent); the first failure, or Ctrl-C, stops
    the other after its current item."""
    settings, backends = run.settings, run.backends
    draw_settings = draw_stage.DrawSettings(settings.width, settings.height, settings.seed,
                                            settings.trainedness, settings.candidates,
                                            settings.auto, backends.editor.caption_band(
                                                settings.width, settings.height))
    requests = draw_stage.build_requests(story, draw_settings)
    stop = threading.Event()

    def until_stopped(advance: Callable[[], None]) -> Callable[[], None]:
        def done_one() -> None:
            advance()
            if stop.is_set():
                raise _Stopped
        return done_one

    def run_draw() -> list[draw_stage.Drawn]:
        with run.stage("draw", len(requests)) as advance:
            chosen, choices = auto_trainedness.choose_trainedness(
                story, requests, draw_settings, backends.illustrator, backends.selector,
                run.step)
            return draw_stage.draw(chosen, backends.illustrator, run.step, settings.candidates,
                                   backends.selector, backends.safety,
                                   advance=until_stopped(advance), feedback=run.feedback,
                                   choices=choices)

    def run_speak() -> list[speak_stage.Spoken]:
        with run.stage("speak", sum(len(s.lines) for s in story.scenes)) as advance:
            return speak_stage.speak(story, backends.tts, run.step,
                                     advance=until_stopped(advance), feedback=run.feedback)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="stage") as pool:
        drawing, speaking = pool.submit(run_draw), pool.submit(run_speak)
        try:
            for finished in as_completed((drawing, speaking)):
                finished.result()
        except BaseException:
            stop.set()
            raise
        return drawing.result(), speaking.result()


def _fill_run_folder(run: _Run, folder: RunFolder, story: Story, written: write_stage.Written,
                     video: Path, drawn: list[draw_stage.Drawn],
                     spoken: list[speak_stage.Spoken], flags: list[screen_stage.Flag],
                     started: float, review: dict[str, Any]) -> float:
    """The video, captions, storyboard and manifest in the run folder; the video's length.
    `review`: each authored scene's hash, what the render did with reviewers' decisions, and
    the scenes as the cut took them."""
    staging = folder.staging
    for name in PUBLISHED_FILES:
        place_atomically(video.parent / name, staging / name)
    duration = _duration(staging / "video.mp4")
    write_storyboard(staging, story, drawn, spoken, place_atomically)
    seconds = time.perf_counter() - started
    facts = {**_facts(run.settings, run.backends, written, run.step, duration, seconds),
             **run_record(story, drawn, spoken, run.step.digest, staging, review["authored"],
                          review["cut"], _music_mix(run.settings.mix)),
             "flags": [flag.record() for flag in flags], "feedback": review["feedback"]}
    counts = run.recorder.counts().values()
    log.info("rendered %s: %.2f s of video in %.1f s; %s made, %s reused", story.path, duration,
             seconds, sum(made for made, _ in counts), sum(reused for _, reused in counts))
    folder.commit(lambda path, outputs: write_manifest(path, run.recorder,
                                                       {**facts, "outputs": outputs}))
    return duration


def _music_mix(mix: MixSettings | None) -> dict[str, float] | None:
    """How the mix plays music (its level, ducking and fades): part of what a reviewer heard."""
    return None if mix is None else {name: value for name, value in asdict(mix).items()
                                     if name.startswith(("music_", "duck_"))}


def _report(console: Console, recorder: Recorder, written: write_stage.Written,
            flags: list[screen_stage.Flag], duration: float, seconds: float,
            run_dir: Path) -> None:
    console.print(summary_table(recorder, duration, seconds))
    if written.usage.requests:
        reused = recorder.counts().get("write", (0, 0))[0] == 0
        console.print(f"llm: {written.usage.requests} requests, {written.usage.prompt_tokens} "
                      f"prompt + {written.usage.completion_tokens} completion tokens"
                      + (" (an earlier run's answer, reused from the cache)" if reused else ""),
                      highlight=False)
    if flags:
        console.print(screen_stage.summary(flags, run_dir), highlight=False, soft_wrap=True)


def _feedback_acted_on(written: write_stage.Written, drawn: list[draw_stage.Drawn],
                       spoken: list[speak_stage.Spoken]) -> dict[str, list[str]]:
    """The manifest's `feedback`: items kept as approved, pictures drawn again because a
    reviewer rejected one, holes the writer was asked again (review's `SCENE:…` names)."""
    pinned = set(written.pinned) | {f"{d.scene_id}:picture" for d in drawn if d.pinned}
    pinned |= {f"{s.scene_id}:{s.index + 1}:audio" for s in spoken if s.pinned}
    return {"pinned": sorted(pinned),
            "redrawn": sorted(f"{d.scene_id}:picture" for d in drawn if d.passed_over),
            "rewritten": sorted(written.rewritten)}


def _feedback_line(acted: dict[str, list[str]]) -> str:
    """`review decisions: kept as approved 2 pictures, 2 image prompts, 3 clips; 1 picture
    redrawn after a rejection`: what the render kept and redid, counted by what each is (a
    picture's approval pins its image prompt too, so the pins outnumber the approved items)."""
    kinds = {"picture": "picture", "image": "image prompt", "audio": "clip"}
    kept = [kinds.get(key.rpartition(":")[2], "writer line") for key in acted["pinned"]]
    pinned = ", ".join(counted(kept.count(kind), kind) for kind in
                       ("picture", "image prompt", "writer line", "clip") if kind in kept)
    said = [f"kept as approved {pinned}" if pinned else "",
            f"{counted(len(acted['redrawn']), 'picture')} redrawn after a rejection"
            if acted["redrawn"] else "",
            _rewritten(acted["rewritten"])]
    return ("review decisions: " + "; ".join(part for part in said if part)
            + " (manifest.json `feedback`)")


def _rewritten(keys: list[str]) -> str:
    """`2 writer lines and 1 scene's lines rewritten with reviewers' notes` (or nothing)."""
    scenes = sum(1 for key in keys if key.endswith(":lines"))
    parts = [counted(len(keys) - scenes, "writer line") if len(keys) > scenes else "",
             ("1 scene's lines" if scenes == 1 else f"{scenes} scenes' lines") if scenes else ""]
    return (" and ".join(p for p in parts if p) + " rewritten with reviewers' notes"
            if keys else "")


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
