"""Baselines for `assemble.py`: a hand-written zoompan + xfade pipeline, the x264 floor, and SSIM.

- `ken_burns`: what an author would write by hand with ffmpeg's filters: each still through
  `zoompan` along the same camera paths (eased like ours), `xfade` for the transitions, `concat`
  for cuts, libass `subtitles` for burned captions, the same x264 settings and AAC narration.
- `encode_floor`: x264 alone, with the editor's settings and its own threading, encoding frames
  that are already decoded (a raw file in the page cache): what no assembly can beat. Two ways:
  the ffmpeg binary reading the file, and PyAV's libx264 (the one `video=ffmpeg` encodes its
  segments with) in this process, handed the file's frames (`in_process=True`).
- `reference_frames` + `ssim`: quality against the exact camera paths drawn at high quality
  (Lanczos from the fitted RGB picture, in floating point, no captions, never encoded).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from engine.backends.video.camera import PAN_ZOOM, ZOOM, camera_view
from engine.backends.video.ffmpeg import FFmpegEditor, ffmpeg_exe
from engine.backends.video.yuv import rgb_to_yuv420

QUIET = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
XFADE = {"crossfade": "fade", "dissolve": "dissolve", "fade through black": "fadeblack",
         "wipe left": "wipeleft", "wipe right": "wiperight", "wipe up": "wipeup",
         "wipe down": "wipedown", "slide left": "slideleft", "slide right": "slideright",
         "slide up": "slideup", "slide down": "slidedown", "circle open": "circleopen",
         "circle close": "circleclose"}


def _x264(editor: FFmpegEditor) -> list[str]:
    return ["-c:v", "libx264", "-preset", editor.preset, "-crf", str(editor.crf),
            "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", str(editor.keyint),
            *(["-x264-params", editor.x264_params] if editor.x264_params else [])]


def _zoompan(camera: str | None, frames: int, held: int, width: int, height: int,
             fps: int) -> str:
    """One scene's `scale,zoompan`: its camera path over `frames`, after `held` frames of its
    first view (while the scene before transitions into it)."""
    t = f"min(1\\,max(0\\,on-{held})/{max(1, frames - 1)})"
    ease = f"(0.5-0.5*cos(PI*{t}))"
    if camera in ("pan left", "pan right"):
        scaled = f"scale={round(width * PAN_ZOOM)}:{round(height * PAN_ZOOM)}"
        half = 0.5 / PAN_ZOOM
        start, end = (1 - half, half) if camera == "pan left" else (half, 1 - half)
        x = f"iw*({start}+({end - start})*{ease})-iw/zoom/2"
        return (f"{scaled},zoompan=z={PAN_ZOOM}:x='{x}':y='(ih-ih/zoom)/2':d={frames + held}:"
                f"s={width}x{height}:fps={fps}")
    if camera in ("slow zoom in", "slow zoom out"):
        z = (f"1+{ZOOM - 1}*{ease}" if camera == "slow zoom in" else f"{ZOOM}-{ZOOM - 1}*{ease}")
    else:
        z = "1"
    return (f"scale={width}:{height},zoompan=z='{z}':x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2':"
            f"d={frames + held}:s={width}x{height}:fps={fps}")


def ken_burns(images: Sequence[Path], cameras: Sequence[str | None],
              transitions: Sequence[str | None], frames: Sequence[int],
              transition_frames: Sequence[int], narration: Path | None, subtitles: Path | None,
              out: Path, width: int, height: int, fps: int, editor: FFmpegEditor) -> None:
    """The hand-written pipeline; `transitions[i]` is how scene i gives way to the next."""
    inputs, chains = [], []
    held = 0
    for index, (image, camera, count) in enumerate(zip(images, cameras, frames)):
        inputs += ["-i", str(image)]
        chains.append(f"[{index}:v]{_zoompan(camera, count, held, width, height, fps)},"
                      f"format=yuv420p,settb=1/{fps}[s{index}]")
        held = transition_frames[index] if transitions[index] not in (None, "cut") else 0
    stream, length = "[s0]", frames[0]
    for index in range(1, len(images)):
        name, overlap = transitions[index - 1], transition_frames[index - 1]
        if name in (None, "cut") or not overlap:
            chains.append(f"{stream}[s{index}]concat=n=2:v=1:a=0,settb=1/{fps}[j{index}]")
        else:
            chains.append(f"{stream}[s{index}]xfade=transition={XFADE[name]}:"
                          f"duration={overlap / fps}:offset={(length - overlap) / fps}[j{index}]")
        stream, length = f"[j{index}]", length + frames[index]
    last = f"{stream}setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
    if subtitles is not None:
        last += f",subtitles={subtitles}"
    chains.append(last + "[v]")
    audio = ["-i", str(narration), "-map", f"{len(images)}:a", "-c:a", "aac", "-b:a", "128k",
             "-ar", "48000"] if narration is not None else ["-an"]
    subprocess.run([*QUIET, *inputs, *audio[:2], "-filter_complex", ";".join(chains),
                    "-map", "[v]", *audio[2:], *_x264(editor), "-frames:v", str(sum(frames)),
                    "-movflags", "+faststart", str(out)], check=True)


def decode_raw(video: Path, raw: Path) -> None:
    """The video's frames, decoded once, as a raw yuv420p file (the floor's input)."""
    subprocess.run([*QUIET, "-i", str(video), "-map", "0:v", "-f", "rawvideo",
                    "-pix_fmt", "yuv420p", str(raw)], check=True)


def encode_floor(raw: Path, out: Path, width: int, height: int, fps: int,
                 editor: FFmpegEditor, in_process: bool = False) -> None:
    """x264 alone on decoded frames: the editor's settings, x264's own threads."""
    if not in_process:
        subprocess.run([*QUIET, "-f", "rawvideo", "-pix_fmt", "yuv420p",
                        "-s", f"{width}x{height}", "-framerate", str(fps), "-i", str(raw),
                        *_x264(editor), "-an", str(out)], check=True)
        return
    options = {"preset": editor.preset, "crf": str(editor.crf), "profile": "high",
               "g": str(editor.keyint),
               **({"x264-params": editor.x264_params} if editor.x264_params else {})}
    encode_raw(raw, out, width, height, fps, "libx264", options)


def encode_raw(raw: Path, out: Path, width: int, height: int, fps: int, codec: str,
               options: dict[str, str], threads: int = 0) -> None:
    """The raw yuv420p file's frames encoded in this process by `codec` (PyAV), with `threads`
    (0: the encoder's own choice)."""
    import av

    frames = np.memmap(raw, np.uint8, "r").reshape(-1, height * 3 // 2, width)
    with av.open(str(out), "w", format="mp4") as sink:
        stream = sink.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = threads
        for number, planes in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = number
            for packet in stream.encode(frame):
                sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)


def reference_frames(images: Sequence[Path], cameras: Sequence[str | None],
                     transitions: Sequence[str | None], frames: Sequence[int],
                     transition_frames: Sequence[int], every: int, out: Path,
                     width: int, height: int) -> int:
    """Every `every`-th frame of the story's exact motion, drawn with Lanczos in floating point
    from the fitted RGB pictures (crossfades blended in RGB), as raw yuv420p; returns the count."""
    fitted: dict[int, Image.Image] = {}

    def view(index: int, t: float) -> np.ndarray:
        camera = cameras[index]
        if index not in fitted:
            with Image.open(images[index]) as source:
                rgb = source.convert("RGB")
            scale = PAN_ZOOM if camera in ("pan left", "pan right") else min(
                max(min(rgb.width / width, rgb.height / height), 1.0), ZOOM)
            fitted[index] = ImageOps.fit(rgb, (round(width * scale), round(height * scale)),
                                         Image.Resampling.LANCZOS)
        base = fitted[index]
        zoom, cx, cy = camera_view(camera, t)
        w, h = base.width / zoom, base.height / zoom
        x0 = min(max(cx * base.width - w / 2, 0.0), base.width - w)
        y0 = min(max(cy * base.height - h / 2, 0.0), base.height - h)
        box = (x0, y0, x0 + w, y0 + h)
        return np.asarray(base.resize((width, height), Image.Resampling.LANCZOS, box=box),
                          dtype=np.float32)

    written = 0
    with open(out, "wb") as raw:
        number = 0
        for index, count in enumerate(frames):
            fade = transition_frames[index] if transitions[index] not in (None, "cut") else 0
            following = view(index + 1, 0.0) if fade and index + 1 < len(frames) else None
            for k in range(count):
                if number % every == 0:
                    rgb = view(index, k / max(1, count - 1))
                    if following is not None and k >= count - fade:
                        weight = (k - (count - fade) + 1) / (fade + 1)
                        rgb = rgb * (1 - weight) + following * weight
                    planes = rgb_to_yuv420(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))
                    raw.write(b"".join(p.tobytes() for p in planes))
                    written += 1
                number += 1
    return written


def ssim(video: Path, reference: Path, every: int, width: int, height: int, fps: int) -> float:
    """Mean SSIM (Y, U, V as ffmpeg weighs them) of the video's every `every`-th frame."""
    result = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(video), "-f", "rawvideo",
         "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(fps),
         "-i", str(reference), "-lavfi",
         f"[0:v]select='not(mod(n\\,{every}))',setpts=N/{fps}/TB[a];"
         f"[1:v]setpts=N/{fps}/TB[b];[a][b]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=True)
    match = re.search(r"All:([0-9.]+)", result.stderr)
    if match is None:
        raise RuntimeError(f"no SSIM in ffmpeg's output: {result.stderr[-500:]}")
    return float(match.group(1))
