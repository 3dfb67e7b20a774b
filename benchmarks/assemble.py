"""Video assembly speed: the cut stage vs an ffmpeg slideshow and a moviepy pipeline, one run.

Run: `.venv/bin/python benchmarks/assemble.py [--scenes 6] [--seconds 3] [--size 1280x720]`.
The same images (drawn here) and narration clips (synthesised here) go to:

- `ours`: `engine.stages.cut.cut` with `video=ffmpeg`'s defaults, cold (a fresh segment folder):
  the story's cameras and transitions, burned captions, soft subtitles, sidecars;
- `ours, still`: the same with every camera `still` and every transition `cut` (what the ffmpeg
  slideshow does), so the difference is what motion and crossfades cost;
- `ffmpeg slideshow`: a hand-written concat demuxer of the stills (`-tune stillimage`, same
  codec, preset, crf, size, fps and AAC audio of the same narration, no motion, no captions);
- `ken burns`: the hand-written `zoompan` + `xfade` + libass pipeline on the same stills, camera
  paths, transitions, captions and narration, same x264 settings (`kenburns.py`);
- `x264 floor`: x264 alone encoding our cut's frames, already decoded (a raw file), with the
  same settings and x264's own threads: every moving frame must be encoded, so nothing beats it.
  Twice: by the ffmpeg binary reading the file, and by PyAV's libx264 in this process (the
  encoder our segments use) handed the file's frames; ours is compared with both;
- `ours at 64x36`: the same cut with frames too small to cost anything, i.e. what the cut does
  besides the video: the narration (clips read, mixed and measured, its AAC encode, the encoded
  soundtrack decoded to verify its loudness), the sidecars, and each picture's decode. `ours`
  minus it is the video part, which the x264 floor is compared with as well (the floor has no
  audio);
- `moviepy`: ImageClips in a CompositeVideoClip with TextClip captions and crossfades, the same
  narration, `write_videofile` with the same codec settings;
- `video=moviepy`: the cut stage with our `video=moviepy` editor (our frames through moviepy).

Quality: ours and the Ken Burns pipeline, both without burned captions, against the exact camera
paths drawn with Lanczos in floating point (never encoded): mean SSIM of every 5th frame.

Targets: ours ≤ 1.5× the ffmpeg slideshow, ≥ 3× faster than moviepy; the moving story ≤ 1.15×
the x264 floor and ≤ 0.7× the Ken Burns pipeline with SSIM no worse. The fast variants run
`--repeat` times, interleaved, best kept (the machine is shared), and for the moving story the
median of each round's ratio is printed too (a slow spell slows both runs of a round); moviepy
runs once. Wall and CPU seconds (this process plus the ffmpeg processes it ran) are both printed:
on a busy machine CPU seconds compare more fairly, since the cut uses both cores and the
slideshow mostly one.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from kenburns import decode_raw, encode_floor, ken_burns, reference_frames, ssim
from PIL import Image, ImageDraw, ImageFilter

from engine.backends.fonts import find_font
from engine.backends.tts.audio import wav_bytes
from engine.backends.video.ffmpeg import FFmpegEditor, ffmpeg_exe
from engine.backends.video.moviepy import MoviePyEditor
from engine.config import compose_config, timeline_settings
from engine.mix import mix_audio
from engine.stages.cut import CutLine, CutScene, cut, plan

CAMERAS = ("slow zoom in", None, "pan left", "slow zoom out", "pan right", None)
TRANSITIONS = ("crossfade", "cut", "crossfade", "cut", "crossfade", None)
LINES = ("Once upon a time, a little owl lived in a tall oak tree.",
         "Every night she looked up at the moon and said hello.",
         "One night the moon was gone, hidden behind the clouds.",
         "The owl flew over the hill, the river and the sleepy village.",
         "At last the wind blew the clouds away, and there it was.",
         "Goodnight, moon, said the owl, and she closed her eyes.")


def draw_scene(path: Path, index: int, width: int, height: int) -> Path:
    """A picture-book-like still: a sky gradient, hills, a sun or moon, trees, soft edges."""
    rng = np.random.default_rng(index)
    top, bottom = rng.integers(40, 200, 3), rng.integers(120, 255, 3)
    ramp = np.linspace(0, 1, height)[:, None, None]
    sky = (top * (1 - ramp) + bottom * ramp).astype(np.uint8).repeat(width, axis=1)
    image = Image.fromarray(sky)
    draw = ImageDraw.Draw(image)
    r = height // 10
    cx, cy = int(rng.integers(r, width - r)), int(rng.integers(r, height // 3))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 240, 190))
    for layer in range(3):
        base = height * (0.55 + 0.12 * layer)
        xs = np.linspace(0, width, 9)
        ys = base + rng.normal(0, height * 0.05, xs.size)
        colour = tuple(int(c) for c in rng.integers(30, 160, 3))
        draw.polygon([(0, height)] + list(zip(xs.tolist(), ys.tolist())) + [(width, height)],
                     fill=colour)
    for _ in range(12):
        x, y = int(rng.integers(0, width)), int(rng.integers(height // 2, height))
        s = int(rng.integers(height // 30, height // 10))
        draw.rectangle((x - s // 6, y, x + s // 6, y + s), fill=(90, 60, 40))
        draw.ellipse((x - s, y - 2 * s, x + s, y + s // 3), fill=tuple(int(c) for c in rng.integers(20, 140, 3)))
    image.filter(ImageFilter.SMOOTH).save(path)
    return path


def synthesise_line(path: Path, seconds: float, index: int, rate: int = 22_050) -> Path:
    """A voice-like clip: a gliding tone with syllable-rate loudness, at a TTS-like rate."""
    t = np.arange(round(seconds * rate)) / rate
    pitch = 180 + 40 * np.sin(2 * np.pi * 0.7 * t + index)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    samples = 0.3 * envelope * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    path.write_bytes(wav_bytes(samples, rate))
    return path


@dataclass
class Timing:
    wall: float = math.inf
    cpu: float = math.inf  # this process and the ffmpeg processes it waited for
    rounds: list[tuple[float, float]] = field(default_factory=list)  # (wall, cpu) of each run


def round_ratios(ours: Timing, base: Timing) -> str:
    """The median of the per-round ratios (each run against the baseline's run in the same
    round, minutes apart at most): steadier than best against best on a machine whose speed
    drifts, since a slow spell slows both runs of a round."""
    walls = [a[0] / b[0] for a, b in zip(ours.rounds, base.rounds)]
    cpus = [a[1] / b[1] for a, b in zip(ours.rounds, base.rounds)]
    return (f"median of {len(walls)} rounds {statistics.median(walls):.2f}× wall, "
            f"{statistics.median(cpus):.2f}× CPU")


def measure(run: Callable[[int], None], attempt: int, timing: Timing) -> None:
    """Run once; keep the best wall and CPU seconds seen so far."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, started = time.process_time(), time.perf_counter()
    run(attempt)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (time.process_time() - cpu + after.ru_utime - children.ru_utime
           + after.ru_stime - children.ru_stime)
    timing.wall, timing.cpu = min(timing.wall, wall), min(timing.cpu, cpu)
    timing.rounds.append((wall, cpu))


