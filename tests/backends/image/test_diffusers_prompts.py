"""image=diffusers with the real CLIP tokenizer: fitted or chunked prompts, native sizes."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from engine.backends.image import CharacterLook, DrawRequest  # noqa: E402
from engine.backends.image.diffusers import DiffusersIllustrator  # noqa: E402
from engine.backends.image.pipeline_size import native_side, size_multiple  # noqa: E402
from engine.errors import ConfigError  # noqa: E402
from tests import real_clip, tiny_models  # noqa: E402

TOKEN_IDS = [48136, 3293]  # "sks moon" in the released CLIP vocabulary
LUNA = CharacterLook(name="Luna", description="a small silver moon with rosy cheeks and a blue "
                     "nightcap", tags=("moon", "silver", "rosy cheeks", "blue nightcap"),
                     token="sks moon")
LONG = ("Soft watercolor picture book, warm pastel colors. A quiet village at night, rooftops "
        "under bright stars. Luna, a small silver moon with rosy cheeks and a blue nightcap, "
        "looking worried. Luna peeking out from behind a fluffy cloud over the sleeping "
        "village, a trail of glittering stardust drifting down onto the red tiled roofs, three "
        "tiny fireflies circling her nightcap like a crown of lanterns, an old stone bridge over "
        "a silver river with lily pads and reeds. Picture book illustration.")


def request(prompt: str = LONG, size: tuple[int, int] = (64, 64)) -> DrawRequest:
    return DrawRequest("night", prompt, "Night", "a quiet village at night",
                       "soft watercolor picture book, warm pastel colors", (LUNA,), *size, 7)


class Spy:
    """The pipeline, with every call's arguments kept."""

    def __init__(self, pipe: Any):
        self.pipe, self.calls = pipe, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    def __call__(self, **options: Any) -> Any:
        self.calls.append(options)
        return self.pipe(**options)


def spied(model: Path, tmp_path: Path, **settings: Any) -> tuple[DiffusersIllustrator, Spy]:
    settings.setdefault("negative_prompt", "blurry")
    drawer = DiffusersIllustrator(model=str(model), steps=2,
                                  delta_cache=str(tmp_path / "deltas"), **settings)
    spy = Spy(drawer.pipeline)
    drawer._pipe = spy
    return drawer, spy


@pytest.fixture
def diffusers_warnings():
    """What diffusers logs (its truncation warning among it)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(logging.WARNING)
    logging.getLogger("diffusers").addHandler(handler)
    yield records
    logging.getLogger("diffusers").removeHandler(handler)


@pytest.mark.parametrize("build", [real_clip.tiny_sd_real_clip, real_clip.tiny_sdxl_real_clip])
def test_a_long_prompt_is_fitted_to_77_tokens_with_the_token_first(build, tmp_path: Path,
                                                                   diffusers_warnings):
    drawer, spy = spied(build(), tmp_path)
    described = drawer.describe(request())
    drawer.draw(request())
    sent = spy.calls[-1]
    assert sent["prompt"] == described["prompt"]
    assert sent["negative_prompt"] == described["negative_prompt"] == "blurry"
    for name, tokenizer in (("text_encoder", spy.tokenizer), ("text_encoder_2",
                                                             getattr(spy, "tokenizer_2", None))):
        if tokenizer is None:
            continue
        ids = tokenizer(sent["prompt"]).input_ids
        assert described["tokens"][name] == len(ids) <= 77 and ids[1:3] == TOKEN_IDS
    assert described["dropped"] and described["long_prompts"] == "drop"
    assert not [m for m in diffusers_warnings if "truncated" in m]


@pytest.mark.parametrize("build", [real_clip.tiny_sd_real_clip, real_clip.tiny_sdxl_real_clip])
def test_chunked_prompts_encode_like_the_pipeline_and_keep_every_phrase(build, tmp_path: Path,
                                                                        diffusers_warnings):
    short = request("Luna on a cloud")
    for negative in ("", "blurry"):
        own = DiffusersIllustrator(model=str(build()), steps=2, negative_prompt=negative,
                                   delta_cache=str(tmp_path / "d"))
        chunked, spy = spied(build(), tmp_path, long_prompts="chunk", negative_prompt=negative)
        # a prompt within 77 tokens: compel's embeddings are the pipeline's own, pixel for pixel
        assert np.array_equal(np.asarray(own.draw(short)), np.asarray(chunked.draw(short)))
    described = chunked.describe(request())
    chunked.draw(request())
    embeds = spy.calls[-1]["prompt_embeds"]
    assert described["dropped"] == [] and described["tokens"]["text_encoder"] > 77
    assert embeds.shape[1] == 154 and spy.calls[-1]["negative_prompt_embeds"].shape == embeds.shape
    assert "sks moon Luna" in described["prompt"] and "red tiled roofs" in described["prompt"]
    assert not [m for m in diffusers_warnings if "truncated" in m]


def test_pictures_are_drawn_at_the_pipelines_native_budget_then_fitted(tmp_path: Path):
    drawer, spy = spied(tiny_models.tiny_sd(), tmp_path)
    side = native_side(spy)  # the tiny unet's sample_size 32 times its VAE's factor 2
    assert side == 64 and size_multiple(spy) == 8
    wide = request(size=(320, 180))
    image = drawer.draw(wide)
    assert (spy.calls[-1]["width"], spy.calls[-1]["height"]) == (88, 48)  # ≈ 64² at 16:9
    assert drawer.describe(wide)["size"] == [88, 48] and image.size == (320, 180)
    capped, spy = spied(tiny_models.tiny_sd(), tmp_path, max_pixels=80 * 48)
    assert capped.draw(request(size=(48, 32))).size == (48, 32)
    assert (spy.calls[-1]["width"], spy.calls[-1]["height"]) == (48, 32)  # the frame, if smaller
    capped.draw(wide)
    assert (spy.calls[-1]["width"], spy.calls[-1]["height"]) == (80, 48)  # else at most that
    sdxl, spy = spied(tiny_models.tiny_sdxl(), tmp_path)
    assert native_side(spy) == 64 and sdxl.describe(request(size=(90, 160)))["size"] == [48, 88]


def test_bad_prompt_and_size_settings_are_refused():
    from types import SimpleNamespace

    from engine.backends.image.long_prompts import ChunkedEncoder

    with pytest.raises(ConfigError, match="image.long_prompts must be one of drop, chunk"):
        DiffusersIllustrator(model="x", long_prompts="truncate")
    with pytest.raises(ConfigError, match="for SD and SDXL pipelines, not SimpleNamespace"):
        ChunkedEncoder(SimpleNamespace(text_encoder=None))
    with pytest.raises(ConfigError, match="image.max_pixels"):
        DiffusersIllustrator(model="x", max_pixels=10)


STORY = """title: Moon
audience: 3-6
style: soft watercolor picture book, warm pastel colors, gentle paper texture, dreamy light
seed: 42

