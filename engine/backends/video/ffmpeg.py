"""`video=ffmpeg`: per-scene H.264 segments encoded in this process, then concat and mux by ffmpeg.

Each scene's segment is encoded once into `workdir`, named by a hash of everything that shapes
its bytes, so a re-cut after editing one line encodes only that line's scene. The narration's
AAC comes with the request (`CutRequest.aac`, made by piece: `engine.aac_pieces`); without it, it
is encoded by a second ffmpeg while the segments encode (`ffmpeg_narration`: kept in `workdir`,
named by a hash of the WAV). The final video is a stream copy of the segments, that AAC and a soft subtitle track
(mov_text).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from engine.backends.fonts import find_font, find_fonts, runs, undrawable
from engine.backends.video import CutRequest, CutStats, Segment
from engine.backends.video.caption_box import CaptionStyle, caption_fits
from engine.backends.video.caption_plan import (PLACES, bottom_band_top, caption_entries,
                                               captions_on_top)
from engine.backends.video.chapters import chapter_input, tag_chapter_track
from engine.backends.video.encoders import (check_encoder, check_preset, check_tune,
                                            codec_options, resolve)
from engine.backends.video.ffmpeg_narration import NarrationEncode
from engine.backends.video.ffmpeg_tool import (bitexact, ffmpeg_exe, ffmpeg_version,
                                               run_ffmpeg)
from engine.backends.video.frames import SceneShot, distinct_frames, first_frame, render_frames
from engine.backends.video.libav import libav_version
from engine.backends.video.segment_encoder import encode_segment
from engine.backends.video.transitions import Planes
from engine.captions import MAX_CHARS, caption_text, columns, srt_text
from engine.errors import BackendError, Stopped, stop_if
from engine.files import replacing, write_atomically

log = logging.getLogger(__name__)

SEGMENT_VERSION = 6
"""Bumped when the frame rendering changes what a segment looks like."""
HIGHLIGHT = (255, 214, 80, 255)
"""The spoken word's colour in burned captions (`highlight_words`)."""


@cache
def caption_font(name: str) -> Path | None:
    """The captions' font file (None: Pillow's default font, with a warning)."""
    path = find_font(name)
    if path is None:
        log.warning("video=ffmpeg: font %s not found; captions use Pillow's default font", name)
    return path


def _file_digest(path: Path) -> str:
    stat = path.stat()
    return _digest(str(path.absolute()), stat.st_mtime_ns, stat.st_size)


@cache
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """A file's sha256, remembered while its path, mtime and size stay the same."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class _Job:
    """One segment to make: its scene, the next scene's start (for a transition), its file."""

    segment: Segment
    shot: SceneShot
    following: SceneShot | None
    path: Path


