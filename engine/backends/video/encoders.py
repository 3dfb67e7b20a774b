"""The H.264 encoder a segment is made with: libx264 (the default), NVIDIA's h264_nvenc, or auto."""

from __future__ import annotations

import fractions
from functools import cache

from engine.errors import BackendError, ConfigError

ENCODERS = ("libx264", "h264_nvenc", "auto")
"""`video.encoder`'s choices; auto is h264_nvenc where it opens, else libx264."""

NVENC_PRESETS = {"ultrafast": "p1", "superfast": "p2", "veryfast": "p3", "faster": "p4",
                 "fast": "p5", "medium": "p5", "slow": "p6", "slower": "p7", "veryslow": "p7",
                 "placebo": "p7"}
"""x264's preset names as NVENC's p1 (fastest) … p7 (best), so `video.preset` serves both."""


X264_TUNES = ("film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode",
              "zerolatency")
"""x264's tunes (`video.tune`): one of the first six, and fastdecode or zerolatency may join it
with a comma."""


NVENC_OWN_PRESETS = tuple(f"p{n}" for n in range(1, 8))
"""NVENC's own preset names, which video.encoder=h264_nvenc takes too."""


def check_preset(name: str, encoder: str) -> str:
    """`name` if it is one of x264's presets (which stand for NVENC's too) or, for h264_nvenc,
    one of NVENC's own (p1 … p7); else ConfigError."""
    own = NVENC_OWN_PRESETS if encoder == "h264_nvenc" else ()
    if name not in NVENC_PRESETS and name not in own:
        also = " (or p1 … p7 with video.encoder=h264_nvenc)" if not own else ", p1 … p7"
        raise ConfigError(f"video.preset is one of {', '.join(NVENC_PRESETS)}{also}, "
                          f"not {name!r}")
    return name


def check_tune(name: str | None) -> str | None:
    """`name` if it is x264's tune (or tunes, comma-joined), or None; else ConfigError."""
    parts = [] if name is None else str(name).split(",")
    psy = [part for part in parts if part not in ("fastdecode", "zerolatency")]
    if not all(part in X264_TUNES for part in parts) or len(psy) > 1 or len(set(parts)) < len(parts):
        raise ConfigError(f"video.tune is one of {', '.join(X264_TUNES[:6])}, with or without "
                          f"fastdecode and zerolatency (comma-joined), or null; not {name!r}")
    return name


def check_encoder(name: str) -> str:
    """`name` if it is one of ENCODERS (ConfigError otherwise)."""
    if name not in ENCODERS:
        raise ConfigError(f"video.encoder is one of {', '.join(ENCODERS)}, not {name!r}")
    return name


def resolve(choice: str) -> str:
    """The encoder a cut uses: `choice`, or for auto the best one this machine can open.

    An explicit h264_nvenc that cannot open (no NVIDIA driver or GPU) is a BackendError naming
    libavcodec's reason, in one line."""
    if choice == "libx264":
        import av

        if choice not in av.codecs_available:
            raise BackendError("video=ffmpeg", "this PyAV's libavcodec has no libx264 encoder "
                               "(a build without GPL codecs)",
                               hint="pip install the PyPI wheel of av (it bundles x264), or "
                                    "set video.encoder=h264_nvenc on an NVIDIA machine")
        return choice
    reason = nvenc_problem()
    if reason is None:
        return "h264_nvenc"
    if choice == "auto":
        return resolve("libx264")
    raise BackendError("video=ffmpeg", f"the h264_nvenc encoder does not open here: {reason}",
                       hint="set video.encoder=libx264 (or auto, which falls back to it)")


@cache
def nvenc_problem() -> str | None:
    """Why h264_nvenc cannot encode a frame here (None: it can), tried once per process with
    the libavcodec that encodes the segments (PyAV's)."""
    import av

    from engine.backends.video.libav import libav_messages, libav_reason

    with libav_messages() as messages:
        try:
            context = av.CodecContext.create("h264_nvenc", "w")
            context.width, context.height, context.pix_fmt = 256, 144, "yuv420p"
            context.time_base = fractions.Fraction(1, 25)
            context.open()
            frame = av.VideoFrame(256, 144, "yuv420p")
            frame.pts = 0
            context.encode(frame)
            context.encode(None)
        except (av.FFmpegError, ValueError) as error:
            said = [text.strip() for _, _, text in messages if text.strip()]
            return said[-1] if said else libav_reason([], error)  # "Cannot load libcuda.so.1"
    return None


def codec_options(codec: str, *, crf: int, preset: str, tune: str | None, keyint: int,
                  x264_params: str | None) -> dict[str, str]:
    """The encoder's options for one segment's video stream (libavcodec's names, as ffmpeg's
    `-crf`, `-preset`, … set them)."""
    common = {"profile": "high", "g": str(keyint)}
    if codec == "h264_nvenc":
        # Constant quality: cq plays the part of x264's crf (no bitrate target).
        return {"preset": NVENC_PRESETS.get(preset, preset), "rc": "vbr", "cq": str(crf),
                "b": "0", **common}
    options = {"preset": preset, "crf": str(crf), **common}
    if tune:
        options["tune"] = tune
    if x264_params:
        options["x264-params"] = x264_params
    return options
