"""Transitions drawn on YUV planes: every name in the language, where each one's edge is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.backends.video.transitions import DRAWERS, shift, transition_frame
from engine.dsl.vocabulary import TRANSITIONS

W, H = 64, 36


def flat(y: int, u: int = 128, v: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.full((H, W), y, np.uint8), np.full((H // 2, W // 2), u, np.uint8),
            np.full((H // 2, W // 2), v, np.uint8))


OUT, IN = flat(40, 100, 150), flat(200, 160, 90)


def test_every_transition_of_the_language_is_drawn():
    assert set(DRAWERS) == set(TRANSITIONS) - {"cut"}


@pytest.mark.parametrize("name", sorted(DRAWERS))
def test_a_transition_goes_from_the_outgoing_frame_to_the_incoming_one(name: str):
    first, last = transition_frame(name, OUT, IN, 0.01), transition_frame(name, OUT, IN, 0.99)
    for a, b, start, end in zip(first, last, OUT, IN):
        assert a.shape == start.shape and a.dtype == np.uint8 and a.flags.c_contiguous
        if name != "fade through black":  # which starts at the picture and passes black
            assert np.abs(a.astype(int) - start).mean() < 12
        assert np.abs(b.astype(int) - end).mean() < 12
    again = transition_frame(name, OUT, IN, 0.37)
    assert all((x == y).all() for x, y in zip(again, transition_frame(name, OUT, IN, 0.37)))


def test_fade_through_black_is_black_halfway():
    y, u, v = transition_frame("fade through black", OUT, IN, 0.5)
    assert (y == 16).all() and (u == 128).all() and (v == 128).all()


@pytest.mark.parametrize("name, incoming", [
    ("wipe left", (slice(None), slice(W // 2, None))), ("wipe right", (slice(None), slice(0, W // 2))),
    ("wipe up", (slice(H // 2, None), slice(None))), ("wipe down", (slice(0, H // 2), slice(None))),
    ("slide left", (slice(None), slice(W // 2, None))), ("slide up", (slice(H // 2, None), slice(None)))])
def test_wipes_and_slides_bring_the_next_picture_in_from_their_side(name, incoming):
    y = transition_frame(name, OUT, IN, 0.5)[0]
    mask = np.zeros((H, W), bool)
    mask[incoming] = True
    assert (y[mask] == 200).all() and (y[~mask] == 40).all()


def test_circles_open_from_and_close_to_the_centre():
    opening = transition_frame("circle open", OUT, IN, 0.3)[0]
    closing = transition_frame("circle close", OUT, IN, 0.3)[0]
    assert opening[H // 2, W // 2] == 200 and opening[0, 0] == 40
    assert closing[H // 2, W // 2] == 40 and closing[0, 0] == 200


def test_a_sub_pixel_shift_blends_neighbouring_columns():
    row = np.array([[0, 100, 200, 100]], np.uint8)
    assert shift(row, 0.25, 2).tolist() == [[25, 125]]
    assert shift(row, 2.0, 2).tolist() == [[200, 100]]


def test_an_unknown_transition_is_refused():
    with pytest.raises(ValueError, match="unknown transition 'spin'"):
        transition_frame("spin", OUT, IN, 0.5)


def test_a_story_may_name_every_transition(tmp_path: Path):
    from engine.dsl.load import load_with_diagnostics

    (tmp_path / ".git").mkdir()
    scenes = "".join(f"scene s{i}\n  transition: {name}\n  \"Hello.\"\n\n"
                     for i, name in enumerate(TRANSITIONS))
    (tmp_path / "t.story").write_text(f"title: T\n\n{scenes}", encoding="utf-8")
    story, diagnostics = load_with_diagnostics(tmp_path / "t.story")
    assert story is not None and not diagnostics