class FFmpegEditor:
    """Cuts scenes into segments with PyAV's libx264 (or h264_nvenc) in this process, and joins
    them with the narration, subtitles and chapters by the ffmpeg that imageio-ffmpeg ships."""

    def __init__(self, burn_subtitles: bool = True, crf: int = 20, preset: str = "veryfast",
                 tune: str | None = None, keyint: int = 250, x264_params: str | None = "me=dia",
                 audio_bitrate: str = "128k", threads: int = 1,
                 workers: int | None = None, font: str = "DejaVuSans-Bold.ttf",
                 caption_size: float = 0.058, fallback_fonts: Sequence[str] = (),
                 encoder: str = "libx264", highlight_words: bool = False,
                 caption_place: str = "auto"):
        if caption_place not in PLACES:
            raise ValueError(f"video.caption_place is one of {', '.join(PLACES)}, "
                             f"not {caption_place!r}")
        self.burn_subtitles = burn_subtitles
        self.encoder = check_encoder(str(encoder))
        self.highlight_words = bool(highlight_words)
        self.caption_place = caption_place
        self.crf, self.keyint = int(crf), int(keyint)
        self.preset, self.tune = check_preset(str(preset), self.encoder), check_tune(tune)
        self.x264_params = x264_params
        self.audio_bitrate = str(audio_bitrate)
        self.aac_bitrate: str | None = self.audio_bitrate  # the mux copies an AAC narration
        # x264's output depends on its thread count, so it is fixed (part of the identity);
        # speed comes from encoding several segments at once, which changes no byte.
        self.threads = int(threads)
        self.workers = int(workers) if workers else max(1, os.cpu_count() or 1)
        self.font_name = font
        self.fallback_fonts = tuple(str(name) for name in fallback_fonts)
        self.caption_size = float(caption_size)
        self._planned: tuple[CutRequest, list[_Job]] | None = None  # encode_segments' jobs

    # ---- identity -----------------------------------------------------------------------------
    def _style(self) -> CaptionStyle | None:
        if not self.burn_subtitles:
            return None
        return CaptionStyle(font=caption_font(self.font_name), size=self.caption_size,
                            fallbacks=find_fonts(self.fallback_fonts),
                            highlight=HIGHLIGHT if self.highlight_words else None)

    def caption_band(self, width: int, height: int) -> float:
        """Where a two-row caption at the bottom begins (fraction of the height; 1: none burned):
        what the illustrator keeps the characters above."""
        style = self._style()
        return 1.0 if style is None else bottom_band_top(width, height, style)

    def caption_fits(self, width: int, height: int) -> Callable[[str], bool]:
        """Whether a caption row fits a frame this size as it is burned in (without burned
        captions: the soft track's row length)."""
        style = self._style()
        if style is None:
            return lambda row: columns(row) <= MAX_CHARS
        return caption_fits(width, height, style)

    def identity(self) -> dict[str, Any]:
        import cv2
        import PIL

        style = self._style()
        return {"backend": "video=ffmpeg", "ffmpeg": ffmpeg_version(),
                "segments_encoded_by": libav_version(), "pillow": PIL.__version__,
                "opencv": cv2.__version__,
                "segment_version": SEGMENT_VERSION, "encoder": self._encoder_settings(),
                "audio_bitrate": self.audio_bitrate,
                "captions": None if style is None else {"place": self.caption_place,
                    **{k: v for k, v in asdict(style).items() if k not in ("font", "fallbacks")},
                    "font": _file_digest(style.font) if style.font else "pillow-default",
                    "fallbacks": {path.name: _file_digest(path) for path in style.fallbacks}}}

    def _encoder_settings(self) -> dict[str, Any]:
        codec = resolve(self.encoder)
        if codec == "h264_nvenc":
            return {"codec": codec, "profile": "high", "pix_fmt": "yuv420p", "cq": self.crf,
                    "preset": self.preset, "keyint": self.keyint, "colors": "bt709/tv"}
        return {"codec": codec, "profile": "high", "pix_fmt": "yuv420p", "crf": self.crf,
                "preset": self.preset, "tune": self.tune, "keyint": self.keyint,
                "x264_params": self.x264_params,
                "threads": self.threads, "colors": "bt709/tv"}

    # ---- the verb -----------------------------------------------------------------------------
    def cut(self, request: CutRequest) -> CutStats:
        _check(request)
        # The AAC encode (about a second per two minutes of narration, one core) runs beside the
        # segment encodes instead of after them, so the final mux only copies streams.
        narration = (None if request.aac is not None
                     else NarrationEncode(request.audio, request.workdir, self.audio_bitrate))
        try:
            jobs = self._jobs(request)
            stats = self._encode_segments(jobs, request)
            audio = request.aac if narration is None else narration.finish()
        except BaseException:
            if narration is not None:
                narration.abandon()
            raise
        self._mux(request, [job.path for job in jobs], audio)
        return replace(stats, fonts=self._fonts_used(request), copied_aac=narration is None)

    def encode_segments(self, request: CutRequest, stop: threading.Event | None = None
                        ) -> CutStats:
        """Encode the segments `cut` needs that `workdir` lacks (the request's soundtrack need
        not exist yet): the cut stage makes the narration meanwhile; `cut` then reuses them.
        Once `stop` is set (the narration failed) the encodes end with Stopped at a frame."""
        _check(request)
        return self._encode_segments(self._jobs(request, keep=True), request, stop)

    def _fonts_used(self, request: CutRequest) -> tuple[str, ...]:
        """The font files the burned captions are drawn with; a caption with characters no font
        draws is named in a warning (they show as boxes)."""
        style = self._style()
        if style is None:
            return ()
        used: set[Path | None] = set()
        for cue in request.cues:
            text = caption_text(cue)
            used.update(font for _, font in runs(text, style.chain))
            missing = undrawable(text, style.chain)
            if missing:
                log.warning("video=ffmpeg: no caption font draws %s in %r (shown as boxes): "
                            "install one (scripts/setup.sh installs Noto CJK and Noto Color "
                            "Emoji) and name it in video.fallback_fonts", " ".join(missing), text)
        return tuple(str(font) if font else "pillow-default"
                     for font in (*style.chain, None) if font in used)

    def _encode_segments(self, jobs: list[_Job], request: CutRequest,
                         stop: threading.Event | None = None) -> CutStats:
        """Encode the jobs whose segment is not in `workdir` yet, several at once."""
        # Longest first (a moving camera costs about three still frames a frame), so the last
        # segment to finish is a short one and no worker idles long.
        missing = {job.path: job for job in jobs if not job.path.exists()}  # twins encode once
        todo = sorted(missing.values(),
                      key=lambda job: -job.shot.frames * (1 if job.shot.camera in (None, "still")
                                                          else 3))
        for job in jobs:
            if job.path.exists():
                os.utime(job.path)  # last use, for whoever cleans the workdir
        if todo:
            _all_or_none(self._encode, todo, request, stop or threading.Event(), self.workers)
        return CutStats(encoded=tuple(j.segment.scene_id for j in jobs if j.path in missing),
                        reused=tuple(j.segment.scene_id for j in jobs if j.path not in missing))

    def _jobs(self, request: CutRequest, keep: bool = False) -> list[_Job]:
        """Each segment's job. `encode_segments` keeps its jobs (`keep`) for the `cut` of the same
        request that follows it (whatever its soundtrack), which takes them: placing captions
        decodes and measures the pictures."""
        video = replace(request, audio=Path(), aac=None)
        planned, self._planned = self._planned, None
        if planned is not None and planned[0] == video:
            return planned[1]
        jobs = self._plan_jobs(request)
        if keep:
            self._planned = (video, jobs)
        return jobs

    def _plan_jobs(self, request: CutRequest) -> list[_Job]:
        shots = [self._shot(segment, request) for segment in request.segments]
        identity = self.identity()
        jobs = []
        for index, (segment, shot) in enumerate(zip(request.segments, shots)):
            following = None
            if shot.transition_frames and index + 1 < len(shots):
                following = shots[index + 1]
            key = {"identity": identity, "size": [request.width, request.height, request.fps],
                   "shot": _shot_key(shot),
                   "following": _first_frame_key(following) if following else None}
            digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
            jobs.append(_Job(segment, shot, following, request.workdir / f"seg-{digest[:32]}.mp4"))
        return jobs

    def _shot(self, segment: Segment, request: CutRequest) -> SceneShot:
        """The scene's frames' recipe, with its cues in scene-relative frame numbers, and its
        captions at the top when they would cover its characters at the bottom."""
        style = self._style()
        captions = caption_entries(request.cues, round(segment.start * request.fps),
                                   segment.frames, request.fps, style is not None
                                   and style.highlight is not None)
        top = style is not None and captions_on_top(
            segment.image, segment.camera, [text for _, _, text, _ in captions], request.width,
            request.height, style, self.caption_place)
        transition = segment.into_next or "cut"
        frames = segment.transition_frames if transition != "cut" else 0
        return SceneShot(image=segment.image, camera=segment.camera, frames=segment.frames,
                         captions=captions, transition_frames=frames,
                         into_next=transition if frames else "cut", captions_top=top)

    # ---- encoding -----------------------------------------------------------------------------
    def _encode(self, job: _Job, request: CutRequest, stop: threading.Event) -> None:
        style = self._style()
        width, height = request.width, request.height
        following = (first_frame(job.following, width, height, style)
                     if job.following is not None else None)
        sent = distinct_frames(job.shot, following is not None)  # each drawn once
        pictures = render_frames(job.shot, width, height, style, following, only=sent)
        codec = resolve(self.encoder)
        with replacing(job.path) as temp:
            encode_segment(zip(sent, _until(stop, pictures)), job.shot.frames, temp,
                           codec=codec, options=self._codec_options(codec),
                           threads=self.threads, fps=request.fps, width=width, height=height,
                           what=f"scene '{job.segment.scene_id}'",
                           where=f"scene {job.segment.scene_id}", named=job.path)
        log.debug("encoded scene %s → %s", job.segment.scene_id, job.path.name)

    def _codec_options(self, codec: str) -> dict[str, str]:
        return codec_options(codec, crf=self.crf, preset=self.preset, tune=self.tune,
                             keyint=self.keyint, x264_params=self.x264_params)

    # ---- the final video ----------------------------------------------------------------------
    def _mux(self, request: CutRequest, segments: list[Path], audio: Path) -> None:
        """Segments and the narration's AAC by stream copy + captions as mov_text + a chapter
        per scene (`chapters`), +faststart."""
        with tempfile.TemporaryDirectory(prefix=".mux-", dir=request.workdir) as folder:
            listing = Path(folder) / "segments.txt"
            listing.write_text("ffconcat version 1.0\n" + "".join(
                f"file '{_concat_escape(p)}'\n" for p in segments))
            subtitles = write_atomically(
                Path(folder) / "captions.srt",
                srt_text(request.cues) or "\n")
            has_cues = any(c.text.strip() for c in request.cues)
            command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                       "-f", "concat", "-safe", "0", "-i", str(listing),
                       "-i", str(audio)]
            maps = ["-map", "0:v:0", "-map", "1:a:0",
                    "-metadata:s:a:0", f"language={request.language}"]  # narrated in it too
            if has_cues:
                command += ["-i", str(subtitles)]
                maps += ["-map", "2:s:0", "-c:s", "mov_text", "-metadata:s:s:0",
                         f"language={request.language}"]
            chapters = 3 if has_cues else 2
            command += chapter_input(request.segments, request.fps, Path(folder))
            # `-b:a` on a copied stream only sets the nominal bitrate written in the header
            # (esds, btrt), as the encoder would: the file is the one a one-step encode makes.
            command += [*maps, "-c:v", "copy", "-c:a", "copy", "-b:a", self.audio_bitrate,
                        *bitexact(chapters), "-movflags", "+faststart",
                        "-f", "mp4", str(request.output)]
            run_ffmpeg(command, "video=ffmpeg", "muxing the video", output=request.output)
            tag_chapter_track(request.output, request.language)  # as the other tracks


