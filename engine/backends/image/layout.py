"""From a reading to a plan (which elements, in which order) and the painting of each element."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine.backends.image import places as P
from engine.backends.image import rooms as R
from engine.backends.image import scenery as S
from engine.backends.image import weather as W
from engine.backends.image.looks import COLOURS, RGB
from engine.backends.image.reading import Reading

ROOMS = ("kitchen", "classroom", "bedroom", "room")
_OUTSIDE = frozenset({"sea", "waves", "beach", "forest", "tree", "hill", "mountain", "village",
                      "garden", "desert", "river", "lake", "castle", "market", "rainbow", "aurora",
                      "storm", "dark_clouds", "lightning"})
_GROUND = frozenset({"sea", "waves", "beach", "hill", "village", "forest", "garden", "mountain",
                     "snow", "river", "lake", "desert", "castle", "market", "tree"})
_SEASON_LEAVES: dict[str, tuple[RGB, ...]] = {
    "spring": ((250, 190, 215), (245, 170, 200), (255, 220, 235)),
    "summer": ((70, 165, 70), (95, 180, 75), (60, 150, 85)),
    "autumn": ((230, 130, 50), (210, 80, 50), (240, 185, 60)),
}
_GRASS = {"spring": (140, 205, 110), "summer": (100, 185, 75), "autumn": (180, 175, 90)}


@dataclass(frozen=True, slots=True)
class Plan:
    """What the picture shows, behind and in front of the cast, and where the cast stands."""

    backdrop: str
    time: str
    behind: tuple[str, ...]
    front: tuple[str, ...]
    horizon: float
    ground: float
    gloomy: bool = False
    season: str | None = None

    @property
    def elements(self) -> tuple[str, ...]:
        return (*self.behind, *self.front)

    @property
    def snowy(self) -> bool:
        return "snowy ground" in self.behind


def _front(f: frozenset[str], outdoors: bool) -> tuple[str, ...]:
    out = []
    if outdoors:
        out += ["rain"] if f & {"rain", "storm"} else []
        out += ["snowflakes"] if "snow" in f else []
        out += ["wind"] if f & {"wind", "storm"} else []
        out += ["falling leaves"] if "autumn" in f else []
    out += ["fireflies"] if "fireflies" in f else []
    out += ["fog"] if "fog" in f else []
    return tuple(out)


def _sky(f: frozenset[str], time: str, gloomy: bool, kinds: set[str]) -> list[str]:
    out = ["sky"]
    if time == "night" and not gloomy:
        out += ["stars"] + (["moon"] if "moon" not in kinds else [])
    elif not gloomy and "sun" not in kinds:
        out += ["sun"]
    out += ["clouds"] if time != "night" else []
    out += ["aurora"] if "aurora" in f else []
    out += ["rainbow"] if "rainbow" in f else []
    out += ["dark clouds"] if gloomy else []
    out += ["lightning"] if f & {"lightning", "storm"} else []
    return out


def _land(f: frozenset[str], season: str | None) -> tuple[list[str], float, float]:
    """The ground elements, the horizon and where feet stand."""
    out = ["mountains"] if "mountain" in f else []
    ground = 0.86
    if f & {"sea", "waves", "beach"} or "boat" in f and not f & {"river", "lake"}:
        out += ["sea"] + (["big waves"] if f & {"waves", "storm"} else [])
        out += ["beach"] if "beach" in f else []
        ground = 0.86 if "beach" in f else 0.85 if "boat" in f else 0.95
    else:
        snowy = f & {"snow", "winter"}
        out += ["snowy ground" if snowy else "dunes" if "desert" in f else "hills"]
    out += [e for e in ("river", "lake") if e in f]
    if "forest" in f:
        out += ["forest"]
    elif f & {"tree", "garden", "hill"} or season:
        out += ["trees"]
    out += [e for e in ("castle", "village", "market", "rocket") if e in f]
    if "garden" in f:
        out += ["fence", "flowers"]
    elif (f & {"hill"} or season in ("spring", "summer")) and not f & {"snow", "winter", "desert"}:
        out += ["flowers"]
    if "boat" in f and "sea" in out and "beach" not in out:
        out += ["boat"]
    if f & {"puddles", "rain"} and "sea" not in out:
        out += ["puddles"]
    return out, 0.6, ground


def plan(r: Reading, kinds: set[str]) -> Plan:
    """The elements a reading asks for, in painting order (the same reading, the same plan)."""
    f = r.elements
    season = next((s for s in ("winter", "autumn", "spring", "summer") if s in f), None)
    gloomy = bool(f & {"storm", "dark_clouds", "rain"})
    if "underwater" in f:
        return Plan("underwater", r.time, ("underwater",), _front(f, False), 0.0, 0.9)
    if f & {"space", "planets", "moon_surface"}:
        behind = ["space", "stars", *(["planets"] if f & {"space", "planets"} else []),
                  *(["moon surface", "earth"] if "moon_surface" in f else []),
                  *(["rocket"] if "rocket" in f else [])]
        ground = 0.9 if "moon_surface" in f else 0.78
        return Plan("space", "space", tuple(behind), _front(f, False), 0.7, ground)
    if "cave" in f:
        return Plan("cave", r.time, ("cave",), _front(f, False), 0.78, 0.9)
    room = next((k for k in ROOMS if k in f), None)
    if room and not f & _OUTSIDE:
        return Plan(room, r.time, (room,), _front(f, False), 0.66, 0.9)
    behind = _sky(f, r.time, gloomy, kinds)
    if "sky" in f and not f & _GROUND:
        return Plan("sky", r.time, (*behind, "clouds below"), _front(f, True), 0.8, 0.92, gloomy)
    land, horizon, ground = _land(f, season)
    return Plan("outdoor", r.time, (*behind, *land), _front(f, True), horizon, ground, gloomy,
                season)


def _trees(c: S.Canvas, p: Plan, r: Reading, forest: bool) -> None:
    h, snowy = c.h, p.snowy
    named = r.named_colour("forest" if forest else "tree")
    leaves = (named,) if named else _SEASON_LEAVES.get(p.season or "")
    if forest:
        pine = (c.rng.random() < 0.5 or snowy) and p.season not in ("autumn", "spring")
        S.trees(c, p.horizon * h + 0.04 * h, 12, 0.28, pine=pine, snowy=snowy, leaves=leaves)
        S.trees(c, 0.8 * h, 4, 0.42, pine=snowy, snowy=snowy, leaves=leaves)
    else:
        S.trees(c, p.horizon * h + 0.05 * h, c.rng.randint(2, 4), 0.3, pine=snowy, snowy=snowy,
                leaves=leaves)


def _ground(c: S.Canvas, p: Plan, r: Reading, kind: str) -> None:
    grass = {"snowy ground": (245, 248, 255), "dunes": (232, 200, 140)}.get(
        kind, r.colour("hill", _GRASS.get(p.season or "", (118, 186, 92))))
    S.hills(c, int(p.horizon * c.h), grass, layers=3, height=0.16 if "hill" in r.elements else 0.1)


def _sea(c: S.Canvas, p: Plan, r: Reading) -> None:
    top, h = int(p.horizon * c.h), c.h
    bottom = int((0.8 if "beach" in p.behind else 1.0) * h)
    S.water(c, top, bottom)


def _beach(c: S.Canvas, p: Plan, r: Reading) -> None:
    w, h = c.w, c.h
    c.shape([(0, h), (0, 0.8 * h), (0.5 * w, 0.77 * h), (w, 0.8 * h), (w, h)], (240, 215, 160),
            edge=False)


def _rocket(c: S.Canvas, p: Plan, r: Reading) -> None:
    colour = r.colour("rocket", COLOURS["red"])
    flying = p.backdrop == "space" and "moon surface" not in p.behind
    x = c.rng.choice((0.12, 0.88)) * c.w
    base = (0.55 if flying else p.ground - 0.02) * c.h
    P.rocket(c, x, base, 0.42 * c.h, colour, flying)


def _stars(c: S.Canvas, p: Plan) -> None:
    """Stars fill space; on Earth the night sky draws its own (and clouds hide them)."""
    if p.backdrop == "space":
        P.starfield(c, p.horizon * c.h, 160)


Painter = Callable[[S.Canvas, Plan, Reading], None]
PAINTERS: dict[str, Painter] = {
    "underwater": lambda c, p, r: S.underwater(c, int(0.84 * c.h)),
    "cave": lambda c, p, r: S.cave(c, int(0.78 * c.h)),
    "room": lambda c, p, r: R.room(c, int(0.66 * c.h), bed=False),
    "bedroom": lambda c, p, r: R.room(c, int(0.66 * c.h), bed=True),
    "kitchen": lambda c, p, r: (R.room(c, int(0.66 * c.h), bed=False, shelf=False),
                                P.kitchen(c, int(0.66 * c.h))),
    "classroom": lambda c, p, r: (R.room(c, int(0.66 * c.h), bed=False, shelf=False),
                                  P.classroom(c, int(0.66 * c.h))),
    "space": lambda c, p, r: S.gradient(c, *S.SKIES["space"]),
    "stars": lambda c, p, r: _stars(c, p),
    "planets": lambda c, p, r: P.planets(c, p.horizon * c.h, r.named_colour("planets")),
    "moon surface": lambda c, p, r: P.moon_ground(c, p.horizon * c.h,
                                                  r.colour("moon_surface", (175, 175, 185))),
    "sky": lambda c, p, r: S.sky(c, c.h if p.backdrop == "sky" else int(p.horizon * c.h),
                                 moon="moon" in p.behind, sun="sun" in p.behind,
                                 tint=r.named_colour("sky")),
    "aurora": lambda c, p, r: W.aurora(c),
    "rainbow": lambda c, p, r: W.rainbow(c, p.horizon * c.h),
    "dark clouds": lambda c, p, r: W.dark_clouds(c, 0.3, storm="lightning" in p.behind),
    "lightning": lambda c, p, r: W.lightning(c, p.horizon),
    "clouds below": lambda c, p, r: S.clouds(c, 9, 0.82, 1.0),
    "mountains": lambda c, p, r: S.mountains(c, int(p.horizon * c.h), p.snowy),
    "sea": _sea, "beach": _beach,
    "big waves": lambda c, p, r: P.big_waves(c, p.horizon * c.h, (0.8 if "beach" in p.behind
                                                                   else 1.0) * c.h),
    "hills": lambda c, p, r: _ground(c, p, r, "hills"),
    "snowy ground": lambda c, p, r: _ground(c, p, r, "snowy ground"),
    "dunes": lambda c, p, r: _ground(c, p, r, "dunes"),
    "river": lambda c, p, r: P.river(c, p.horizon * c.h, c.lit(r.colour("river", (100, 165, 215)))),
    "lake": lambda c, p, r: P.lake(c, 0.7 * c.h, r.colour("lake", (100, 165, 215))),
    "forest": lambda c, p, r: _trees(c, p, r, forest=True),
    "trees": lambda c, p, r: _trees(c, p, r, forest=False),
    "castle": lambda c, p, r: S.castle(c, (p.horizon + 0.02) * c.h, 0.3, r.named_colour("castle")),
    "village": lambda c, p, r: S.houses(c, (p.horizon + 0.1) * c.h, c.rng.randint(3, 5), 0.16,
                                        r.named_colour("village")),
    "market": lambda c, p, r: P.market(c, 0.8 * c.h, r.named_colour("market")),
    "rocket": _rocket,
    "fence": lambda c, p, r: P.fence(c, 0.76 * c.h),
    "flowers": lambda c, p, r: S.flowers(c, 0.74, 0.98, 26 if "fence" in p.behind else 10),
    "boat": lambda c, p, r: S.boat(c, 0.84 * c.h, r.colour("boat", (170, 110, 70))),
    "puddles": lambda c, p, r: S.puddles(c, 0.84, 0.96, 3),
    "rain": lambda c, p, r: S.rain(c),
    "snowflakes": lambda c, p, r: S.snowflakes(c),
    "wind": lambda c, p, r: W.wind(c),
    "falling leaves": lambda c, p, r: W.leaves(c, _SEASON_LEAVES["autumn"], 24),
    "fireflies": lambda c, p, r: S.fireflies(c),
}
"""How each element is painted; elements painted as part of another have no entry here (the
sun, moon and clouds are part of the sky, the earth of the moon's surface, fog of the finish)."""


def paint(canvas: S.Canvas, plan_: Plan, reading: Reading, elements: tuple[str, ...]) -> None:
    for element in elements:
        painter = PAINTERS.get(element)
        if painter is not None:
            painter(canvas, plan_, reading)
