"""What a run holds for review: its scenes, lines and flags, with the hashes an approval is for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.canonical import canonical_json
from engine.ir import without_spans
from engine.storyboard import audio_path, candidate_path, picture_path

if TYPE_CHECKING:
    from engine.ir import Scene, Story
    from engine.stages.cut import CutScene
    from engine.stages.draw import Drawn
    from engine.stages.speak import Spoken

PUBLISHED_FILES = ("video.mp4", "captions.srt", "captions.vtt", "captions.words.vtt")

ASPECTS = ("sound", "transition", "camera", "duration")
"""What a scene adds to the video besides its picture; its approval covers each (`presented`)."""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def authored_sha256(scene: Scene) -> str:
    """The scene as its author wrote it (before the writer), layout and comments aside: a pin
    holds while this stays the same."""
    return text_sha256(canonical_json(without_spans(scene)))


def made_for(cache: str | None, subject: str) -> dict[str, str]:
    """The cache entry holding a picture or clip and what it was made for: a pin's reference."""
    return {"cache": cache, "subject": subject} if cache else {}


def presented(cut: Sequence[CutScene], digest: Callable[[Path], str],
              music_mix: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per scene, what the cut adds to the video besides its picture (`ASPECTS`): its sound
    (the music under it, the scene's or the story's, with how the mix plays it, `music_mix`:
    its level, ducking and fades; and its sound effects: each file's content digest, place and
    level), how it begins (its `transition:`, which the cut plays at the end of the scene
    before), its camera and its `duration:`."""
    begins = [None, *(scene.into_next for scene in cut[:-1])]
    return [{"sound": {"music": None if scene.music is None else {"sha256": digest(scene.music),
                                                                  "mix": music_mix},
                       "sfx": [{"sha256": digest(effect.audio), "seconds": effect.seconds,
                                "line": effect.line, "level": effect.level}
                               for effect in scene.sfx]},
             "transition": transition, "camera": scene.camera, "duration": scene.duration}
            for scene, transition in zip(cut, begins)]


def scene_records(story: Story, drawn: Sequence[Drawn], spoken: Sequence[Spoken],
                  digest: Callable[[Path], str], authored: dict[str, str],
                  cut: Sequence[CutScene], music_mix: dict[str, Any] | None = None
                  ) -> list[dict[str, Any]]:
    """The manifest's `scenes`: per scene its picture, candidates (a reviewer's rejected one
    marked), what it adds to the video besides the picture (`presented`) and its lines, each
    with its hash and its place in the run folder (as the storyboard puts them); `authored`
    holds each authored scene's `authored_sha256` (a scene the writer drafted has none)."""
    clips = {(s.scene_id, s.index): s for s in spoken}
    records = []
    for scene, picture, shown in zip(story.scenes, drawn, presented(cut, digest, music_mix)):
        written_by_author = authored.get(scene.id)
        candidates = []
        if len(picture.candidates) > 1:
            candidates = [{"path": candidate_path(scene.id, n).as_posix(), "sha256": digest(path),
                           "score": score, "chosen": n == picture.chosen,
                           "rejected": n in picture.rejected}
                          for n, (path, score) in enumerate(zip(picture.candidates,
                                                                picture.scores))]
        lines = []
        for index, line in enumerate(scene.lines):
            clip = clips.get((scene.id, index))
            lines.append({
                "index": index, "speaker": line.speaker, "direction": line.direction,
                "text": line.text or "", "text_sha256": text_sha256(line.text or ""),
                "by": "writer" if line.written_by == "llm" else "author",
                "audio": None if clip is None else {
                    "path": audio_path(scene.id, index).as_posix(), "sha256": digest(clip.audio),
                    **made_for(clip.cache, clip.subject)},
                "authored_sha256": written_by_author,
            })
        records.append({
            "id": scene.id, "title": scene.text("title") or scene.id,
            "image_prompt": scene.text("image") or "",
            "picture": {"path": picture_path(scene.id).as_posix(),
                        "sha256": digest(picture.image),
                        **made_for(picture.cache, picture.subject)},
            "candidates": candidates, "review": picture.review, "presented": shown,
            "lines": lines,
            "authored_sha256": written_by_author,
            "trainedness": None if picture.trainedness is None else picture.trainedness.record(),
        })
    return records


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a reviewer decides on: a scene (its picture and what it adds to the video
    besides: sound, transition, camera, duration) or one line (text and voice)."""

    key: str
    """`SCENE` for a scene, `SCENE:N` (N from 1) for its N-th line."""
    kind: str
    content: str
    """What the approval is for: the picture's sha256 + the sha256 of `presented`, or the
    text's sha256 + the audio's."""
    files: tuple[tuple[str, str], ...]
    """(path in the run folder, sha256) of every file this item shows."""
    flags: tuple[dict[str, Any], ...] = ()
    record: dict[str, Any] = field(default_factory=dict, compare=False)
    presented: dict[str, str] | None = field(default=None, compare=False)
    """A scene's: per aspect (`ASPECTS`), the sha256 of what the run holds; None for a line, or
    a scene of a run rendered before scenes' approvals covered them."""

    @property
    def flag_ids(self) -> frozenset[str]:
        return frozenset(flag_id(f) for f in self.flags)


