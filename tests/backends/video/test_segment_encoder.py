"""A segment encoded in this process: every frame, held pictures at their numbers, x264's
settings as asked, BT.709 tags, the same bytes twice and whatever the heap held, libavcodec's
refusal in one error."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from engine.backends.video.encoders import codec_options
from engine.backends.video.libav import _mallopt
from engine.backends.video.segment_encoder import _held, encode_segment
from engine.errors import BackendError

WIDTH, HEIGHT = 48, 32


def flat(level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.full((HEIGHT, WIDTH), level, np.uint8),
            np.full((HEIGHT // 2, WIDTH // 2), 128, np.uint8),
            np.full((HEIGHT // 2, WIDTH // 2), 128, np.uint8))


def encode(path: Path, pictures, frames: int, named: Path | None = None, **options) -> Path:
    chosen = codec_options("libx264", crf=12, preset=options.get("preset", "veryfast"),
                           tune=None, keyint=250, x264_params="me=dia")
    encode_segment(pictures, frames, path, codec="libx264", options=chosen, threads=1, fps=25,
                   width=WIDTH, height=HEIGHT, what="scene 'a'", where="scene a", named=named)
    return path


def lumas(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [int(round(frame.to_ndarray()[:HEIGHT].mean()))  # Y, as encoded (16-235)
                for frame in container.decode(video=0)]


@pytest.mark.parametrize("starts", [[0], [0, 1], [0, 3, 4, 9], list(range(12))])
def test_each_picture_shows_from_its_frame_until_the_next(tmp_path: Path, starts: list[int]):
    levels = [40 + 15 * k for k in range(len(starts))]
    out = encode(tmp_path / "a.mp4", [(s, flat(v)) for s, v in zip(starts, levels)], 12)
    ends = [*starts[1:], 12]
    expected = [v for s, e, v in zip(starts, ends, levels) for _ in range(s, e)]
    assert np.abs(np.array(lumas(out)) - expected).max() <= 1


def test_the_stream_is_as_set_and_the_same_bytes_twice(tmp_path: Path):
    pictures = [(0, flat(60)), (5, flat(160))]
    first = encode(tmp_path / "a.mp4", pictures, 10)
    assert first.read_bytes() == encode(tmp_path / "b.mp4", pictures, 10).read_bytes()
    with av.open(str(first)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (WIDTH, HEIGHT)
        assert stream.frames == 10 and float(stream.duration * stream.time_base) == 0.4
        assert stream.time_base.denominator == 25 * 512
        context = stream.codec_context
        assert (context.color_range, context.colorspace, context.color_primaries,
                context.color_trc) == (1, 1, 1, 1)  # limited range, BT.709
    settings = first.read_bytes()  # x264's own record of how it encoded
    assert b"crf=12.0" in settings and b"threads=1 " in settings and b"keyint=250" in settings
    assert b"Lavf" not in settings and b"Lavc" not in settings  # no version strings


def test_an_option_the_encoder_refuses_is_one_error_with_its_reason(tmp_path: Path):
    with pytest.raises(BackendError) as error:
        encode(tmp_path / "a.mp4", [(0, flat(60))], 3, preset="hurried")
    message = error.value.message
    assert message.startswith("encoding scene 'a' failed (libx264): ")
    assert "hurried" in message and error.value.where == "scene a" and "\n" not in message


HEAP_SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from engine.backends.video.encoders import codec_options
from engine.backends.video.libav import _mallopt
from engine.backends.video.segment_encoder import _held, encode_segment
W, H, N = 320, 176, 40
rng = np.random.default_rng(7)
ramp = np.add.outer(np.arange(H * 2), np.arange(W * 2)).astype(np.float32)
base = (128 + 60 * np.sin(ramp / 9) + rng.normal(0, 20, ramp.shape)).clip(0, 255).astype(np.uint8)
def pictures():
    for k in range(N):
        chroma = np.ascontiguousarray(base[H:H + H // 2, k:k + W // 2])
        yield k, (np.ascontiguousarray(base[:H, 2 * k:2 * k + W]), chroma, chroma[::-1].copy())
encode_segment(pictures(), N, Path(sys.argv[1]), codec="libx264", threads=1, fps=25, width=W,
               height=H, what="x", where="x", options=codec_options(
                   "libx264", crf=20, preset="veryfast", tune=None, keyint=250,
                   x264_params="me=dia"))
"""


