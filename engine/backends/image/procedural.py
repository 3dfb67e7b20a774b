"""The procedural illustrator: a picture-book scene drawn with Pillow from the setting and cast."""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.backends.fonts import find_font
from engine.backends.image import DrawRequest
from engine.backends.image import scenery as S
from engine.backends.image.figures import FLYING, WIDTH, draw_figure
from engine.backends.image.looks import look_of

log = logging.getLogger(__name__)

VERSION = "2"
"""Part of the identity: bump it whenever the same request would draw different pixels."""

_FEATURES: dict[str, str] = {
    "sea": r"sea|ocean|waves?|harbou?r|seaside|shore", "beach": r"beach|sand|shore|seaside",
    "pond": r"lake|pond|river|stream|brook", "puddles": r"puddles?",
    "forest": r"forest|woods?|jungle|pines?|trees", "tree": r"tree",
    "hill": r"hills?|meadow|field|valley|countryside|farm",
    "mountain": r"mountains?|peaks?|cliffs?",
    "village": r"village|town|rooftops?|houses|city|street|cottages?",
    "castle": r"castles?|palace|kingdom|towers?", "desert": r"desert|dunes?",
    "boat": r"boats?|ship|sail\w*",
    "garden": r"garden|flowers?|park|yard|blossom", "snow": r"snow\w*|winter|ice|icy|frost\w*",
    "rain": r"rain\w*|storm\w*|drizzle", "sky": r"sky|clouds?|flying|above the clouds",
    "cave": r"caves?|cavern|tunnel|underground", "fireflies": r"fireflies|firefly|glow-?worms?",
    "room": r"room|bedroom|kitchen|inside|indoors|nursery|attic|library|classroom|hall|home",
    "bed": r"bed|bedroom|bedtime|sleep\w*",
    "underwater": r"underwater|under the (sea|ocean|water)|coral|reef|seabed",
    "outdoor": r"outside|outdoors|garden|forest|beach|hill|meadow|street|park|sky|field",
}
_TIMES = (("night", r"night|midnight|stars?|starry|moonlit|moonlight|dark"),
          ("dusk", r"dusk|sunset|evening|twilight"),
          ("dawn", r"dawn|sunrise|early morning|daybreak"))


@dataclass(frozen=True, slots=True)
class Reading:
    """What the words of a scene ask the picture for."""

    time: str
    features: frozenset[str]
    style: frozenset[str]

    @classmethod
    def of(cls, request: DrawRequest) -> Reading:
        place = (request.setting or request.prompt or "").lower()
        when = f"{request.setting or request.prompt} {request.title}".lower()
        time = next((t for t, pattern in _TIMES if re.search(rf"\b({pattern})\b", when)), "day")
        features = frozenset(f for f, pattern in _FEATURES.items()
                             if re.search(rf"\b({pattern})\b", place))
        style_words = re.findall(r"[a-z]+", (request.style or "").lower())
        return cls(time, features, frozenset(style_words))

    @property
    def scene(self) -> str:
        f = self.features
        if "underwater" in f:
            return "underwater"
        if "cave" in f:
            return "cave"
        indoors = "room" in f or "bed" in f and not f & {"garden", "forest", "hill"}
        if indoors and "outdoor" not in f:
            return "room"
        if "sky" in f and not f & {"sea", "hill", "village", "forest", "garden", "mountain",
                                   "beach", "snow"}:
            return "sky"
        return "outdoor"


@functools.lru_cache(maxsize=1)
def _font_path() -> str | None:
    """A DejaVu bold face for the banner (serif preferred), or None: PIL's default font."""
    path = find_font("DejaVuSerif-Bold.ttf", "DejaVuSans-Bold.ttf")
    if path is None:
        log.warning("procedural illustrator: no DejaVu font found; using PIL's default font")
    return str(path) if path else None


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=4)
def _vignette(width: int, height: int, strength: float) -> np.ndarray:
    y, x = np.ogrid[-1:1:height * 1j, -1:1:width * 1j]
    falloff = np.clip(x * x * 0.6 + y * y * 0.8 - 0.35, 0, None)
    return (1.0 - strength * falloff).astype(np.float32)[..., None]