character Luna
  description: a small silver moon with rosy cheeks, a blue nightcap and a long starry scarf
  tags: moon, silver, rosy cheeks, blue nightcap, starry scarf
  model: models/luna
  token: sks moon
  trainedness: 0.8

character Owl
  description: a wise old owl with round glasses, a brown feathered cloak and a tiny lantern

scene night-falls
  setting: a quiet hillside village at night with crooked chimneys, rooftops under bright twinkling stars, lanterns glowing in round windows
  with: Luna, Owl
  "Every night, Luna lit up the sky above the village."
  Luna (whispering): "Oh no! Where did my glow go?"
  Owl (sadly): "Let us look for it together."

scene home
  setting: the sky above the forest, fireflies rising like sparks over the dark pine trees
  with: Luna, Owl
  "And from that night on, the moon never felt alone."
"""


@pytest.mark.slow
def test_a_story_with_long_filled_prompts_keeps_the_token_in_every_picture(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(real_clip.tiny_real_clip_character(), repo / "models" / "luna")
    (repo / "moon.story").write_text(STORY)
    done = tiny_models.render_with_diffusers(repo / "moon.story", real_clip.tiny_sd_real_clip(),
                                             tmp_path, (160, 90))
    assert done.returncode == 0, done.stderr
    assert "truncated" not in done.stdout + done.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    drawn = [a for a in manifest["artifacts"] if a["stage"] == "draw"]
    clip = real_clip.real_clip_tokenizer()
    assert len(drawn) == 2
    for artifact in drawn:
        details = artifact["details"]
        ids = clip(details["prompt"]).input_ids
        assert ids.index(TOKEN_IDS[0]) < 77 and ids[1:3] == TOKEN_IDS
        assert details["tokens"] == {"text_encoder": len(ids)} and len(ids) <= 77
        # the tiny pipeline's 64² budget at 16:9 drawn a fifth taller (caption_headroom), then cut
        assert details["size"] == [80, 56]
        assert "whisper" not in details["prompt"]
        assert details["negative_prompt"] and details["negative_tokens"]["text_encoder"] <= 77
        assert Image.open(artifact["path"]).size == (160, 90)
    assert any(a["details"]["dropped"] for a in drawn)  # the filled prompts were too long
    board = (tmp_path / "run" / "storyboard.html").read_text()
    assert "sks moon Luna" in board and "80×56" in board