@pytest.mark.skipif(_mallopt() is None, reason="glibc's malloc fills memory on request")
def test_the_bytes_do_not_depend_on_what_the_heap_held(tmp_path: Path):
    """x264 (B-frames, lookahead) reads memory it never wrote: with the heap's leftovers made
    different (glibc fills new memory with MALLOC_PERTURB_'s byte), the segment is the same."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    outputs = []
    for fill in ("1", "200"):
        out = tmp_path / f"fill-{fill}.mp4"
        subprocess.run([sys.executable, "-c", HEAP_SCRIPT, str(out)], check=True, cwd=root,
                       env={**os.environ, "PYTHONPATH": str(root), "MALLOC_PERTURB_": fill})
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_the_same_refusal_twice_names_its_reason_each_time(tmp_path: Path):
    """libav's messages are not dropped as repeats, nor carried into the next error."""
    said = []
    for attempt in range(2):
        with pytest.raises(BackendError) as error:
            encode(tmp_path / f"{attempt}.mp4", [(0, flat(60))], 3, preset="hurried")
        said.append(error.value.message)
    assert said[0] == said[1] and "hurried" in said[1]
    with pytest.raises(BackendError) as other:
        encode(tmp_path / "2.mp4", [(0, flat(60))], 3, preset="slowish")
    assert "slowish" in other.value.message and "hurried" not in other.value.message


def test_stopped_midway_leaves_no_file_and_the_heap_as_it_was(tmp_path: Path):
    from engine.backends.video import libav
    from engine.errors import Stopped

    def pictures():
        yield 0, flat(60)
        yield 1, flat(90)
        raise Stopped()

    with pytest.raises(Stopped):
        encode(tmp_path / "a.mp4", pictures(), 5)
    assert libav._encoding == 0 and libav._listening == 0


def test_a_full_disk_is_a_file_error_naming_the_path(tmp_path: Path):
    """ENOSPC while writing is the folder's problem: an OSError the render explains (where, and
    how to choose another cache), not an encoder failure."""
    import errno

    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full here")
    with pytest.raises(OSError) as error:
        encode(full, [(0, flat(60)), (1, flat(90))], 60)
    assert not isinstance(error.value, BackendError)
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(full)
    with pytest.raises(OSError) as error:  # written to a temp file: named as the segment
        encode(full, [(0, flat(60)), (1, flat(90))], 60, named=tmp_path / "seg-a.mp4")
    assert error.value.filename == str(tmp_path / "seg-a.mp4")


@pytest.mark.parametrize("reuse", [True, False])
def test_a_held_picture_is_one_frame_and_a_new_picture_a_new_frame_unless_reused(reuse: bool):
    """x264 copies a frame before `encode` returns, so one AVFrame serves every picture; an
    encoder that may keep a reference (NVENC) gets a new one for each picture."""
    shown = list(_held([(0, flat(40)), (2, flat(80)), (3, flat(120))], 5, WIDTH, HEIGHT,
                       reuse=reuse))
    assert [number for number, _ in shown] == [0, 1, 2, 3, 4]
    frames = [frame for _, frame in shown]
    assert frames[0] is frames[1] and frames[3] is frames[4]  # a picture that holds: handed again
    distinct = {id(frame) for frame in frames}
    assert len(distinct) == (1 if reuse else 3)
    if not reuse:  # each keeps its own picture
        assert [int(frame.to_ndarray()[:HEIGHT].mean()) for frame in frames[1:4]] == [40, 80, 120]
