"""`video=moviepy`: the same timeline through moviepy 2, with its vfx/afx effects per scene.

Every scene's frames are `video=ffmpeg`'s own (picture, camera, burned captions, transition,
`engine.backends.video.frames`), turned into RGB and handed to moviepy as one clip per scene;
the effects a scene is given are applied to its clip (video) and to its stretch of the
narration (audio), and moviepy's `write_videofile` encodes the whole video in one go. A final
stream copy adds the soft subtitle track, as `video=ffmpeg` has. Slower than `video=ffmpeg` (no
segments kept between runs, every frame drawn and converted), which stays the default.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.backends.video import CutRequest, CutStats
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.backends.video.chapters import chapter_input, tag_chapter_track
from engine.backends.video.ffmpeg_tool import BITEXACT, bitexact, ffmpeg_exe, run_ffmpeg
from engine.backends.video.frames import SceneShot, first_frame, render_frames
from engine.backends.video.transitions import Planes
from engine.backends.video.yuv import yuv420_to_rgb
from engine.captions import srt_text
from engine.errors import BackendError, ConfigError, MissingDependency
from engine.files import write_atomically

Effect = tuple[str, dict[str, Any]]
"""An effect's class name in moviepy.video.fx or moviepy.audio.fx, and its arguments."""

def parse_effects(effects: Mapping[str, Any] | None) -> dict[str, tuple[Effect, ...]]:
    """`video.effects` as {scene id: ((name, arguments), ...)}: each entry a name
    (`BlackAndWhite`) or a one-key mapping of a name to its arguments (`{FadeIn: {duration: 1}}`)."""
    parsed: dict[str, tuple[Effect, ...]] = {}
    for scene, entries in (effects or {}).items():
        if isinstance(entries, (str, Mapping)):
            entries = [entries]
        found: list[Effect] = []
        for entry in entries:
            if isinstance(entry, str):
                found.append((entry, {}))
            elif isinstance(entry, Mapping) and len(entry) == 1:
                name, arguments = next(iter(entry.items()))
                found.append((str(name), {str(k): v for k, v in dict(arguments or {}).items()}))
            else:
                raise ConfigError(f"video.effects.{scene}: an effect is a name or "
                                  f"{{Name: {{argument: value}}}}, not {entry!r}")
        parsed[str(scene)] = tuple(found)
    return parsed


def effect_class(name: str) -> tuple[str, type]:
    """("vfx" or "afx", the class) of a moviepy effect's name (ConfigError naming the choices)."""
    from moviepy.audio import fx as afx
    from moviepy.video import fx as vfx

    for kind, module in (("vfx", vfx), ("afx", afx)):
        found = getattr(module, name, None)
        if isinstance(found, type):
            return kind, found
    known = sorted(n for module in (vfx, afx) for n in module.__all__)
    raise ConfigError(f"video.effects: no moviepy effect {name!r}; known: {', '.join(known)}")


