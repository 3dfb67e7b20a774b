"""The story's scenes as the cut stage takes them: each one's picture, voiced lines, camera, how it
gives way to the next, its music and sound effects."""

from __future__ import annotations

from pathlib import Path

from engine.dsl.vocabulary import sound_placement
from engine.effects import SoundEffect
from engine.ir import Scene, Story, resolve_path
from engine.stages import draw as draw_stage
from engine.stages import speak as speak_stage
from engine.stages.cut import CutLine, CutScene


def cut_scenes(story: Story, drawn: list[draw_stage.Drawn],
               spoken: list[speak_stage.Spoken]) -> tuple[CutScene, ...]:
    """The scenes as the cut takes them (and as a scene's review record describes them)."""
    by_scene: dict[str, list[speak_stage.Spoken]] = {}
    for s in spoken:
        by_scene.setdefault(s.scene_id, []).append(s)
    # A scene's `transition:` says how it begins; the editor wants how each scene ends.
    following = [s.text("transition") for s in story.scenes[1:]] + [None]
    return tuple(
        CutScene(scene_id=scene.id, title=scene.text("title"), image=d.image,
                 camera=scene.text("camera"),
                 into_next=into_next, duration=_seconds(scene.text("duration")),
                 music=_music(story, scene), sfx=_sound_effects(story, scene),
                 lines=tuple(CutLine(audio=s.audio, text=s.text, speaker=s.speaker,
                                     words=s.words)
                             for s in by_scene.get(scene.id, [])))
        for scene, d, into_next in zip(story.scenes, drawn, following))


def _music(story: Story, scene: Scene) -> Path | None:
    """The scene's `music:`, else the story's, as an absolute path."""
    field = scene.get("music") or story.get("music")
    return resolve_path(field, story) if field is not None else None


def _sound_effects(story: Story, scene: Scene) -> tuple[SoundEffect, ...]:
    """The scene's `sfx:` lines: each file (an absolute path), where it plays, how loud."""
    placed = ((f, sound_placement(f.value.text)) for f in scene.all("sfx"))
    return tuple(SoundEffect(resolve_path(f, story), p.seconds, p.line, p.level)
                 for f, p in placed)


def _seconds(text: str | None) -> float | None:
    return float(text) if text else None
