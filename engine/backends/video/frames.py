"""Frames of a scene as raw YUV 4:2:0: the still, its camera move, burned captions, a transition."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.backends.video.camera import picture
from engine.backends.video.caption_box import CaptionStyle, Overlay, caption_overlay
from engine.backends.video.transitions import Planes, transition_frame

Caption = tuple[str, int]
"""What a caption shows: its text and the number of the word highlighted in it (-1: none)."""


@dataclass(frozen=True)
class SceneShot:
    """Everything that shapes one scene's frames (a segment renders one, plus the next's start).

    `captions` are scene-relative [first frame, end frame), text and highlighted word (-1:
    none), one entry for each change; `captions_top` moves them to the top of the frame.
    `into_next` is how the scene gives way to the next one; it takes the last
    `transition_frames` frames.
    """

    image: Path
    camera: str | None
    frames: int
    captions: tuple[tuple[int, int, str, int], ...]
    transition_frames: int = 0
    into_next: str = "cut"
    captions_top: bool = False


def caption_at(shot: SceneShot, frame: int) -> Caption | None:
    for first, end, text, marked in shot.captions:
        if first <= frame < end:
            return text, marked
    return None


def _overlay(shot: SceneShot, caption: Caption, width: int, height: int,
             style: CaptionStyle) -> Overlay:
    text, marked = caption
    return caption_overlay(text, width, height, style, marked, shot.captions_top)


def first_frame(shot: SceneShot, width: int, height: int, style: CaptionStyle | None) -> Planes:
    """The scene's frame 0 exactly as its own segment starts (what a transition leads into)."""
    planes = picture(shot.image, width, height, shot.camera).at(0.0)
    caption = caption_at(shot, 0)
    if style is not None and caption:
        _overlay(shot, caption, width, height, style).draw_on(planes)
    return planes


def distinct_frames(shot: SceneShot, fading: bool) -> list[int]:
    """The frames where the picture changes (a still scene changes only with its captions and in
    its transition), always including the first and the last frame."""
    if shot.camera not in (None, "still"):
        return list(range(shot.frames))
    fade_from = shot.frames - (shot.transition_frames if fading else 0)
    starts = {0, shot.frames - 1, *range(fade_from, shot.frames)}
    for first, end, _, _ in shot.captions:
        starts.update(k for k in (first, end) if k < fade_from)
    return sorted(k for k in starts if 0 <= k < shot.frames)


def render_frames(shot: SceneShot, width: int, height: int, style: CaptionStyle | None,
                  following: Planes | None, only: list[int] | None = None) -> Iterator[Planes]:
    """The scene's frames as yuv420p planes (those numbered in `only`, else all); the tail
    turns into `following` by the shot's `into_next` if given. A still scene repeats the same
    arrays for frames that look alike: treat them as read-only."""
    source = picture(shot.image, width, height, shot.camera)
    overlays: dict[Caption, Overlay] = {}
    fade = shot.transition_frames if following is not None else 0
    fade_from = shot.frames - fade
    unchanged: dict[Caption | None, Planes] = {}  # a still picture: one frame per caption state
    last = max(1, shot.frames - 1)
    for k in (range(shot.frames) if only is None else only):
        caption = caption_at(shot, k) if style is not None else None
        if source.still and k < fade_from and caption in unchanged:
            yield unchanged[caption]
            continue
        planes = source.at(k / last)
        if caption:
            if caption not in overlays:
                overlays[caption] = _overlay(shot, caption, width, height, style)  # type: ignore[arg-type]
            overlays[caption].draw_on(planes)
        if k >= fade_from and following is not None:
            planes = transition_frame(shot.into_next, planes, following,
                                      (k - fade_from + 1) / (fade + 1))
        if source.still and k < fade_from:
            unchanged[caption] = planes
        yield planes


def frame_bytes(planes: Planes) -> bytes:
    """One frame as the bytes of raw yuv420p (Y, then Cb, then Cr)."""
    return b"".join(p.tobytes() for p in planes)