def ffmpeg_slideshow(scenes: list[CutScene], durations: list[float], narration: Path,
                     out: Path, width: int, height: int, fps: int, editor: FFmpegEditor,
                     burn: Path | None = None) -> None:
    """The baseline: concat demuxer of stills, each converted once, then duplicated to fps."""
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{s.image}'\nduration {d:.6f}\n"
                               for s, d in zip(scenes, durations)) + f"file '{scenes[-1].image}'\n")
    filters = f"scale={width}:{height},format=yuv420p,fps={fps}"
    if burn is not None:
        filters += f",subtitles={burn}"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(narration),
                    "-vf", filters, "-c:v", "libx264", "-preset", editor.preset,
                    "-crf", str(editor.crf), "-tune", "stillimage", "-profile:v", "high",
                    *(["-x264-params", editor.x264_params] if editor.x264_params else []),
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                    "-shortest", "-movflags", "+faststart", str(out)], check=True)


def moviepy_pipeline(scenes: list[CutScene], starts: list[float], durations: list[float],
                     cues, narration: Path, out: Path, width: int, height: int, fps: int,
                     editor: FFmpegEditor, crossfade: float) -> None:
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, TextClip, vfx

    font = find_font("DejaVuSans-Bold.ttf")
    clips = []
    for i, (scene, start, duration) in enumerate(zip(scenes, starts, durations)):
        clip = ImageClip(str(scene.image)).with_start(start).with_duration(duration)
        if i > 0 and scenes[i - 1].into_next == "crossfade":
            clip = clip.with_effects([vfx.CrossFadeIn(crossfade)])
        clips.append(clip)
    for cue in cues:
        text = TextClip(font=str(font), text=cue.text, font_size=round(height * 0.058),
                        color="white", bg_color=(18, 18, 32), method="caption",
                        size=(round(width * 0.86), None), margin=(10, 10))
        clips.append(text.with_start(cue.start).with_duration(cue.end - cue.start)
                     .with_position(("center", 0.78), relative=True))
    video = CompositeVideoClip(clips, size=(width, height)).with_audio(AudioFileClip(str(narration)))
    video.write_videofile(str(out), fps=fps, codec="libx264", audio_codec="aac",
                          preset=editor.preset, pixel_format="yuv420p",
                          ffmpeg_params=["-crf", str(editor.crf), "-profile:v", "high",
                                         *(["-x264-params", editor.x264_params]
                                           if editor.x264_params else [])],
                          logger=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0, help="narration per scene")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-moviepy", action="store_true")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    settings = timeline_settings(compose_config())  # conf/config.yaml's timeline
    editor = FFmpegEditor()
    with tempfile.TemporaryDirectory(prefix="assemble-") as folder:
        root = Path(folder)
        scenes = [CutScene(f"scene{i + 1}", draw_scene(root / f"scene{i + 1}.png", i, width, height),
                           CAMERAS[i % len(CAMERAS)], TRANSITIONS[i % len(TRANSITIONS)],
                           (CutLine(synthesise_line(root / f"line{i + 1}.wav", args.seconds, i),
                                    LINES[i % len(LINES)], "Narrator"),))
                  for i in range(args.scenes)]
        still = [replace(s, camera=None, into_next="cut") for s in scenes]
        timeline = plan(scenes, settings, args.fps)
        durations = [s.duration for s in timeline.scenes]
        starts = [s.start for s in timeline.scenes]
        narration = mix_audio(timeline, [l.audio for s in scenes for l in s.lines],
                              root / "narration.wav")
        srt = root / "captions.srt"
        from engine.captions import write_srt
        write_srt([replace(cue, speaker=None) for cue in timeline.cues], srt)
        print(f"{args.scenes} scenes, {timeline.duration:.2f} s of video at {width}x{height} "
              f"{args.fps} fps, x264 preset={editor.preset} crf={editor.crf} {editor.x264_params or ''}; "
              f"best of {args.repeat} for the fast variants")

        def ours(variant: list[CutScene], size: tuple[int, int] = (width, height),
                 **options) -> Callable[[int], None]:
            def run(attempt: int) -> None:
                work = root / f"work-{id(variant)}-{len(options)}-{size[0]}-{attempt}"  # cold
                cut(variant, FFmpegEditor(**options), settings, *size, args.fps,
                    root / "ours", work)
            return run

        images, cameras = [s.image for s in scenes], [s.camera for s in scenes]
        transitions = [s.into_next for s in scenes]
        frames = [s.frames for s in timeline.scenes]
        fades = [s.transition_frames for s in timeline.scenes]
        ours(scenes)(-1)  # our frames, decoded once for the floor (not timed)
        decode_raw(root / "ours" / "video.mp4", root / "frames.yuv")

        def kenburns(name: str, burn: Path | None, audio: Path | None) -> Callable[[int], None]:
            return lambda a: ken_burns(images, cameras, transitions, frames, fades, audio, burn,
                                       root / name, width, height, args.fps, editor)

        variants: dict[str, Callable[[int], None]] = {
            "ours (cameras, crossfades, burned captions)": ours(scenes),
            "ken burns (zoompan, xfade, libass captions)": kenburns("kb.mp4", srt, narration),
            "x264 floor (our frames, decoded)": lambda a: encode_floor(
                root / "frames.yuv", root / "floor.mp4", width, height, args.fps, editor),
            "x264 floor in process (PyAV)": lambda a: encode_floor(
                root / "frames.yuv", root / "floor-av.mp4", width, height, args.fps, editor,
                in_process=True),
            "ours at 64x36 (audio, sidecars, decodes)": ours(scenes, size=(64, 36)),
            "ours, still + cut (burned captions)": ours(still),
            "ours, still + cut, no burned captions": ours(still, burn_subtitles=False),
            "ffmpeg slideshow": lambda a: ffmpeg_slideshow(
                scenes, durations, narration, root / "slideshow.mp4", width, height, args.fps,
                editor),
            "ffmpeg slideshow + libass captions": lambda a: ffmpeg_slideshow(
                scenes, durations, narration, root / "slideshow-ass.mp4", width, height,
                args.fps, editor, burn=srt),
        }
        # Warm-up (imports, font loading, page cache), not timed.
        cut(scenes[:2], FFmpegEditor(), settings, 64, 36, args.fps, root / "warm", root / "warm")
        ffmpeg_slideshow(scenes[:2], durations[:2], narration, root / "warm.mp4", 64, 36,
                         args.fps, editor)
        results = {name: Timing() for name in variants}
        for attempt in range(args.repeat):  # interleaved, so a busy moment hits every variant
            for name, run in variants.items():
                measure(run, attempt, results[name])
        if not args.skip_moviepy:
            results["moviepy CompositeVideoClip"] = Timing()
            measure(lambda a: moviepy_pipeline(
                scenes, starts, durations, timeline.cues, narration, root / "moviepy.mp4",
                width, height, args.fps, editor, settings.crossfade), 0,
                results["moviepy CompositeVideoClip"])
            results["video=moviepy (our frames through moviepy)"] = Timing()
            measure(lambda a: cut(scenes, MoviePyEditor(), settings, width, height, args.fps,
                                  root / "video-moviepy", root / "work-video-moviepy"), 0,
                    results["video=moviepy (our frames through moviepy)"])
        print(f"  {'':<46} {'wall':>8}  {'CPU':>8}")
        for name, t in results.items():
            print(f"  {name:<46} {t.wall:7.2f}s {t.cpu:8.2f}s  "
                  f"({timeline.duration / t.wall:5.1f}× real time)")
        full = results["ours (cameras, crossfades, burned captions)"]
        flat = results["ours, still + cut (burned captions)"]
        bare = results["ours, still + cut, no burned captions"]
        base = results["ffmpeg slideshow"]
        libass = results["ffmpeg slideshow + libass captions"]
        print(f"ours / ffmpeg slideshow: {full.wall / base.wall:.2f}× wall, "
              f"{full.cpu / base.cpu:.2f}× CPU (target ≤ 1.5×); like for like (still + cut): "
              f"{flat.wall / base.wall:.2f}× wall, {flat.cpu / base.cpu:.2f}× CPU")
        print(f"motion and crossfades cost {full.wall - flat.wall:+.2f} s wall "
              f"({(full.wall / flat.wall - 1) * 100:+.0f} %), {full.cpu - flat.cpu:+.2f} s CPU")
        print(f"burned captions cost: Pillow {flat.wall - bare.wall:+.2f} s wall "
              f"({flat.cpu - bare.cpu:+.2f} s CPU), libass {libass.wall - base.wall:+.2f} s wall "
              f"({libass.cpu - base.cpu:+.2f} s CPU)")
        floor = results["x264 floor (our frames, decoded)"]
        floor_av = results["x264 floor in process (PyAV)"]
        burns = results["ken burns (zoompan, xfade, libass captions)"]
        print(f"moving story: ours / x264 floor {full.wall / floor.wall:.2f}× wall, "
              f"{full.cpu / floor.cpu:.2f}× CPU (target ≤ 1.15×); ours / ken burns "
              f"{full.wall / burns.wall:.2f}× wall, {full.cpu / burns.cpu:.2f}× CPU (target ≤ 0.7×)")
        print(f"  ours / x264 floor in process {full.wall / floor_av.wall:.2f}× wall, "
              f"{full.cpu / floor_av.cpu:.2f}× CPU")
        print(f"  round by round: ours / x264 floor {round_ratios(full, floor)}; "
              f"ours / x264 floor in process {round_ratios(full, floor_av)}; "
              f"ours / ken burns {round_ratios(full, burns)}")
        besides = results["ours at 64x36 (audio, sidecars, decodes)"]
        print(f"its video part (ours − ours at 64x36): {full.cpu - besides.cpu:.2f} s CPU, "
              f"{(full.cpu - besides.cpu) / floor.cpu:.2f}× the x264 floor's CPU; the rest "
              f"{besides.cpu:.2f} s CPU ({besides.cpu / full.cpu * 100:.0f} % of ours)")
        every = 5
        reference_frames(images, cameras, transitions, frames, fades, every,
                         root / "reference.yuv", width, height)
        cut(scenes, FFmpegEditor(burn_subtitles=False), settings, width, height, args.fps,
            root / "plain", root / "work-plain")
        kenburns("kb-plain.mp4", None, None)(0)
        quality = {name: ssim(video, root / "reference.yuv", every, width, height, args.fps)
                   for name, video in (("ours", root / "plain" / "video.mp4"),
                                       ("ken burns", root / "kb-plain.mp4"))}
        print("SSIM against the exact paths drawn with Lanczos (no captions, every "
              f"{every}th frame): " + ", ".join(f"{k} {v:.4f}" for k, v in quality.items()))
        if "moviepy CompositeVideoClip" in results:
            movie = results["moviepy CompositeVideoClip"]
            print(f"moviepy / ours: {movie.wall / full.wall:.1f}× wall, "
                  f"{movie.cpu / full.cpu:.1f}× CPU (target ≥ 3×)")
            editor_moviepy = results["video=moviepy (our frames through moviepy)"]
            print(f"video=moviepy / video=ffmpeg: {editor_moviepy.wall / full.wall:.1f}× wall, "
                  f"{editor_moviepy.cpu / full.cpu:.1f}× CPU")


if __name__ == "__main__":
    main()
