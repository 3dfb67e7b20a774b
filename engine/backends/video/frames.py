"""Frames of a scene as raw YUV 4:2:0: the still, its camera move, burned captions, a transition."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from engine.backends.fonts import runs
from engine.backends.video.framing import Box, characters_in, pan_framing, zoom_framing
from engine.backends.video.text import draw_rows, pillow_font, row_width
from engine.backends.video.transitions import Planes, shift, transition_frame
from engine.captions import word_places, wrap

# The segment workers draw side by side; OpenCV's own thread pool would only fight them for the
# cores (and a row split changes no byte: every output pixel is computed alone).
cv2.setNumThreads(1)

WHITE = (255, 255, 255, 255)

ZOOM = 1.15
"""How far `slow zoom in`/`slow zoom out` go (the picture's scale at the close end)."""
PAN_ZOOM = 1.12
"""A pan looks through a window this much smaller than the picture, sliding side to side."""

# Limited-range BT.709 (what players assume for HD H.264; the stream is tagged with it).
_KR, _KB = 0.2126, 0.0722


_KG = 1 - _KR - _KB
_TO_YUV = np.array([[_KR, _KG, _KB],  # rows: Y, Cb, Cr of RGB in [0, 1], before range scaling
                    [-_KR / (2 - 2 * _KB), -_KG / (2 - 2 * _KB), 0.5],
                    [0.5, -_KG / (2 - 2 * _KR), -_KB / (2 - 2 * _KR)]])
_RANGE = np.array([[219.0], [224.0], [224.0]]) / 255.0
_TO_YUV_U8 = np.hstack((_TO_YUV * _RANGE, [[16.0], [128.0], [128.0]]))
"""RGB in 0..255 → limited-range Y, Cb, Cr in 0..255, as an affine matrix for cv2.transform."""


def rgb_to_yuv420(rgb: np.ndarray, alpha: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y (h×w) and Cb, Cr (h/2×w/2) uint8 planes of an RGB array; chroma weighted by `alpha`."""
    if alpha is None:  # a whole picture: the same sums, in OpenCV's vector loops
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = rgb.shape[:2]
        luma = cv2.transform(rgb, _TO_YUV_U8[:1])
        quarter = cv2.resize(rgb.astype(np.float32), (w // 2, h // 2),
                             interpolation=cv2.INTER_AREA)  # the mean of each 2×2 block
        chroma = cv2.transform(quarter, _TO_YUV_U8[1:])
        return luma, _to_u8(chroma[..., 0]), _to_u8(chroma[..., 1])
    rgb = rgb.astype(np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = _KR * r + (1 - _KR - _KB) * g + _KB * b
    cb = (b - luma) / (2 * (1 - _KB))
    cr = (r - luma) / (2 * (1 - _KR))
    weight = np.ones_like(luma) if alpha is None else alpha.astype(np.float32) + 1e-3
    return (_to_u8(16 + 219 * luma), _to_u8(128 + 224 * _quarter(cb, weight)),
            _to_u8(128 + 224 * _quarter(cr, weight)))


def yuv420_to_rgb(planes: Planes) -> np.ndarray:
    """An RGB frame (h×w×3 uint8) of rgb_to_yuv420's planes, chroma upsampled bilinearly."""
    luma, cb, cr = planes
    size = (luma.shape[1], luma.shape[0])
    yuv = cv2.merge((luma, cv2.resize(cb, size, interpolation=cv2.INTER_LINEAR),
                     cv2.resize(cr, size, interpolation=cv2.INTER_LINEAR))).astype(np.float32)
    scaled = np.linalg.inv(_TO_YUV) @ np.diag(1.0 / _RANGE[:, 0])  # to RGB in 0..255
    matrix = np.hstack((scaled, -scaled @ np.array([[16.0], [128.0], [128.0]])))
    return np.clip(np.rint(cv2.transform(yuv, matrix)), 0, 255).astype(np.uint8)


def _quarter(plane: np.ndarray, weight: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    num = (plane * weight).reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
    return num / weight.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))


def _to_u8(plane: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def _ease(t: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, t)))