class ProceduralIllustrator:
    """Draws picture-book scenes procedurally: no model, no network, the same pixels every time."""

    def __init__(self, supersample: int = 2, banner: bool = True, texture: float = 4.0,
                 vignette: float = 0.22, figure_height: float = 0.36) -> None:
        self.supersample = max(1, int(supersample))
        self.banner = banner
        self.texture = texture
        self.vignette = vignette
        self.figure_height = figure_height

    def identity(self) -> dict[str, Any]:
        return {"backend": "procedural", "version": VERSION, "supersample": self.supersample,
                "banner": self.banner, "texture": self.texture, "vignette": self.vignette,
                "figure_height": self.figure_height, "pillow": Image.__version__,
                "numpy": np.__version__,
                "font": Path(_font_path()).name if self.banner and _font_path() else None}

    def draw(self, request: DrawRequest) -> Image.Image:
        width, height = max(1, request.width), max(1, request.height)
        reading = Reading.of(request)
        key = f"{request.seed}|{request.scene_id}|{request.setting}|{request.prompt}"
        rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        ss = self.supersample
        image = Image.new("RGB", (width * ss, height * ss))
        canvas = S.Canvas(image, ImageDraw.Draw(image, "RGBA"), rng, reading.time,
                          indoor=reading.scene == "room",
                          rainy="rain" in reading.features and reading.scene in ("outdoor", "sky"))
        ground = self._background(canvas, reading, request)
        self._cast(canvas, request, reading, ground)
        self._weather(canvas, reading)
        if ss > 1:
            image = image.reduce(ss)
        image = self._finish(image, reading, rng)
        if self.banner and request.title and request.title.strip():
            self._banner(image, request.title)
        return image

    def _background(self, c: S.Canvas, r: Reading, request: DrawRequest) -> float:
        """Paints everything behind the characters; returns where their feet stand (0..1)."""
        f, h = r.features, c.h
        kinds = {look_of(x).kind for x in request.characters}
        if r.scene == "underwater":
            S.underwater(c, int(0.84 * h))
            return 0.9
        if r.scene == "cave":
            S.cave(c, int(0.78 * h))
            return 0.9
        if r.scene == "room":
            S.room(c, int(0.66 * h), bed="bed" in f)
            return 0.9
        horizon = int((0.8 if r.scene == "sky" else 0.6) * h)
        S.sky(c, horizon if r.scene != "sky" else h, moon="moon" not in kinds,
              sun="sun" not in kinds)
        if "rain" in f:
            S.clouds(c, 5, 0.12, 0.3, grey=True)
        if r.scene == "sky":
            S.clouds(c, 9, 0.82, 1.0)
            return 0.92
        snowy = "snow" in f
        desert = "desert" in f and not snowy
        grass = (245, 248, 255) if snowy else (232, 200, 140) if desert else (118, 186, 92)
        if "mountain" in f:
            S.mountains(c, horizon, snowy)
        if "sea" in f or "beach" in f:
            S.water(c, horizon, int((0.8 if "beach" in f else 1.0) * h))
            if "beach" in f:
                c.shape([(0, h), (0, 0.8 * h), (0.5 * c.w, 0.77 * h), (c.w, 0.8 * h), (c.w, h)],
                        (240, 215, 160), edge=False)
            elif "boat" in f:
                S.boat(c, 0.84 * h)
                return 0.85
            else:
                return 0.95
        else:
            S.hills(c, horizon, grass, layers=3, height=0.16 if "hill" in f else 0.1)
        if "forest" in f:
            pine = c.rng.random() < 0.5 or snowy
            S.trees(c, horizon + 0.04 * h, 12, 0.28, pine=pine, snowy=snowy)
            S.trees(c, 0.8 * h, 4, 0.42, pine=snowy, snowy=snowy)
        elif "tree" in f or "garden" in f or "hill" in f:
            S.trees(c, horizon + 0.05 * h, c.rng.randint(2, 4), 0.3, pine=snowy, snowy=snowy)
        if "castle" in f:
            S.castle(c, horizon + 0.02 * h, 0.3)
        if "village" in f:
            S.houses(c, horizon + 0.1 * h, c.rng.randint(3, 5), 0.16)
        if "pond" in f:
            c.disc(c.rng.uniform(0.3, 0.7) * c.w, 0.86 * h, 0.25 * c.w, 0.05 * h,
                   (*c.lit((100, 165, 215)), 255), edge=True)
        if "garden" in f or "hill" in f and not snowy and not desert:
            S.flowers(c, 0.74, 0.98, 26 if "garden" in f else 10)
        if "puddles" in f or "rain" in f:
            S.puddles(c, 0.84, 0.96, 3)
        return 0.86

    def _cast(self, c: S.Canvas, request: DrawRequest, r: Reading, ground: float) -> None:
        looks = [look_of(x) for x in request.characters]
        if not looks:
            return
        w, h, rng = c.w, c.h, c.rng
        heights = [self.figure_height * h * look.size for look in looks]
        total = sum(hh * WIDTH.get(look.kind, 0.7) for hh, look in zip(heights, looks))
        shrink = min(1.0, 0.82 * w / total) if total else 1.0
        order = list(range(len(looks)))
        rng.shuffle(order)
        slots = [w * (0.5 if len(looks) == 1 else 0.16 + 0.68 * k / (len(looks) - 1))
                 for k in range(len(looks))]
        for slot, index in zip(slots, order):
            look, tall = looks[index], min(heights[index] * shrink, 0.7 * h)
            half = 0.5 * tall * WIDTH.get(look.kind, 0.7) + 0.02 * w
            x = min(max(slot + rng.uniform(-0.04, 0.04) * w, half), w - half)
            at_sea = "sea" in r.features and "boat" not in r.features
            swims = look.kind == "fish" and (r.scene == "underwater" or at_sea)
            floats = look.kind in FLYING or swims
            if swims and r.scene == "outdoor":
                base = rng.uniform(0.72, 0.78) * h
            elif floats or r.scene == "sky":
                base = rng.uniform(0.56, 0.66) * h if floats else ground * h
            else:
                base = (ground + rng.uniform(-0.02, 0.02)) * h
            facing = 1 if x < w / 2 else -1
            if rng.random() < 0.2:
                facing = -facing
            draw_figure(c.draw, look, x, base, tall, facing, grounded=not floats)

    @staticmethod
    def _weather(c: S.Canvas, r: Reading) -> None:
        """What falls or glows in front of everything."""
        if r.scene in ("outdoor", "sky"):  # no weather falls in a room, a cave or the sea
            if "rain" in r.features:
                S.rain(c)
            if "snow" in r.features:
                S.snowflakes(c)
        if "fireflies" in r.features:
            S.fireflies(c)

    def _finish(self, image: Image.Image, r: Reading, rng: random.Random) -> Image.Image:
        """Style words and a painted feel: pastel, warm/cool, paper grain, a soft vignette."""
        pixels = np.asarray(image, dtype=np.float32)
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

    def _banner(self, image: Image.Image, title: str) -> None:
        w, h = image.size
        font = _font(max(10, round(h * 0.052)))
        draw = ImageDraw.Draw(image, "RGBA")
        text = " ".join(title.split())  # one line, whatever whitespace the title holds
        while draw.textlength(text, font=font) > w * 0.8 and len(text) > 4:
            text = text[:-2].rstrip() + "…"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left, bottom - top
        pad_x, pad_y = h * 0.035, h * 0.018
        x0, y0 = (w - tw) / 2 - pad_x, h * 0.035
        x1, y1 = (w + tw) / 2 + pad_x, y0 + th + 2 * pad_y
        tail = (y1 - y0) * 0.6
        for side, edge in ((-1, x0), (1, x1)):
            upper, lower = y0 + 0.25 * (y1 - y0), y1 + 0.12 * (y1 - y0)
            draw.polygon([(edge, upper), (edge + side * tail * 1.6, upper),
                          (edge + side * tail, (y0 + y1) / 2 + 0.12 * (y1 - y0)),
                          (edge + side * tail * 1.6, lower), (edge, lower)],
                         fill=(214, 120, 120, 235))
        draw.rounded_rectangle((x0 + 3, y0 + 4, x1 + 3, y1 + 4), radius=(y1 - y0) / 3,
                               fill=(40, 20, 40, 60))
        draw.rounded_rectangle((x0, y0, x1, y1), radius=(y1 - y0) / 3, fill=(253, 246, 228, 240),
                               outline=(200, 110, 110, 255), width=max(1, h // 240))
        draw.text(((w - tw) / 2 - left, y0 + pad_y - top), text, font=font, fill=(88, 52, 82))