class MoviePyEditor(FFmpegEditor):
    """Cuts through moviepy; frames, captions, crf and preset as `video=ffmpeg`'s."""

    # moviepy renders the whole video in `cut`: no segments to encode beforehand (the cut stage
    # makes the narration first when an editor has no `encode_segments`).
    encode_segments = None

    def __init__(self, effects: Mapping[str, Any] | None = None, burn_subtitles: bool = True,
                 crf: int = 20, preset: str = "veryfast", tune: str | None = None,
                 keyint: int = 250, x264_params: str | None = "me=dia",
                 audio_bitrate: str = "128k", threads: int = 1,
                 font: str = "DejaVuSans-Bold.ttf", caption_size: float = 0.058,
                 fallback_fonts: Sequence[str] = ()):
        super().__init__(burn_subtitles=burn_subtitles, crf=crf, preset=preset, tune=tune,
                         keyint=keyint, x264_params=x264_params, audio_bitrate=audio_bitrate,
                         threads=threads, font=font, caption_size=caption_size,
                         fallback_fonts=fallback_fonts)
        self.aac_bitrate = None  # moviepy encodes the narration's WAV itself
        try:
            import moviepy  # noqa: F401
        except ImportError as error:
            raise MissingDependency("video=moviepy", "moviepy 2",
                                    "pip install 'storyreel[moviepy]'") from error
        self.effects = parse_effects(effects)
        for entries in self.effects.values():
            for name, _ in entries:
                effect_class(name)

    def identity(self) -> dict[str, Any]:
        import moviepy

        return {**super().identity(), "backend": "video=moviepy", "moviepy": moviepy.__version__,
                "effects": {scene: [[name, args] for name, args in entries]
                            for scene, entries in sorted(self.effects.items())}}

    def cut(self, request: CutRequest) -> CutStats:
        if request.width % 2 or request.height % 2 or not request.segments:
            return super().cut(request)  # its one-line refusals
        unknown = sorted(set(self.effects) - {s.scene_id for s in request.segments})
        if unknown:
            raise ConfigError(f"video.effects names scene(s) the story does not have: "
                              f"{', '.join(unknown)}")
        request.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".moviepy-", dir=request.workdir) as folder:
            encoded = Path(folder) / "encoded.mp4"
            self._write(request, encoded, Path(folder))
            self._add_subtitles(request, encoded)
        return CutStats(encoded=tuple(s.scene_id for s in request.segments),
                        fonts=self._fonts_used(request))

    def _write(self, request: CutRequest, out: Path, scratch: Path) -> None:
        from moviepy import AudioFileClip, VideoClip

        fps = request.fps
        shots = [self._shot(segment, request) for segment in request.segments]
        clips = [self._scene_clip(request, shots, index) for index in range(len(shots))]
        firsts = np.cumsum([0] + [shot.frames for shot in shots])
        total = int(firsts[-1])

        def frame(t: float) -> np.ndarray:
            number = min(max(round(t * fps), 0), total - 1)
            index = int(np.searchsorted(firsts, number, side="right")) - 1
            return clips[index].get_frame((number - firsts[index]) / fps)

        narration = AudioFileClip(str(request.audio))
        sound = self._sound(narration, request, shots)
        video = VideoClip(frame, duration=(total + 0.5) / fps)  # moviepy rounds frames down
        video = video.with_audio(sound.with_duration(min(sound.duration, total / fps)))
        params = ["-crf", str(self.crf), "-profile:v", "high", "-g", str(self.keyint),
                  *(["-tune", self.tune] if self.tune else []),
                  *(["-x264-params", self.x264_params] if self.x264_params else []),
                  # moviepy hands ffmpeg RGB: back to BT.709 limited range, tagged so
                  "-vf", ("scale=out_color_matrix=bt709:out_range=tv,setparams=colorspace=bt709:"
                          "color_primaries=bt709:color_trc=bt709:range=tv"),
                  "-frames:v", str(total), *BITEXACT]
        try:
            video.write_videofile(str(out), fps=fps, codec="libx264", preset=self.preset,
                                  audio_codec="aac", audio_bitrate=self.audio_bitrate,
                                  audio_fps=48_000, temp_audiofile_path=str(scratch),
                                  threads=self.threads, ffmpeg_params=params,
                                  pixel_format="yuv420p", logger=None)
        except OSError as error:
            raise BackendError("video=moviepy", f"moviepy's encode failed: "
                               f"{str(error).strip().splitlines()[-1][:400]}") from error
        finally:
            narration.close()

    def _sound(self, narration: Any, request: CutRequest, shots: list[SceneShot]) -> Any:
        """The narration, or with audio effects each scene's stretch with its own."""
        from moviepy import concatenate_audioclips

        if not any(effect_class(name)[0] == "afx" for entries in self.effects.values()
                   for name, _ in entries):
            return narration
        pieces = []
        for segment, shot in zip(request.segments, shots):
            start = round(segment.start * request.fps) / request.fps
            end = min(start + shot.frames / request.fps, narration.duration)
            pieces.append(self._apply(narration.subclipped(start, end), segment.scene_id, "afx"))
        return concatenate_audioclips(pieces)

    def _scene_clip(self, request: CutRequest, shots: list[SceneShot], index: int) -> Any:
        """Scene `index` as a moviepy clip of its RGB frames, with its video effects."""
        from moviepy import VideoClip

        shot, fps = shots[index], request.fps
        following = None
        if shot.transition_frames and index + 1 < len(shots):
            following = first_frame(shots[index + 1], request.width, request.height,
                                    self._style())
        frames = _SceneFrames(lambda start: render_frames(
            shot, request.width, request.height, self._style(), following,
            only=list(range(start, shot.frames))))
        clip = VideoClip(lambda t: frames.at(min(round(t * fps), shot.frames - 1)),
                         duration=shot.frames / fps)
        return self._apply(clip, request.segments[index].scene_id, "vfx")

    def _apply(self, clip: Any, scene_id: str, kind: str) -> Any:
        """The clip with the scene's effects of `kind` ("vfx" or "afx"); its length kept."""
        wanted = [effect_class(name)[1](**args) for name, args in self.effects.get(scene_id, ())
                  if effect_class(name)[0] == kind]
        if not wanted:
            return clip
        changed = clip.with_effects(wanted)
        if abs(changed.duration - clip.duration) > 1e-6:
            raise ConfigError(f"video.effects.{scene_id}: effects that change a scene's length "
                              f"are not supported (the narration sets it)")
        return changed

    def _add_subtitles(self, request: CutRequest, encoded: Path) -> None:
        """moviepy's file + the soft subtitle track, language tags and a chapter per scene
        (`chapters`), by stream copy."""
        command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                   "-i", str(encoded)]
        maps = ["-map", "0:v:0", "-map", "0:a:0", "-metadata:s:a:0",
                f"language={request.language}"]
        if any(cue.text.strip() for cue in request.cues):
            srt = write_atomically(encoded.with_suffix(".srt"), srt_text(request.cues))
            command += ["-i", str(srt)]
            maps += ["-map", "1:s:0", "-c:s", "mov_text",
                     "-metadata:s:s:0", f"language={request.language}"]
        chapters = command.count("-i")
        command += chapter_input(request.segments, request.fps, encoded.parent)
        run_ffmpeg([*command, *maps, "-c:v", "copy", "-c:a", "copy", *bitexact(chapters),
                    "-movflags", "+faststart", "-f", "mp4", str(request.output)],
                   "video=moviepy", "adding the subtitle track", output=request.output)
        tag_chapter_track(request.output, request.language)  # as the other tracks


class _SceneFrames:
    """A scene's RGB frames by number, drawn in order (a jump back starts drawing again)."""

    def __init__(self, frames_from: Callable[[int], Iterator[Planes]]):
        self.frames_from = frames_from
        self.next_number = 0
        self.iterator: Iterator[Planes] | None = None
        self.last: tuple[int, np.ndarray] | None = None

    def at(self, number: int) -> np.ndarray:
        if self.last is not None and self.last[0] == number:
            return self.last[1]
        if self.iterator is None or number < self.next_number:
            self.iterator, self.next_number = self.frames_from(number), number
        while True:
            planes = next(self.iterator)
            self.next_number += 1
            if self.next_number > number:
                self.last = (number, yuv420_to_rgb(planes))
                return self.last[1]