def flag_id(flag: dict[str, Any]) -> str:
    """A flag as accepted by a reviewer: what checked, what it found, in exactly which text."""
    return f"{flag.get('checker', '?')}/{flag.get('category', '?')}/{flag.get('sha256', '')}"


@dataclass(frozen=True, slots=True)
class Run:
    """A rendered run folder, read back from its manifest."""

    folder: Path
    manifest: dict[str, Any]
    items: tuple[Item, ...]

    @property
    def story(self) -> Path:
        return Path(self.manifest["story"])

    @property
    def scenes(self) -> list[dict[str, Any]]:
        return self.manifest["scenes"]

    @property
    def flags(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("flags") or [])

    def item(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)

    def file_hashes(self) -> dict[str, str]:
        """Every file the review and the publish rely on, with the sha256 the render recorded."""
        hashes = dict(self.manifest.get("files") or {})
        for item in self.items:
            hashes.update(item.files)
        return hashes


def load_run(folder: Path) -> Run:
    """The run in `folder`; RunError (one line) when it is not a run this version can review."""
    manifest_path = folder / "manifest.json"
    if not folder.exists():
        raise RunError(f"{folder} does not exist; name a run folder (where `storyreel render` "
                       "put video.mp4 and manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{folder} is not a run folder (no manifest.json); "
                       "render one: storyreel render STORY hydra.run.dir=PATH") from None
    except json.JSONDecodeError as error:
        raise RunError(f"{manifest_path}: not valid JSON ({error.msg})") from None
    if "scenes" not in manifest or "story" not in manifest:
        raise RunError(f"{folder} was rendered by an older storyreel (its manifest lists no "
                       "scenes); render it again")
    return Run(folder, manifest, tuple(_items(manifest)))


class RunError(ValueError):
    """A folder that cannot be reviewed or published (one line, exit 2)."""


def _items(manifest: dict[str, Any]) -> list[Item]:
    flags = list(manifest.get("flags") or [])
    items = []
    for scene in manifest["scenes"]:
        sid = scene["id"]
        picture = scene["picture"]
        files = [(picture["path"], picture["sha256"])]
        files += [(c["path"], c["sha256"]) for c in scene.get("candidates", [])]
        shown = _aspect_hashes(scene.get("presented"))
        content = picture["sha256"] + (f"+{text_sha256(canonical_json(shown))}" if shown else "")
        items.append(Item(sid, "scene", content, tuple(files),
                          tuple(f for f in flags if f.get("scene") == sid
                                and f.get("line") is None), scene, shown))
        for line in scene["lines"]:
            audio = line.get("audio")
            content = line["text_sha256"] + (f"+{audio['sha256']}" if audio else "")
            items.append(Item(f"{sid}:{line['index'] + 1}", "line", content,
                              ((audio["path"], audio["sha256"]),) if audio else (),
                              tuple(f for f in flags if f.get("scene") == sid
                                    and f.get("line") == line["index"]), line))
    return items


def _aspect_hashes(shown: Any) -> dict[str, str] | None:
    """`presented` as a scene's approval records it: each aspect's sha256."""
    if not isinstance(shown, dict):
        return None
    return {aspect: text_sha256(canonical_json(shown.get(aspect))) for aspect in ASPECTS}


def run_record(story: Story, drawn: Sequence[Drawn], spoken: Sequence[Spoken],
               digest: Callable[[Path], str], staging: Path,
               authored: dict[str, str], cut: Sequence[CutScene],
               music_mix: dict[str, Any] | None = None) -> dict[str, Any]:
    """What render adds to the manifest for review and publishing: `scenes` and the `files` a
    publish copies (with resolved.story), each with its sha256. `music_mix`: how the mix plays
    music (`render.mix:`'s music settings), part of each scene with music's sound."""
    return {"scenes": scene_records(story, drawn, spoken, digest, authored, cut, music_mix),
            "files": {name: digest(staging / name)
                      for name in (*PUBLISHED_FILES, "resolved.story")}}