def _all_or_none(encode: Callable[[_Job, CutRequest, threading.Event], None], jobs: list[_Job],
                 request: CutRequest, stop: threading.Event, workers: int) -> None:
    """Encode the jobs, several at once; the first failure (or Ctrl-C) stops the others at
    their next frame, and is what is raised."""
    pool = ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="segment")
    futures = [pool.submit(encode, job, request, stop) for job in jobs]
    try:
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f.exception() for f in futures if f.done() and not f.cancelled()
                  and f.exception() is not None]
        if failed:  # a job's own failure before one it stopped (or the caller's stop)
            raise next((e for e in failed if not isinstance(e, Stopped)), failed[0])
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _until(stop: threading.Event, frames: Iterator[Planes]) -> Iterator[Planes]:
    """The frames, one by one, until `stop` is set (then Stopped)."""
    for frame in frames:
        stop_if(stop)
        yield frame


def _check(request: CutRequest) -> None:
    """BackendError for a request no segment can be made of; its workdir made."""
    if request.width % 2 or request.height % 2:
        raise BackendError("video=ffmpeg", f"the frame size must be even for yuv420p, "
                           f"not {request.width}×{request.height}",
                           hint="set render.width and render.height to even numbers")
    if not request.segments:
        raise BackendError("video=ffmpeg", "nothing to cut: the story has no scenes")
    request.workdir.mkdir(parents=True, exist_ok=True)


def _shot_key(shot: SceneShot) -> dict[str, Any]:
    return {"version": SEGMENT_VERSION, "image": _file_digest(shot.image), "camera": shot.camera,
            "frames": shot.frames, "captions": [list(c) for c in shot.captions],
            "captions_top": shot.captions_top,
            "transition": [shot.into_next, shot.transition_frames]}


def _first_frame_key(shot: SceneShot) -> dict[str, Any]:
    """What the next scene's frame 0 depends on (a transition leads into exactly that)."""
    opening = [[text, marked] for first, end, text, marked in shot.captions if first <= 0 < end]
    return {"image": _file_digest(shot.image), "camera": shot.camera, "caption": opening,
            "captions_top": shot.captions_top}


def _concat_escape(path: Path) -> str:
    return str(path.absolute()).replace("'", "'\\''")
