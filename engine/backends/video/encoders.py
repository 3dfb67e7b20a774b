"""The H.264 encoder a segment is made with: libx264 (the default), NVIDIA's h264_nvenc, or auto."""

from __future__ import annotations

import re
import subprocess
from functools import cache

from engine.errors import BackendError, ConfigError

ENCODERS = ("libx264", "h264_nvenc", "auto")
"""`video.encoder`'s choices; auto is h264_nvenc where it opens, else libx264."""

NVENC_PRESETS = {"ultrafast": "p1", "superfast": "p2", "veryfast": "p3", "faster": "p4",
                 "fast": "p5", "medium": "p5", "slow": "p6", "slower": "p7", "veryslow": "p7",
                 "placebo": "p7"}
"""x264's preset names as NVENC's p1 (fastest) … p7 (best), so `video.preset` serves both."""


def check_encoder(name: str) -> str:
    """`name` if it is one of ENCODERS (ConfigError otherwise)."""
    if name not in ENCODERS:
        raise ConfigError(f"video.encoder is one of {', '.join(ENCODERS)}, not {name!r}")
    return name


def resolve(choice: str, ffmpeg: str) -> str:
    """The encoder a cut uses: `choice`, or for auto the best one this machine can open.

    An explicit h264_nvenc that cannot open (no NVIDIA driver or GPU, or an ffmpeg built
    without it) is a BackendError naming ffmpeg's reason, in one line."""
    if choice == "libx264":
        return choice
    reason = nvenc_problem(ffmpeg)
    if reason is None:
        return "h264_nvenc"
    if choice == "auto":
        return "libx264"
    raise BackendError("video=ffmpeg", f"the h264_nvenc encoder does not open here: {reason}",
                       hint="set video.encoder=libx264 (or auto, which falls back to it)")


@cache
def nvenc_problem(ffmpeg: str) -> str | None:
    """Why h264_nvenc cannot encode a frame here (None: it can), tried once per process."""
    try:
        result = subprocess.run(
            [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
             "-i", "color=c=black:s=256x144:r=25", "-frames:v", "1", "-c:v", "h264_nvenc",
             "-f", "null", "-"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
            check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"probing it failed ({error})"
    if result.returncode == 0:
        return None
    lines = result.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
    return re.sub(r"^(\[[^]]*\] )+", "", lines[0])  # "[h264_nvenc @ 0x…] Cannot load libcuda"


def video_args(codec: str, *, crf: int, preset: str, tune: str | None, keyint: int,
               x264_params: str | None, threads: int) -> list[str]:
    """ffmpeg's output options for one segment's video stream (no filters)."""
    common = ["-profile:v", "high", "-pix_fmt", "yuv420p", "-g", str(keyint)]
    if codec == "h264_nvenc":
        # Constant quality: -cq plays the part of x264's crf (no bitrate target).
        return ["-c:v", "h264_nvenc", "-preset", NVENC_PRESETS.get(preset, preset),
                "-rc", "vbr", "-cq", str(crf), "-b:v", "0", *common]
    args = ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), *common,
            "-threads", str(threads)]
    if tune:
        args += ["-tune", tune]
    if x264_params:
        args += ["-x264-params", x264_params]
    return args