def camera_view(camera: str | None, t: float, keep: Box | None = None
                ) -> tuple[float, float, float]:
    """(zoom, centre x, centre y) at `t` ∈ [0, 1] of the scene; centres are fractions of the
    picture. With `keep` (where the characters are), a zoom goes only as close, and a pan only
    as far, as keeps them whole in the frame."""
    e = _ease(t)
    if camera in ("slow zoom in", "slow zoom out"):
        most, cx, cy = (ZOOM, 0.5, 0.5) if keep is None else zoom_framing(keep, ZOOM)
        closeness = e if camera == "slow zoom in" else 1 - e
        return 1 + (most - 1) * closeness, cx, cy
    if camera in ("pan left", "pan right"):
        half = 0.5 / PAN_ZOOM
        left, right = (half, 1 - half) if keep is None else (pan_framing(keep, PAN_ZOOM)
                                                             or (half, 1 - half))
        start, end = (right, left) if camera == "pan left" else (left, right)
        return PAN_ZOOM, start + (end - start) * e, 0.5
    return 1.0, 0.5, 0.5


class Picture:
    """A scene's still, fitted to the frame (cover, centred), able to render any camera view.

    A zooming camera keeps the picture at up to ZOOM× the frame size when the source has the
    pixels, and samples each view with an affine warp at 1/32-pixel precision (OpenCV's
    fixed-point bilinear), so moves are smooth: no rounding of the window to whole pixels,
    which is what makes ffmpeg's zoompan judder. A pan never changes scale, so its picture is
    scaled once to a strip exactly as tall as the frame and each frame is a sub-pixel horizontal
    shift of it: a blend of two whole-pixel windows, which costs about one memory pass.
    """

    def __init__(self, path: Path, width: int, height: int, camera: str | None):
        with Image.open(path) as source:
            rgb = source.convert("RGB")
        self.width, self.height, self.camera = width, height, camera
        self.keep = characters_in(path, width, height) if camera not in (None, "still") else None
        self.still = camera in (None, "still")
        self.pan = camera in ("pan left", "pan right")
        lanczos = Image.Resampling.LANCZOS
        if self.pan:
            strip_w, strip_h = _even(width * PAN_ZOOM), _even(height * PAN_ZOOM)
            fitted = ImageOps.fit(rgb, (strip_w, strip_h), lanczos)
            top = (strip_h - height) // 2 // 2 * 2
            self.base = rgb_to_yuv420(np.asarray(fitted)[top:top + height])
            return
        room = min(rgb.width / width, rgb.height / height)
        over = 1.0 if self.still else min(max(room, 1.0), ZOOM)
        fitted = ImageOps.fit(rgb, (_even(width * over), _even(height * over)), lanczos)
        self.base = rgb_to_yuv420(np.asarray(fitted))

    def at(self, t: float) -> Planes:
        """The view at `t` ∈ [0, 1] (fresh arrays: callers may draw on them)."""
        base_h, base_w = self.base[0].shape
        if self.still and (base_w, base_h) == (self.width, self.height):
            return tuple(p.copy() for p in self.base)  # type: ignore[return-value]
        zoom, cx, cy = camera_view(self.camera, t, self.keep)
        if self.pan:
            x0 = min(max(cx * base_w - self.width / 2, 0.0), base_w - self.width)
            return (shift(self.base[0], x0, self.width), shift(self.base[1], x0 / 2, self.width // 2),
                    shift(self.base[2], x0 / 2, self.width // 2))
        w, h = base_w / zoom, base_h / zoom
        x0 = min(max(cx * base_w - w / 2, 0.0), base_w - w)
        y0 = min(max(cy * base_h - h / 2, 0.0), base_h - h)
        return (_warp(self.base[0], x0, y0, w / self.width, self.width, self.height),
                _warp(self.base[1], x0 / 2, y0 / 2, w / self.width, self.width // 2,
                      self.height // 2),
                _warp(self.base[2], x0 / 2, y0 / 2, w / self.width, self.width // 2,
                      self.height // 2))


def picture(path: Path, width: int, height: int, camera: str | None) -> Picture:
    """The Picture of a still for this frame size and camera, made once while the file stays the
    same (a scene's segment and the transition into it from the scene before share it)."""
    stat = path.stat()
    return _picture(str(path.absolute()), stat.st_mtime_ns, stat.st_size, width, height, camera)


@lru_cache(maxsize=8)
def _picture(path: str, mtime_ns: int, size: int, width: int, height: int,
             camera: str | None) -> Picture:
    return Picture(Path(path), width, height, camera)


def _warp(plane: np.ndarray, x0: float, y0: float, scale: float, width: int,
          height: int) -> np.ndarray:
    """The window at (x0, y0) of `scale` source pixels per output pixel, pixel centres mapped
    onto pixel centres (as a resize of that box would)."""
    offset = 0.5 * scale - 0.5
    matrix = np.array([[scale, 0.0, x0 + offset], [0.0, scale, y0 + offset]])
    return cv2.warpAffine(plane, matrix, (width, height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


@dataclass(frozen=True)
class CaptionStyle:
    """How burned captions look: a rounded dark box, white text, bottom centre."""

    font: Path | None
    size: float = 0.058        # font size as a fraction of the frame's shorter side
    fallbacks: tuple[Path, ...] = ()  # fonts for characters `font` lacks (CJK, emoji), in order
    width: float = 0.86        # the widest row, as a fraction of the frame width
    bottom: float = 0.06       # gap below the box (landscape), fraction of the height
    bottom_portrait: float = 0.2  # portrait frames keep clear of phone UI at the bottom
    top: float = 0.15          # gap above a box moved to the top (clear of a title banner)
    box_opacity: int = 170
    highlight: tuple[int, int, int, int] | None = None  # the word being spoken, in this colour

    @property
    def chain(self) -> tuple[Path, ...]:
        return (self.font, *self.fallbacks) if self.font is not None else self.fallbacks


@dataclass(frozen=True)
class Overlay:
    """A rendered caption: its planes premultiplied by alpha, 255 − alpha per plane, and where it
    goes (even coordinates). Drawing it is `(premultiplied + under·(255 − alpha) + 127) // 255`."""

    x: int
    y: int
    premultiplied: tuple[np.ndarray, np.ndarray, np.ndarray]
    transparency: tuple[np.ndarray, np.ndarray, np.ndarray]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the caption's box in pixels."""
        height, width = self.premultiplied[0].shape
        return width, height

    def draw_on(self, planes: Planes) -> None:
        for index, (plane, over, clear) in enumerate(zip(planes, self.premultiplied,
                                                         self.transparency)):
            scale = 1 if index == 0 else 2
            x, y = self.x // scale, self.y // scale
            h, w = min(over.shape[0], plane.shape[0] - y), min(over.shape[1], plane.shape[1] - x)
            under = plane[y:y + h, x:x + w]  # a box taller than a tiny frame is cut off
            under[:] = (over[:h, :w] + under * clear[:h, :w] + 127) // 255


def caption_size(width: int, height: int, style: CaptionStyle) -> int:
    """The captions' font size in pixels for this frame."""
    return max(8, round(min(width, height) * style.size))


def caption_limit(width: int, size: int, style: CaptionStyle) -> float:
    """How wide (pixels) a caption's row may be in a frame this wide."""
    return width * style.width - size


def caption_fits(width: int, height: int, style: CaptionStyle) -> Callable[[str], bool]:
    """Whether a caption row fits this frame, measured as it is drawn (the fallback chain)."""
    size = caption_size(width, height, style)
    limit = caption_limit(width, size, style)

    @lru_cache(maxsize=4096)  # splitting a long line asks about the same rows again and again
    def fits(row: str) -> bool:
        return row_width(row, style.chain, size) <= limit

    return fits


def caption_overlay(text: str, width: int, height: int, style: CaptionStyle, marked: int = -1,
                    top: bool = False) -> Overlay:
    """Render one caption: rows wrapped to fit, centred in a rounded box near the bottom (or the
    top); its word number `marked` (of `display_words(text)`) in the highlight colour."""
    size = caption_size(width, height, style)
    limit = caption_limit(width, size, style)
    spacing = round(size * 0.25)
    pad_x, pad_y = round(size * 0.6), round(size * 0.35)
    parts = runs(text, style.chain)
    font, scale = pillow_font(parts[0][1] if parts else None, size)
    if len({path for _, path in parts}) > 1 or scale != 1.0 or style.highlight:  # run by run
        rows = wrap(text, fits=lambda row: row_width(row, style.chain, size) <= limit) or [""]
        block = draw_rows(rows, style.chain, size, spacing, WHITE)
        box_w = min(_even(block.width + 2 * pad_x + 1), _even(width) - 2)
        box_h = _even(block.height + 2 * pad_y + 1)
        card = _card(box_w, box_h, size, style)
        places = word_places(rows)
        if 0 <= marked < len(places) and style.highlight:  # the box is the unmarked one's
            block = draw_rows(rows, style.chain, size, spacing, WHITE, places[marked],
                              style.highlight)
        block = block.crop((0, 0, min(block.width, box_w), min(block.height, box_h)))
        card.alpha_composite(block, ((box_w - block.width) // 2, pad_y))
    else:  # one font: Pillow lays the rows out at once
        rows = wrap(text, fits=lambda row: font.getlength(row) <= limit) or [""]
        probe = ImageDraw.Draw(Image.new("L", (1, 1)))
        left, top_edge, right, bottom = probe.multiline_textbbox(
            (0, 0), "\n".join(rows), font=font, spacing=spacing, align="center")
        box_w = min(_even(right - left + 2 * pad_x + 1), _even(width) - 2)
        box_h = _even(bottom - top_edge + 2 * pad_y + 1)
        card = _card(box_w, box_h, size, style)
        ImageDraw.Draw(card).multiline_text((box_w / 2, pad_y - top_edge), "\n".join(rows),
                                            font=font, spacing=spacing, align="center",
                                            anchor="ma", fill=WHITE)
    rgba = np.asarray(card)
    alpha = rgba[..., 3]
    planes = rgb_to_yuv420(rgba[..., :3], alpha)
    half = _to_u8(alpha.reshape(box_h // 2, 2, box_w // 2, 2).mean(axis=(1, 3)))
    alphas = (alpha.astype(np.uint16), half.astype(np.uint16), half.astype(np.uint16))
    x, y = caption_corner(box_w, box_h, width, height, style, top)
    return Overlay(x, y, tuple(p * a for p, a in zip(planes, alphas)),  # type: ignore[arg-type]
                   tuple(255 - a for a in alphas))  # type: ignore[arg-type]


def caption_corner(box_w: int, box_h: int, width: int, height: int, style: CaptionStyle,
                   top: bool) -> tuple[int, int]:
    """Where a caption box of this size goes (even coordinates): centred, near the bottom, or
    near the top."""
    x = (width - box_w) // 2 // 2 * 2
    if top:
        return x, min(max(0, height - box_h), round(height * style.top)) // 2 * 2
    margin = style.bottom_portrait if height > width else style.bottom
    return x, max(0, (height - box_h - round(height * margin)) // 2 * 2)


def _card(box_w: int, box_h: int, size: int, style: CaptionStyle) -> Image.Image:
    """The caption's rounded translucent box, nothing on it yet."""
    card = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    ImageDraw.Draw(card).rounded_rectangle((0, 0, box_w - 1, box_h - 1),
                                           radius=round(size * 0.45),
                                           fill=(18, 18, 32, style.box_opacity))
    return card


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
