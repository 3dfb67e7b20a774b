"""The procedural illustrator: a picture-book scene drawn with Pillow from the setting and cast."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from engine.backends.fonts import find_fonts
from engine.backends.image import SUBJECTS, DrawRequest
from engine.backends.image import scenery
from engine.backends.image.banner import (Banner, draw_banner, layout as banner_layout,
                                          reach as banner_reach)
from engine.backends.image.figures import FLYING, WIDTH, draw_figure, heart
from engine.backends.image.layout import Plan, paint, plan
from engine.backends.image.looks import Look, look_of
from engine.backends.image.reading import Reading
from engine.backends.image.weather import fog

log = logging.getLogger(__name__)

VERSION = "8"
"""Part of the identity: bump it whenever the same request would draw different pixels."""


TITLE_FONTS = ("DejaVuSerif-Bold.ttf", "DejaVuSans-Bold.ttf", "NotoSerifCJK-Bold.ttc",
               "NotoSansCJK-Bold.ttc", "NotoColorEmoji.ttf")
"""The banner's font chain: DejaVu for Latin, then the captions' fallbacks (CJK, colour emoji)."""


@functools.cache
def title_chain(names: tuple[str, ...]) -> tuple[Path, ...]:
    """The installed fonts of `names`, in order (empty: Pillow's default font, said once)."""
    chain = find_fonts(names)
    if not chain:
        log.warning("procedural illustrator: none of the title fonts %s is installed; using "
                    "PIL's default font", ", ".join(names))
    return chain


@functools.lru_cache(maxsize=4)
def _vignette(width: int, height: int, strength: float) -> np.ndarray:
    y, x = np.ogrid[-1:1:height * 1j, -1:1:width * 1j]
    falloff = np.clip(x * x * 0.6 + y * y * 0.8 - 0.35, 0, None)
    return (1.0 - strength * falloff).astype(np.float32)[..., None]


Box = tuple[float, float, float, float]


def _figure_box(look: Look, x: float, base: float, tall: float, facing: int, grounded: bool,
                pose: str | None) -> Box:
    """Where a figure's pixels are: it is drawn again, alone, on a clear layer around where it
    stands, and measured (its faint ground shadow left out)."""
    left, top = int(x - 1.6 * tall), int(base - 1.8 * tall)
    layer = Image.new("RGBA", (int(3.2 * tall) + 2, int(2.2 * tall) + 2), (0, 0, 0, 0))
    draw_figure(ImageDraw.Draw(layer, "RGBA"), look, x - left, base - top, tall, facing,
                grounded=grounded, pose=pose)
    solid = layer.getchannel("A").point(lambda alpha: 255 if alpha > 100 else 0)
    x0, y0, x1, y1 = solid.getbbox() or (0, 0, 0, 0)
    return x0 + left, y0 + top, x1 + left, y1 + top


BAND_GAP = 0.012
"""How far above the caption band (fraction of the height) a landscape picture's figures end."""
TITLE_CLEARANCE = 0.16
"""The least room kept at the top (fraction of the height) when a figure is raised over the
caption band: it is made smaller rather than pushed into it, or into a title's banner (which
may reach lower: two rows)."""


def _above(limit: float, look: Look, x: float, base: float, tall: float, facing: int,
           grounded: bool, pose: str | None, box: Box, top: float) -> tuple[float, float, Box]:
    """The figure's base, height and box raised (and, when it would not fit between `top` and
    `limit`, made smaller) so that its lowest pixel is above `limit` (canvas pixels): standing
    further back on the ground, clear of the captions' band."""
    if box[3] <= limit:
        return base, tall, box
    if box[3] - box[1] > limit - top:
        tall *= (limit - top) / (box[3] - box[1])
        box = _figure_box(look, x, base, tall, facing, grounded, pose)
    base -= box[3] - limit
    return base, tall, _figure_box(look, x, base, tall, facing, grounded, pose)


class ProceduralIllustrator:
    """Draws picture-book scenes procedurally: no model, no network, the same pixels every time."""

    def __init__(self, supersample: int = 2, banner: bool = True, texture: float = 4.0,
                 vignette: float = 0.22, figure_height: float = 0.36,
                 title_fonts: Sequence[str] = TITLE_FONTS) -> None:
        self.supersample = max(1, int(supersample))
        self.banner = banner
        self.texture = texture
        self.vignette = vignette
        self.figure_height = figure_height
        self.title_fonts = tuple(str(name) for name in title_fonts)

    def identity(self) -> dict[str, Any]:
        return {"backend": "procedural", "version": VERSION, "supersample": self.supersample,
                "banner": self.banner, "texture": self.texture, "vignette": self.vignette,
                "figure_height": self.figure_height, "pillow": Image.__version__,
                "numpy": np.__version__,
                "fonts": [path.name for path in title_chain(self.title_fonts)]
                if self.banner else None}

    def describe(self, request: DrawRequest) -> dict[str, Any]:
        """The words of the setting and prompt it used and did not understand, what it drew."""
        reading = Reading.of(request)
        layout = self._plan(request, reading)
        return {"language": reading.language, "time": layout.time,
                "understood": list(reading.understood),
                "not_understood": list(reading.not_understood),
                "elements": list(layout.elements),
                "poses": dict(reading.poses),
                "colours": {element: "#%02x%02x%02x" % rgb for element, rgb in reading.colours},
                "title": None if (laid := self._title(request)) is None
                else {"rows": list(laid.rows), "cut": laid.cut}}

    def _title(self, request: DrawRequest) -> Banner | None:
        """How the scene's title is laid out in its banner at the picture's size (None: no
        banner)."""
        if not (self.banner and request.title and request.title.strip()):
            return None
        return banner_layout(request.title, max(1, request.width), max(1, request.height),
                             title_chain(self.title_fonts))

    @staticmethod
    def _plan(request: DrawRequest, reading: Reading) -> Plan:
        return plan(reading, {look_of(x, reading.language).kind for x in request.characters})

    def draw(self, request: DrawRequest) -> Image.Image:
        width, height = max(1, request.width), max(1, request.height)
        reading = Reading.of(request)
        layout = self._plan(request, reading)
        key = f"{request.seed}|{request.scene_id}|{request.setting}|{request.prompt}"
        rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        ss = self.supersample
        image = Image.new("RGB", (width * ss, height * ss))
        canvas = scenery.Canvas(image, ImageDraw.Draw(image, "RGBA"), rng, layout.time,
                          indoor=layout.backdrop in ("room", "bedroom", "kitchen", "classroom"),
                          rainy=layout.gloomy)
        paint(canvas, layout, reading, layout.behind)
        banner = self._title(request)
        subjects = self._cast(canvas, request, reading, layout, banner)
        paint(canvas, layout, reading, layout.front)
        if ss > 1:
            image = image.reduce(ss)
        image = self._finish(image, reading, layout, rng)
        notes = {"characters": [(x0 / canvas.w, y0 / canvas.h, x1 / canvas.w, y1 / canvas.h)
                                for x0, y0, x1, y1 in subjects], "title": []}
        if banner is not None:
            x0, y0, x1, y1 = draw_banner(image, banner, title_chain(self.title_fonts))
            notes["title"].append((x0 / width, y0 / height, x1 / width, y1 / height))
        image.info[SUBJECTS] = json.dumps({kind: [[round(v, 4) for v in box] for box in boxes]
                                           for kind, boxes in notes.items()})
        return image

    def _cast(self, c: scenery.Canvas, request: DrawRequest, r: Reading, p: Plan,
              banner: Banner | None) -> list[Box]:
        """The characters, drawn (clear of the title's `banner`); where each one's pixels are
        (canvas pixels)."""
        looks = [look_of(x, r.language) for x in request.characters]
        boxes: list[Box] = []
        if not looks:
            return boxes
        w, h, rng = c.w, c.h, c.rng
        heights = [self.figure_height * h * look.size for look in looks]
        total = sum(hh * WIDTH.get(look.kind, 0.7) for hh, look in zip(heights, looks))
        shrink = min(1.0, 0.82 * w / total) if total else 1.0
        order = list(range(len(looks)))
        rng.shuffle(order)
        slots = [w * (0.5 if len(looks) == 1 else 0.16 + 0.68 * k / (len(looks) - 1))
                 for k in range(len(looks))]
        huggers = [i for i, x in enumerate(request.characters) if r.pose(x.name) == "hugging"]
        if len(huggers) > 1:  # side by side in the middle, turned towards each other
            order = [*(i for i in order if i not in huggers[:2]), *huggers[:2]]
            slots = [*(w * (0.12 + 0.2 * k) for k in range(len(looks) - 2)),
                     0.62 * w - 0.08 * h, 0.62 * w + 0.08 * h]
        at_sea = "sea" in p.behind and "boat" not in p.behind and "beach" not in p.behind
        adrift = p.backdrop == "space" and "moon surface" not in p.behind
        in_bed = False
        landscape = request.width >= request.height and request.caption_band < 1.0
        clear_of = (request.caption_band - BAND_GAP) * h if landscape else None
        top = TITLE_CLEARANCE * h
        if banner is not None:  # canvas pixels
            top = max(top, banner_reach(banner, request.width, request.height)
                      * h / max(1, request.height))
        if clear_of is not None:  # a tiny picture's banner may reach past the band: room kept
            top = min(top, 0.5 * clear_of)
        for slot, index in zip(slots, order):
            look, tall = looks[index], min(heights[index] * shrink, 0.7 * h)
            pose = r.pose(request.characters[index].name)
            half = 0.5 * tall * WIDTH.get(look.kind, 0.7) + 0.02 * w
            x = min(max(slot + rng.uniform(-0.04, 0.04) * w, half), w - half)
            swims = look.kind == "fish" and (p.backdrop == "underwater" or at_sea)
            floats = look.kind in FLYING or swims or adrift
            if swims and p.backdrop == "outdoor":
                base = rng.uniform(0.72, 0.78) * h
            elif floats or p.backdrop == "sky":
                base = rng.uniform(0.56, 0.66) * h if floats else p.ground * h
            else:
                base = (p.ground + rng.uniform(-0.02, 0.02)) * h
            facing = 1 if x < w / 2 else -1
            if rng.random() < 0.2:
                facing = -facing
            if pose == "hugging" and index in huggers[:2] and len(huggers) > 1:
                x, facing = slot, 1 if index == huggers[0] else -1
            if pose == "sleeping" and p.backdrop == "bedroom" and not in_bed:
                in_bed, facing, floats = True, 1, True  # tucked in, head on the pillow
                tall = min(tall, 0.3 * w)
                x, base = 0.36 * w - 0.45 * tall, 0.6 * h
            box = _figure_box(look, x, base, tall, facing, not floats, pose)
            if clear_of is not None and not in_bed:
                base, tall, box = _above(clear_of, look, x, base, tall, facing, not floats, pose,
                                         box, top=top)
            draw_figure(c.draw, look, x, base, tall, facing, grounded=not floats, pose=pose)
            boxes.append(box)
        if len(huggers) > 1:
            heart(c.draw, 0.62 * w, min(p.ground * h - 0.75 * max(heights), 0.3 * h), 0.03 * h)
        return boxes

    def _finish(self, image: Image.Image, r: Reading, p: Plan,
                rng: random.Random) -> Image.Image:
        """Fog, style words and a painted feel: pastel, warm/cool, paper grain, a soft vignette."""
        pixels = np.asarray(image, dtype=np.float32)
        if "fog" in p.front:
            pixels = fog(pixels)
        style = r.style
        if style & {"pastel", "soft", "gentle"}:
            pixels = pixels * 0.84 + 255 * 0.16
        if "warm" in style:
            pixels = pixels * np.array([1.04, 1.0, 0.93], np.float32)
        if style & {"cool", "cold", "icy"}:
            pixels = pixels * np.array([0.94, 1.0, 1.05], np.float32)
        if style & {"vivid", "bright", "bold"}:
            grey = pixels.mean(axis=2, keepdims=True)
            pixels = grey + (pixels - grey) * 1.2
        painted = style & {"watercolor", "watercolour", "painted", "crayon", "gouache"}
        grain = self.texture * (2.0 if painted else 1.0)
        if grain > 0:
            small = np.random.default_rng(rng.getrandbits(32)).normal(
                0, grain, (image.height // 4 + 1, image.width // 4 + 1)).astype(np.float32)
            noise = np.asarray(Image.fromarray(small).resize(image.size, Image.BILINEAR))
            pixels = pixels + noise[..., None]
        if self.vignette > 0:
            pixels = pixels * _vignette(image.width, image.height, self.vignette)
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
