"""The cut stage: a timeline from line clips, the narration track, captions, and the editor's mp4."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.backends.video import CutRequest, CutStats, Editor, Segment
from engine.caption_fit import fit_cues
from engine.captions import Cue, write_srt, write_vtt
from engine.effects import SoundEffect, latest, least_length
from engine.errors import Stopped
from engine.files import replacing, write_atomically
from engine.language_codes import iso639_2
from engine.locks import work_folder
from engine.loudness import Loudness, measure
from engine.mix import SAMPLE_RATE, MixSettings, read_clip
from engine.narration import PEAK_MARGIN, Narration, narrate
from engine.timeline import (
    SceneLines,
    TimedLine,
    Timeline,
    TimelineSettings,
    build_timeline,
    scene_needs,
)
from engine.words import line_words, report_untimed

log = logging.getLogger(__name__)

KARAOKE = "captions.words.vtt"
"""WebVTT whose cues time every word (players show the words spoken so far as past text)."""


@dataclass(frozen=True, slots=True)
class CutLine:
    """A spoken line: its WAV clip, its words, who says it, and when its words are heard
    (`words.json` from the TTS; None: the TTS reports no word times)."""

    audio: Path
    text: str
    speaker: str | None = None
    words: Path | None = None


@dataclass(frozen=True, slots=True)
class CutScene:
    """A scene for the cut: its still, camera, how it gives way to the NEXT scene, its lines.

    `into_next` is how this scene ends ("cut", or a transition into the following one that
    takes the last `timeline.crossfade` seconds of its tail: "crossfade", "wipe left", ...);
    `duration` (the story's `duration:`) makes the scene at least that long; `music` plays
    under it (the scene's `music:`, else the story's), ducked while lines are spoken; `sfx`
    (the scene's `sfx:`) are its sound effects, mixed in at their places and levels; `title`
    (the scene's `title:`) names its chapter in the video (else `scene_id` does).
    """

    scene_id: str
    image: Path
    camera: str | None
    into_next: str | None
    lines: tuple[CutLine, ...]
    duration: float | None = None
    music: Path | None = None
    sfx: tuple[SoundEffect, ...] = ()
    title: str | None = None


def canonical(node: Any, digest: Callable[[Path], str]) -> Any:
    """A cut's input as plain data for its cache key: every field of every CutScene and CutLine,
    each file by its content's digest (so no field can be left out of the key by hand)."""
    if dataclasses.is_dataclass(node):
        return {f.name: canonical(getattr(node, f.name), digest) for f in dataclasses.fields(node)}
    if isinstance(node, tuple):
        return [canonical(item, digest) for item in node]
    if isinstance(node, Path):
        return {"sha256": digest(node)}
    return node


@dataclass(frozen=True, slots=True)
class CutOutcome:
    video: Path
    srt: Path
    vtt: Path
    timeline: Timeline
    duration: float
    stats: CutStats
    loudness: dict[str, object] | None = None
    narration: Narration | None = None
    """Which scenes' stretches of the narration were measured now, which reused."""


def clip_seconds(path: Path) -> float:
    """A clip's length as the narration track will hold it (48 kHz samples)."""
    return len(read_clip(path)) / SAMPLE_RATE


def plan(scenes: Sequence[CutScene], settings: TimelineSettings, fps: int,
         samples: Mapping[Path, np.ndarray] | None = None) -> Timeline:
    """The timeline of these scenes (each clip's length from `samples`, else read)."""
    return build_timeline(scene_lines(scenes, settings, samples), settings, fps)


def scene_lines(scenes: Sequence[CutScene], settings: TimelineSettings,
                samples: Mapping[Path, np.ndarray] | None = None) -> list[SceneLines]:
    """What the timeline needs of each scene: its timed lines, the least it lasts (its
    `duration:`, raised for its sound effects) and whether it gives way by a transition."""
    return [SceneLines(tuple(_timed(line, samples, settings.estimate_word_times)
                             for line in scene.lines),
                       least_length(scene.sfx, scene.duration, settings.tail),
                       transition=scene.into_next not in (None, "cut"))
            for scene in scenes]


def _timed(line: CutLine, samples: Mapping[Path, np.ndarray] | None, estimate: bool
           ) -> TimedLine:
    """The line's length, and its caption's words timed from the TTS's word times (none when
    the TTS reported none, unless the timeline estimates them)."""
    seconds = (len(samples[line.audio]) / SAMPLE_RATE if samples is not None
               else clip_seconds(line.audio))
    return TimedLine(seconds, line.text, line.speaker,
                     line_words(line.text, line.words, seconds, estimate))


def cut(scenes: Sequence[CutScene], editor: Editor, settings: TimelineSettings, width: int,
        height: int, fps: int, out_dir: Path, workdir: Path, *,
        speakers_in_captions: bool = False, mix: MixSettings | None = None,
        language: str | None = None) -> CutOutcome:
    """Write `out_dir/video.mp4`, `captions.srt`, `captions.vtt` and `captions.words.vtt` (each
    word's time in its cue: karaoke); nothing half-written there.

    `mix` says how loud the music plays and what loudness the soundtrack is mastered to; the
    video's own soundtrack is then measured (a warning when it missed the target by more than
    1 LU). Without it the clips are summed as they are. `out_dir/cut.json` records that
    measurement (`loudness`) and the font files the burned captions were drawn with (`fonts`).

    `speakers_in_captions` names each line's speaker in every caption (burned, soft track, SRT
    `Owl: …`, WebVTT `<v Owl>`); otherwise the cues carry no speaker.

    `workdir` keeps the editor's per-scene segments between runs (a changed scene re-encodes
    only its own segment), each scene's loudness measurements and the narration's AAC pieces
    (`engine.narration`: an edit measures and encodes only its own scene's sound). The cut
    holds it as a work folder (`engine.locks.work_folder`): `cache gc` leaves it alone meanwhile,
    and scratch (names beginning with '.') is removed only when no other process uses it.
    """
    if not scenes:
        raise ValueError("a cut needs at least one scene")
    # Each clip decoded once (resampling a TTS clip to 48 kHz is most of it), for its length
    # and for the mix.
    samples = {line.audio: read_clip(line.audio) for scene in scenes for line in scene.lines}
    lines = scene_lines(scenes, settings, samples)
    timeline = build_timeline(lines, settings, fps)
    _note_longer_than_asked(scenes, lines, timeline, settings)
    report_untimed(sum(1 for scene in scenes for line in scene.lines if line.words is None),
                   sum(len(scene.lines) for scene in scenes), settings.estimate_word_times)
    cues = fit_cues(timeline.cues if speakers_in_captions
                    else tuple(replace(cue, speaker=None) for cue in timeline.cues),
                    editor.caption_fits(width, height))
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / "video.mp4"
    with (work_folder(workdir),
          tempfile.TemporaryDirectory(prefix=".cut-", dir=workdir) as scratch):
        clips = [samples[line.audio] for s in scenes for line in s.lines]
        music, ids = [scene.music for scene in scenes], [scene.scene_id for scene in scenes]
        request = CutRequest(segments=_segments(scenes, timeline), audio=Path(),
                             cues=cues, width=width, height=height, fps=fps, output=Path(),
                             workdir=workdir, language=iso639_2(language))
        with replacing(video) as temp:
            stats, narration, heard = _cut_under_ceiling(
                editor, replace(request, output=temp), mix,
                lambda lowered, stop=None: narrate(
                    timeline, clips, Path(scratch) / "narration.wav", music, lowered, workdir,
                    ids, [scene.sfx for scene in scenes],
                    aac_bitrate=getattr(editor, "aac_bitrate", None), stop=stop))
            samples.clear()
            _fsync(temp)
            loudness = verify_loudness(heard, mix) if mix and heard else None
            write_atomically(out_dir / "cut.json", json.dumps(
                {"loudness": loudness, "fonts": list(stats.fonts)}, sort_keys=True) + "\n")
            srt, vtt = _write_captions(cues, out_dir)
    _note_done(len(scenes), timeline, stats, narration)
    return CutOutcome(video=video, srt=srt, vtt=vtt, timeline=timeline,
                      duration=timeline.duration, stats=stats, loudness=loudness,
                      narration=narration)


def _note_longer_than_asked(scenes: Sequence[CutScene], lines: Sequence[SceneLines],
                            timeline: Timeline, settings: TimelineSettings) -> None:
    """A scene's `duration:` is the least it lasts: say so, and what asks for more, when it lasts
    longer."""
    for index, (scene, timed, placed) in enumerate(zip(scenes, lines, timeline.scenes)):
        if scene.duration is not None and placed.duration > scene.duration + 1 / timeline.fps:
            following = scenes[index + 1].scene_id if index + 1 < len(scenes) else None
            log.warning("scene %s: %s, more than its `duration: %g`, so it lasts %.1f s "
                        "(`duration:` is the least a scene lasts)", scene.scene_id,
                        _longest_need(scene, following, timed, settings, timeline.fps),
                        scene.duration, placed.duration)


def _longest_need(scene: CutScene, following: str | None, timed: SceneLines,
                  settings: TimelineSettings, fps: int) -> str:
    """What asks for the longest scene, in words: its lines, the transition into the
    `following` scene, the timeline's `min_scene` or its sound effect placed latest (the first
    of these on a tie)."""
    needs = scene_needs(replace(timed, duration=None), settings, fps)
    said = {"lines": "its lines need",
            "transition": f"the {scene.into_next} into scene {following} "
                          f"(`timeline.crossfade: {settings.crossfade:g}`) needs",
            "min_scene": "`timeline.min_scene` asks for"}
    asks = [(seconds, said[name]) for name, seconds in needs.items()]
    effect = latest(scene.sfx)
    if effect is not None and effect.seconds is not None:
        asks.append((effect.seconds + settings.tail,
                     f"its sound effect {effect.audio.name} at {effect.seconds:g} s needs"))
    seconds, who = max(asks, key=lambda ask: ask[0])
    return f"{who} {seconds:.1f} s"


def _note_done(count: int, timeline: Timeline, stats: CutStats, narration: Narration) -> None:
    log.info("cut %d scene(s), %.2fs: segments %d encoded, %d reused; soundtrack (speech, "
             "music, effects) by scene: %d measured, %d reused; %d AAC piece(s) encoded", count,
             timeline.duration, len(stats.encoded), len(stats.reused), len(narration.measured),
             len(narration.reused), len(narration.encoded))


def _segments(scenes: Sequence[CutScene], timeline: Timeline) -> tuple[Segment, ...]:
    """Each scene's picture on the timeline, with how (and how long) it gives way to the next."""
    return tuple(
        Segment(scene_id=scene.scene_id, image=scene.image, start=placed.start,
                frames=placed.frames, camera=scene.camera, into_next=scene.into_next or "cut",
                title=scene.title, transition_frames=placed.transition_frames)
        for scene, placed in zip(scenes, timeline.scenes))


def _write_captions(cues: Sequence[Cue], out_dir: Path) -> tuple[Path, Path]:
    """The SRT, the WebVTT and the karaoke WebVTT; the first two's paths."""
    srt = write_srt(cues, out_dir / "captions.srt")
    vtt = write_vtt(cues, out_dir / "captions.vtt")
    write_vtt(cues, out_dir / KARAOKE, karaoke=True)
    return srt, vtt


CUT_PASSES = 3
"""Cuts at most while the video's soundtrack peaks over the ceiling (each masters the whole
soundtrack again, lower; a narration made of pieces has each piece under it already)."""

def _cut_under_ceiling(editor: Editor, request: CutRequest, mix: MixSettings | None,
                       narrate_under: Callable[..., Narration]
                       ) -> tuple[CutStats, Narration, Loudness | None]:
    """The editor's cut of the soundtrack `narrate_under(mix)` writes, and what a meter reads
    in it (None without `mix`). AAC raises true peaks by an amount that depends on the sound
    (up to 0.6 dB in the example stories at 128 kb/s, 2–3 dB on clicks), more than
    CODEC_HEADROOM always covers: when the encoded peak is over the ceiling, the soundtrack is
    mastered again under a ceiling that much lower and cut again (the segments and scene
    measurements are reused). A narration made of pieces (`narration.aac`) has each piece under
    the ceiling already."""
    lowered, first = mix, None
    for passes in range(1, CUT_PASSES + 1):
        early, narration = (_beside_segments(editor, request,
                                             lambda stop: narrate_under(lowered, stop))
                            if first is None else (None, narrate_under(lowered)))
        stats = editor.cut(replace(request, audio=narration.path, aac=narration.aac)) \
            or CutStats()
        # What the first pass made (the segments: while the narration was made): later passes
        # reuse it.
        first = first or (early or stats, narration)
        if not request.output.exists() or request.output.stat().st_size == 0:
            raise RuntimeError(f"the editor wrote no video to {request.output}")
        heard = None if not mix else (
            narration.heard if stats.copied_aac and narration.heard is not None
            else measure(read_clip(request.output), SAMPLE_RATE))
        over = heard.true_peak - mix.true_peak if heard and mix.loudness is not None else 0.0
        if not over > 0 or passes == CUT_PASSES:
            break
        log.info("the encoded soundtrack peaks %.2f dB over the %.1f dBTP ceiling: mastering it "
                 "again %.2f dB lower", over, mix.true_peak, over + PEAK_MARGIN)
        lowered = replace(lowered, true_peak=lowered.true_peak - over - PEAK_MARGIN)
    return (replace(stats, encoded=first[0].encoded, reused=first[0].reused),
            replace(narration, measured=first[1].measured, reused=first[1].reused,
                    encoded=first[1].encoded), heard)


def _beside_segments(editor: Editor, request: CutRequest,
                     narrate: Callable[[threading.Event | None], Narration]
                     ) -> tuple[CutStats | None, Narration]:
    """The narration, made in a thread while the editor encodes the segments (when it can do
    that before the soundtrack exists: `encode_segments`), and what that encode did. Either
    failing (or Ctrl-C) stops the other at its next frame, scene or piece, and its own error is
    the one raised."""
    encode_segments = getattr(editor, "encode_segments", None)
    if encode_segments is None:
        return None, narrate(None)
    stop = threading.Event()
    with ThreadPoolExecutor(1, thread_name_prefix="narration") as pool:
        sound = pool.submit(narrate, stop)
        sound.add_done_callback(lambda done: done.exception() is None or stop.set())
        try:
            early = encode_segments(request, stop=stop)
        except Stopped:
            cause = sound.exception()  # the narration failed: it set the stop (waits for it)
            if cause is not None and not isinstance(cause, Stopped):
                raise cause from None
            raise
        except BaseException:
            stop.set()
            raise
        return early, sound.result()


def verify_loudness(heard: Loudness, mix: MixSettings) -> dict[str, object]:
    """The video's soundtrack as a meter reads it (`heard`), against the targets."""
    facts = {"target": mix.loudness, "ceiling": mix.true_peak, **heard.as_record()}
    if (mix.loudness is not None and heard.integrated != float("-inf")
            and abs(heard.integrated - mix.loudness) > 1.0):
        log.warning("the soundtrack plays at %.1f LUFS, not the %.1f LUFS asked for",
                    heard.integrated, mix.loudness)
    elif heard.true_peak > mix.true_peak and mix.loudness is not None:
        log.warning("the soundtrack peaks at %.1f dBTP, over the %.1f dBTP ceiling",
                    heard.true_peak, mix.true_peak)
    return facts


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())

