"""A diffusers picture composed around the caption band: drawn taller than the frame, cut where
the band holds the least detail, the cut recorded in what the manifest shows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.backends.detail import detail, mean_in
from engine.backends.image import DrawRequest
from engine.backends.image.composition import cut_to_frame, drawn_height

BAND = 0.75


def busy_at(top: int, bottom: int, width: int = 96, height: int = 160) -> Image.Image:
    """A flat picture with a checkerboard (the 'subject') between rows `top` and `bottom`."""
    picture = Image.new("RGB", (width, height), (120, 160, 200))
    draw = ImageDraw.Draw(picture)
    for y in range(top, bottom, 8):
        for x in range((y // 8) % 2 * 8, width, 16):
            draw.rectangle((x, y, x + 7, min(y + 7, bottom - 1)), fill=(20, 20, 20))
    return picture


def band_detail(frame: Image.Image) -> float:
    return mean_in(detail(frame, *frame.size), (0.0, BAND, 1.0, 1.0))


@pytest.mark.parametrize("subject", [(0, 40), (60, 100), (120, 160)])
def test_the_cut_keeps_the_busy_part_out_of_the_band(subject: tuple[int, int]):
    tall = busy_at(*subject)
    frame, composition = cut_to_frame(tall, 96, 128, BAND)
    assert frame.size == (96, 128) and composition is not None
    top = round(composition.crop_top * 160)
    assert frame.tobytes() == tall.crop((0, top, 96, top + 128)).tobytes()
    candidates = [band_detail(tall.crop((0, t, 96, t + 128))) for t in range(0, 33, 4)]
    assert composition.band_detail <= min(candidates) + 1e-3
    assert composition.band_detail <= composition.centred_detail
    subject_rows = np.arange(*subject) - top
    in_band = (subject_rows >= BAND * 128) & (subject_rows < 128)
    assert not in_band.any() or subject == (120, 160)  # the last can only be cut in part
    if subject == (120, 160):
        assert top == 0  # as much of it cut off as the headroom allows


def test_a_flat_picture_is_cut_at_the_centre_and_no_captions_no_cut():
    frame, composition = cut_to_frame(Image.new("RGB", (96, 160), "white"), 96, 128, BAND)
    assert composition is not None and round(composition.crop_top * 160) == 16
    assert cut_to_frame(busy_at(0, 40), 96, 128, 1.0)[1] is None
    assert drawn_height(128, 1.0, 0.2) == 128 and drawn_height(128, BAND, 0.2) == 154


def test_the_tiny_pipeline_draws_taller_and_records_the_cut(tmp_path: Path):
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from engine.backends.image.diffusers import DiffusersIllustrator
    from tests import tiny_models

    drawer = DiffusersIllustrator(model=str(tiny_models.tiny_sd()), steps=2, max_pixels=96 * 64,
                                  delta_cache=str(tmp_path / "deltas"), caption_headroom=0.25)
    plain = DrawRequest("meadow", "a fox in the snow", "Snow", "a meadow", "watercolor", (),
                        96, 64, 7)
    banded = dataclasses.replace(plain, caption_band=BAND)
    assert drawer.describe(plain)["size"] == [96, 64]
    first = drawer.draw(banded)
    described = drawer.describe(banded)
    width, height = described["size"]
    assert first.size == (96, 64) and height / width > 64 / 96  # drawn taller than the frame
    composition = described["composition"]
    assert composition["drawn"] == [width, height]
    assert 0.0 <= composition["crop_top"] <= 1 - 64 / 80
    assert composition["band_detail"] <= composition["centred_detail"] + 1e-3
    assert np.array_equal(np.asarray(first), np.asarray(drawer.draw(banded)))
    assert "composition" not in drawer.describe(plain)
