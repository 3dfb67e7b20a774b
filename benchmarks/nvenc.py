"""NVENC against x264 at matched quality on the moving story's frames, and in the whole cut.

Run (on a machine with an NVIDIA GPU and driver): `.venv/bin/python benchmarks/nvenc.py
[--size 1280x720] [--cq 19 21 23 25 27 29 31] [--repeat 3]`. Elsewhere it says why NVENC does
not open and prints only x264's numbers.

1. The benchmark story of `assemble.py` (six scenes, its cameras and transitions): its exact
   motion drawn in floating point and never encoded (`kenburns.reference_frames`, no captions),
   a raw file both encoders get, so neither meets the other's artefacts.
2. x264 with `video=ffmpeg`'s settings (preset, crf, me=dia) and its own threads, in this
   process (PyAV), and h264_nvenc at each `--cq` with the preset `video.preset` maps to (p3 for
   veryfast), the same way: wall and CPU seconds (best of `--repeat`), bytes, and mean SSIM
   against the raw frames (every frame; Y, U and V as ffmpeg weighs them).
3. Matched quality: the largest cq whose SSIM is at least x264's; its time and size against
   x264's are the comparison. Then the whole cut (`engine.stages.cut.cut`, cold) with
   `video.encoder=h264_nvenc` at that cq against `libx264`, interleaved, best of `--repeat`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from assemble import CAMERAS, LINES, TRANSITIONS, Timing, draw_scene, measure, synthesise_line
from kenburns import encode_raw, reference_frames, ssim

from engine.backends.video.encoders import codec_options, nvenc_problem
from engine.backends.video.ffmpeg import FFmpegEditor
from engine.config import compose_config, timeline_settings
from engine.stages.cut import CutLine, CutScene, cut, plan


def encoder_row(name: str, timing: Timing, size: int, quality: float) -> str:
    return (f"  {name:<28} {timing.wall:6.2f}s wall {timing.cpu:6.2f}s CPU "
            f"{size / 1e6:7.2f} MB  SSIM {quality:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--cq", type=int, nargs="+", default=[19, 21, 23, 25, 27, 29, 31])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    settings = timeline_settings(compose_config())
    x264 = FFmpegEditor()
    with tempfile.TemporaryDirectory(prefix="nvenc-") as folder:
        root = Path(folder)
        scenes = [CutScene(f"scene{i + 1}", draw_scene(root / f"s{i + 1}.png", i, width, height),
                           CAMERAS[i], TRANSITIONS[i],
                           (CutLine(synthesise_line(root / f"l{i + 1}.wav", 3.0, i), LINES[i],
                                    "Narrator"),))
                  for i in range(len(CAMERAS))]
        timeline = plan(scenes, settings, args.fps)
        raw = root / "frames.yuv"
        frames = reference_frames([s.image for s in scenes], [s.camera for s in scenes],
                                  [s.into_next for s in scenes],
                                  [s.frames for s in timeline.scenes],
                                  [s.transition_frames for s in timeline.scenes], 1, raw,
                                  width, height)
        print(f"{frames} frames at {width}x{height} {args.fps} fps, the moving story's exact "
              f"motion; x264 preset={x264.preset} crf={x264.crf} {x264.x264_params or ''}")

        def encode(codec: str, crf: int, name: str) -> tuple[Timing, int, float]:
            options = {**codec_options(codec, crf=crf, preset=x264.preset, tune=x264.tune,
                                       keyint=x264.keyint, x264_params=x264.x264_params)}
            timing, out = Timing(), root / f"{name}.mp4"
            for attempt in range(args.repeat):
                measure(lambda a: encode_raw(raw, out, width, height, args.fps, codec, options),
                        attempt, timing)
            return timing, out.stat().st_size, ssim(out, raw, 1, width, height, args.fps)

        base = encode("libx264", x264.crf, "x264")
        print(encoder_row(f"libx264 crf {x264.crf}", *base))
        problem = nvenc_problem()
        if problem is not None:
            print(f"h264_nvenc does not open here ({problem}): nothing to compare")
            sys.exit(0)
        rows = {cq: encode("h264_nvenc", cq, f"nvenc-{cq}") for cq in args.cq}
        for cq, row in rows.items():
            print(encoder_row(f"h264_nvenc cq {cq}", *row))
        matched = [cq for cq, (_, _, quality) in rows.items() if quality >= base[2]]
        if not matched:
            print(f"no cq in {args.cq} reaches x264's SSIM {base[2]:.4f}: try lower ones")
            sys.exit(0)
        cq = max(matched)
        timing, size, quality = rows[cq]
        print(f"matched quality: h264_nvenc cq {cq} (SSIM {quality:.4f} ≥ {base[2]:.4f}) / "
              f"libx264: {timing.wall / base[0].wall:.2f}× wall, {timing.cpu / base[0].cpu:.2f}× "
              f"CPU, {size / base[1]:.2f}× the bytes")
        editors = {"libx264": x264, "h264_nvenc": FFmpegEditor(encoder="h264_nvenc", crf=cq)}
        cuts = {name: Timing() for name in editors}
        for attempt in range(args.repeat):  # interleaved, cold each time
            for name, editor in editors.items():
                measure(lambda a, e=editor, n=name: cut(
                    scenes, e, settings, width, height, args.fps,
                    root / f"cut-{n}", root / f"work-{n}-{a}"), attempt, cuts[name])
        nv, xx = cuts["h264_nvenc"], cuts["libx264"]
        print(f"the whole cut: h264_nvenc cq {cq} / libx264 crf {x264.crf}: "
              f"{nv.wall / xx.wall:.2f}× wall, {nv.cpu / xx.cpu:.2f}× CPU "
              f"({nv.wall:.2f} s against {xx.wall:.2f} s)")


if __name__ == "__main__":
    main()
