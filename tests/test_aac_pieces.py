"""The narration's AAC from pieces: joined packets decode to the pieces' own decodes with nothing
heard at the joins, an edit encodes only its piece, and the .m4a is as long as the track."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from engine.aac_pieces import (
    EDGE,
    FRAME,
    _decode,
    encoded,
    heard,
    piece_path,
    write_m4a,
)
from engine.backends.video.ffmpeg import ffmpeg_exe
from engine.backends.video.ffmpeg_tool import AAC_CODER
from engine.loudness import measure
from engine.mix import SAMPLE_RATE, pcm16, read_clip
from engine.narration import narrate
from engine.stages.cut import CutLine, CutScene, plan
from tests.test_loudness import MIX, TIMING, speechlike, write_wav


def sound(frames: int, seed: int) -> np.ndarray:
    """`frames` frames of speech-like sound, EDGE of silence at each end."""
    out = np.zeros(frames * FRAME, dtype=np.float32)
    out[EDGE + 37:-EDGE - 101] = 4 * speechlike((frames * FRAME - 2 * EDGE - 138) / SAMPLE_RATE,
                                                seed=seed)
    return pcm16(out)


def piece(pcm: np.ndarray, tmp_path, name: str, primed: bool = False):
    return encoded(lambda: pcm, primed, "128k", piece_path(tmp_path, {"name": name}))[0]


def test_joined_pieces_decode_to_their_own_decodes_with_silent_joins(tmp_path):
    first, second = sound(60, seed=1), sound(45, seed=2)
    a, b = piece(first, tmp_path, "a"), piece(second, tmp_path, "b")
    assert len(a.packets) == 60 and len(b.packets) == 45  # one a frame, no priming packet
    joined = _decode(a.packets + (a.packets[-1],) * 2 + b.packets)
    alone = np.concatenate([_decode(a.packets), np.zeros(2 * FRAME), _decode(b.packets)])
    assert np.array_equal(joined, alone)  # to the sample: nothing at the joins
    # a's last frame, the two silent packets between, b's first frame: exact silence
    assert not np.any(joined[59 * FRAME:63 * FRAME])
    # a whole-track encode of the same samples is no closer to them than the pieces are
    track = np.concatenate([first, np.zeros(2 * FRAME, "<i2"), second])
    whole = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", "48000",
         "-ac", "1", "-i", "pipe:0", "-c:a", "aac", "-b:a", "128k", "-aac_coder", AAC_CODER,
         "-aac_pns", "0",
         "-f", "adts", "pipe:1"], input=track.tobytes(), capture_output=True, check=True).stdout
    from engine.aac_pieces import _frames
    reference = _decode(_frames(whole))[FRAME:FRAME + len(track)]
    original = track / 32768.0
    assert (np.abs(joined[:len(track)] - original).max()
            <= 1.5 * np.abs(reference - original).max())


def test_a_piece_encoded_in_process_is_what_the_ffmpeg_binary_writes():
    from engine.aac_pieces import _encode

    pcm = sound(12, seed=3)
    binary = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", "48000",
         "-ac", "1", "-i", "pipe:0", "-c:a", "aac", "-b:a", "128k", "-aac_coder", AAC_CODER,
         "-aac_pns", "0",
         "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "adts", "pipe:1"],
        input=pcm.tobytes(), capture_output=True, check=True).stdout
    assert b"".join(_encode(pcm, "128k")) == binary


def test_a_piece_is_encoded_once_and_measured_as_decoded(tmp_path):
    pcm = sound(40, seed=3)
    made = encoded(lambda: pcm, False, "128k", piece_path(tmp_path, {"n": 1}))
    kept = encoded(lambda: pytest.fail("encoded again"), False, "128k",
                   piece_path(tmp_path, {"n": 1}))
    assert made[1] and not kept[1] and kept[0].packets == made[0].packets
    assert np.array_equal(kept[0].pcm, pcm)
    level = heard([(0, kept[0])])
    decoded = measure(_decode(kept[0].packets), SAMPLE_RATE)
    assert level.integrated == pytest.approx(decoded.integrated, abs=1e-6)
    assert level.true_peak == pytest.approx(decoded.true_peak, abs=1e-6)


def test_a_track_that_begins_with_sound_keeps_its_priming_in_the_edit_list(tmp_path):
    pcm = sound(20, seed=4)
    pcm[:EDGE] = pcm[EDGE + 100:2 * EDGE + 100]  # sound from the first sample
    first = piece(pcm, tmp_path, "primed", primed=True)
    assert len(first.packets) == 21
    m4a = write_m4a([(0, first)], len(pcm) - 500, tmp_path / "t.m4a")
    with av.open(str(m4a)) as container:  # the edit list's length is in milliseconds
        assert abs(container.streams.audio[0].duration - (len(pcm) - 500)) <= SAMPLE_RATE // 1000
    heard_back = read_clip(m4a)
    assert len(heard_back) == len(pcm)  # the priming packet decoded, and skipped
    lag = np.argmax(np.correlate(heard_back[:6000], pcm[:6000] / 32768.0, "full")) - 5999
    assert lag == 0  # the priming is skipped, not heard


def scenes_of(folder, edited: int | None = None) -> tuple[CutScene, ...]:
    """Six scenes of one line each; the `edited` one says its line a little slower."""
    still = folder / "still.png"

    def line(i: int) -> CutLine:
        seconds = 1.0 + 0.1 * i + (0.15 if i == edited else 0.0)
        return CutLine(write_wav(folder / f"{i}-{seconds}.wav", speechlike(seconds, seed=i)), "")
    return tuple(CutScene(f"s{i}", still, None, None, (line(i),)) for i in range(6))


QUIET = replace(MIX, loudness=-23.0)
"""A target the limiter leaves alone: the gain is the level's distance from it."""


def narrated(scenes: tuple[CutScene, ...], out: Path, work: Path):
    """The scenes' narration (no music), its WAV in `out`, its AAC by piece kept in `work`."""
    clips = [read_clip(line.audio) for scene in scenes for line in scene.lines]
    out.mkdir()
    return narrate(plan(scenes, TIMING, 25), clips, out / "narration.wav", [None] * len(scenes),
                   QUIET, work, [s.scene_id for s in scenes], aac_bitrate="128k")


def test_an_edit_encodes_its_piece_and_gives_the_cold_aac(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()

    def run(edited, name, work):
        return narrated(scenes_of(inputs, edited), tmp_path / name, tmp_path / work)
    first = run(None, "first", "work")
    assert first.encoded == ("s0", "s1", "s2", "s3", "s4", "s5")
    edit = run(2, "edit", "work")
    cold = run(2, "cold", "fresh")
    assert edit.gain == first.gain  # the level moved less than the gain's step
    assert edit.encoded == ("s2",)  # so only the edited piece is encoded again
    assert edit.aac.read_bytes() == cold.aac.read_bytes()
    assert edit.path.read_bytes() == cold.path.read_bytes()
    track = read_clip(edit.path)
    with av.open(str(edit.aac)) as container:
        assert container.streams.audio[0].duration == len(track)
    decoded = measure(read_clip(edit.aac)[:len(track)], SAMPLE_RATE)
    assert decoded.integrated == pytest.approx(edit.heard.integrated, abs=0.02)
    assert decoded.true_peak == pytest.approx(edit.heard.true_peak, abs=0.01)


@pytest.mark.slow  # a real browser: seconds
def test_chromium_decodes_the_joined_track_as_we_do(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip("no /usr/bin/chromium")
    a, b = piece(sound(60, seed=1), tmp_path, "a"), piece(sound(45, seed=2), tmp_path, "b")
    total = 107 * FRAME - 300
    m4a = write_m4a([(0, a), (62 * FRAME, b)], total, tmp_path / "t.m4a")
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium), headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_content("<html></html>")
        decoded = page.evaluate("""async (b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const context = new OfflineAudioContext(1, 48000, 48000);
            const sound = await context.decodeAudioData(bytes.buffer);
            return Array.from(sound.getChannelData(0));
        }""", base64.b64encode(m4a.read_bytes()).decode())
        browser.close()
    heard_there = np.array(decoded, dtype=np.float32)
    assert len(heard_there) == total  # the browser ends the track where the .m4a says
    ours = _decode(a.packets + (a.packets[-1],) * 2 + b.packets)[:total]
    assert np.array_equal(heard_there, ours)
    assert not np.any(heard_there[59 * FRAME:63 * FRAME])  # nothing at the join


def test_a_piece_that_peaks_over_the_ceiling_is_encoded_again_lower(tmp_path, monkeypatch):
    import engine.narration

    inputs = tmp_path / "in"
    inputs.mkdir()
    scenes = scenes_of(inputs)
    clips = [read_clip(line.audio) * (1.0 if index % 2 else 0.05)  # even scenes: quiet
             for index, line in enumerate(line for scene in scenes for line in scene.lines)]
    timeline = plan(scenes, TIMING, 25)

    def run(name: str):
        (tmp_path / name).mkdir()
        return narrate(timeline, clips, tmp_path / name / "narration.wav", [None] * 6, MIX,
                       tmp_path / "work", [s.scene_id for s in scenes],
                       aac_bitrate="128k")
    passes = engine.narration.PEAK_PASSES
    monkeypatch.setattr(engine.narration, "CODEC_HEADROOM", -1.0)  # less than the encode needs
    monkeypatch.setattr(engine.narration, "PEAK_PASSES", 1)
    once = run("once")
    assert once.heard.true_peak > MIX.true_peak
    monkeypatch.setattr(engine.narration, "PEAK_PASSES", passes)
    again = run("again")
    assert again.heard.true_peak <= MIX.true_peak
    assert again.gain == once.gain
    assert 0 < len(again.encoded) < 6  # only the pieces over the ceiling were mastered again


def test_an_edit_that_moves_the_gain_encodes_every_piece_and_gives_the_cold_aac(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    still = inputs / "still.png"

    def run(louder: bool, name: str, work: str):
        def line(i: int) -> CutLine:
            level = 0.2 if louder and i == 2 else 0.05  # 12 dB louder: the track's level moves
            return CutLine(write_wav(inputs / f"{i}-{level}.wav",
                                     speechlike(1.0 + 0.1 * i, seed=i, level=level)), "")
        scenes = tuple(CutScene(f"s{i}", still, None, None, (line(i),)) for i in range(6))
        return narrated(scenes, tmp_path / name, tmp_path / work)
    first = run(False, "first", "work")
    edit = run(True, "edit", "work")
    assert edit.gain != first.gain
    assert edit.encoded == ("s0", "s1", "s2", "s3", "s4", "s5")  # every piece's samples moved
    cold = run(True, "cold", "fresh")
    assert edit.aac.read_bytes() == cold.aac.read_bytes()
    assert edit.path.read_bytes() == cold.path.read_bytes()
