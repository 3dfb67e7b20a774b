"""The Hydra boundary: build backends from config groups and turn a DictConfig into typed settings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from engine.errors import ConfigError
from engine.resources import shipped

TARGET_PREFIX = "engine.backends."
CONF_DIR = shipped("conf")

MOVED_SETTINGS = {
    "video.width": "render.width", "video.height": "render.height", "video.fps": "render.fps",
    "video.caption_speakers": "render.caption_speakers",
    "image.candidates": "render.candidates",
}
"""Settings that left a backend's node (which holds its constructor's arguments, nothing else)."""


@dataclass(frozen=True)
class WholeNumber:
    """A setting that must be a whole number from `low` to `high` (no top without one; null
    allowed where optional; `even` where it must be)."""

    low: int
    high: int | None = None
    optional: bool = False
    even: bool = False

    def problem(self, key: str, value: Any) -> str | None:
        """One line naming the setting, its value and the allowed range, or None when it fits."""
        if value is None and self.optional:
            return None
        number = _whole(value)
        if number is not None and self.low <= number <= (self.high or number) \
                and not (self.even and number % 2):
            return None
        empty = " (empty)" if value is None or str(value).strip() == "" else ""
        shown_value = "" if value is None else value
        whole = "an even whole number" if self.even else "a whole number"
        allowed = (f"{whole} from {self.low} to {self.high}" if self.high else
                   f"{whole} of {self.low} or more") + \
            (", or null" if self.optional else "") + \
            (" (video frames are YUV 4:2:0: both sides even)" if self.even else "")
        return f"{key}={shown_value}{empty} is not allowed: it must be {allowed}"


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return None


SETTINGS_SCHEMA = {
    "seed": WholeNumber(0, optional=True),
    "render.width": WholeNumber(2, 16384, even=True),
    "render.height": WholeNumber(2, 16384, even=True),
    "render.fps": WholeNumber(1, 240),
    "render.candidates": WholeNumber(1, 64),
}
"""The run-wide settings checked once, right after composing, before any stage runs."""


def check_settings(cfg: DictConfig) -> None:
    """Raise one ConfigError line for the first setting of SETTINGS_SCHEMA out of its range, or
    the first the typed settings refuse (`timeline:`, `render.mix:`, `trainedness`)."""
    for key, kind in SETTINGS_SCHEMA.items():
        try:
            value = OmegaConf.select(cfg, key, throw_on_missing=True)
        except OmegaConfBaseException as error:
            raise ConfigError(f"{key}: {error}".splitlines()[0]) from None
        problem = kind.problem(key, value)
        if problem:
            raise ConfigError(problem)
    try:
        timeline_settings(cfg), mix_settings(cfg), default_trainedness(cfg.trainedness)
    except (TypeError, ValueError, OmegaConfBaseException) as error:
        raise ConfigError(str(error).splitlines()[0]) from None


def register_resolvers() -> None:
    """`${story_name:${story}}`: the story file's name without suffix, for run folder names;
    `${story_root:${story}}`: the story repository's root (the safety lists live there)."""
    if not OmegaConf.has_resolver("story_name"):
        OmegaConf.register_new_resolver("story_name", story_name)
    if not OmegaConf.has_resolver("story_root"):
        OmegaConf.register_new_resolver("story_root", story_root)


def story_name(path: object) -> str:
    """A run folder's name for a story: its file name without suffix, with `${` as `_{` (Hydra
    stores the folder as a config value, where `${` would be read as an interpolation)."""
    return Path(str(path)).stem.replace("${", "_{") if path else "story"


def story_root(path: object) -> str:
    """The story repository's root folder: the nearest folder above the story holding .git."""
    from engine.files import find_root

    return str(find_root(str(path))) if path else str(Path.cwd())


def build_backend(role: str, node: DictConfig | dict[str, Any] | None) -> Any:
    """Instantiate a role's backend from its config; only targets under engine.backends."""
    from hydra.utils import instantiate

    if node is None:
        raise ConfigError(f"no `{role}` backend is configured; pick one with `{role}=NAME`")
    missing = sorted(OmegaConf.missing_keys(node)) if isinstance(node, DictConfig) else []
    if missing:
        raise ConfigError(f"`{missing[0]}` must be set for this `{role}` backend: add "
                          f"{missing[0]}=... to the command (conf/{role}/ says what it is)")
    plain = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    target = str(plain.get("_target_", ""))
    if not target.startswith(TARGET_PREFIX):
        raise ConfigError(f"{role}._target_ '{target}' is not a storyreel backend: targets must "
                          f"start with '{TARGET_PREFIX}' (anything else would run arbitrary code)")
    for nested in _targets(plain):
        if not nested.startswith(TARGET_PREFIX):
            raise ConfigError(f"{role}: nested _target_ '{nested}' is not a storyreel backend")
    try:
        return instantiate(plain, _convert_="all")
    except Exception as error:  # Hydra wraps import and argument errors alike
        cause = error.__cause__ or error
        raise ConfigError(f"cannot build the `{role}` backend {target}: {cause}") from error


def _targets(node: Any) -> list[str]:
    """Every `_target_` below the top of a config node (instantiate builds them all)."""
    found: list[str] = []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        if isinstance(child, dict) and "_target_" in child:
            found.append(str(child["_target_"]))
        found.extend(_targets(child))
    return found


def check_overrides(overrides: Iterable[str]) -> None:
    """A setting spelled where it used to live gets its new name, not Hydra's `not in struct`;
    a secret typed into an override is refused (Hydra would write it into `.hydra/`, the sweep's
    records and a job's pickle): it is named by its variable instead, and read when used."""
    from engine.secrets import mask, secret_named_in

    for override in overrides:
        name = secret_named_in(override)
        if name:
            variable = name if name.isidentifier() else "THE_VARIABLE"
            raise ConfigError(f"the override {mask(override)} holds the value of {name}; secrets "
                              "come from the environment only and are never written down: put "
                              f"${{oc.env:{variable}}} where the key goes (in single quotes in "
                              "a shell)")
        key = override.split("=", 1)[0].lstrip("+~")
        if key in MOVED_SETTINGS and "=" in override:
            value = override.split("=", 1)[1]
            raise ConfigError(f"`{key}` is now `{MOVED_SETTINGS[key]}`: write "
                              f"{MOVED_SETTINGS[key]}={value}")


def story_search_path(stories: Iterable[Path]) -> list[str]:
    """Story repositories' own conf/ folders (beside the story, then at the repository root),
    as Hydra search-path entries."""
    from engine.files import find_root

    found: list[str] = []
    for story in stories:
        for folder in (story.parent / "conf", find_root(story) / "conf"):
            entry = f"file://{folder.resolve()}"
            if folder.is_dir() and folder.resolve() != CONF_DIR and entry not in found:
                found.append(entry)
    return found


def story_words(stories: Sequence[Path]) -> list[str]:
    """The overrides that name the stories and put their repositories' conf/ on the search path."""
    from engine.overrides import quoted

    words = [f"story={','.join(quoted(str(story)) for story in stories)}"]
    extra = story_search_path(stories)
    if extra:
        words.append(f"hydra.searchpath=[{','.join(quoted(entry) for entry in extra)}]")
    return words


def compose_config(overrides: Sequence[str] = (), story: Path | None = None) -> DictConfig:
    """conf/config.yaml composed with these overrides; with a story, as `render` composes it
    (the story's repository's own conf/ searched too). A mistake is one ConfigError line."""
    from hydra import compose, initialize_config_dir

    register_resolvers()
    check_overrides(overrides)
    words = [*(story_words([story]) if story is not None else []), *overrides]
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("config", overrides=words)
    except Exception as error:  # Hydra's composition errors share no useful base class
        raise ConfigError(f"cannot compose the configuration: {error}") from None


def timeline_settings(cfg: DictConfig):  # -> engine.timeline.TimelineSettings
    """The pauses around lines (`timeline:`), typed."""
    from engine.timeline import TimelineSettings

    return TimelineSettings(**OmegaConf.to_container(cfg.timeline, resolve=True))


def mix_settings(cfg: DictConfig):  # -> engine.mix.MixSettings
    """The soundtrack's mix and mastering (`render.mix:`), typed."""
    from engine.mix import MixSettings

    return MixSettings(**OmegaConf.to_container(cfg.render.mix, resolve=True))


def settings_from(cfg: DictConfig, run_dir: Path):  # -> engine.render.RenderSettings
    """Typed render settings from the composed config (DictConfig stops here)."""
    from engine.cache import cache_dir
    from engine.render import RenderSettings

    check_settings(cfg)
    story = Path(str(cfg.story)).absolute()
    cache_node = cfg.get("cache") or {}
    try:
        output = cfg.render
        return RenderSettings(
            story=story,
            run_dir=run_dir,
            cache_dir=cache_dir(cache_node.get("dir"), story),
            seed=None if cfg.seed is None else int(cfg.seed),
            trainedness=default_trainedness(cfg.trainedness),
            auto=auto_trainedness(cfg),
            width=int(output.width),
            height=int(output.height),
            fps=int(output.fps),
            candidates=int(output.candidates),
            caption_speakers=bool(output.caption_speakers),
            timeline=timeline_settings(cfg),
            mix=mix_settings(cfg),
        )
    except (TypeError, ValueError, OmegaConfBaseException) as error:
        raise ConfigError(f"a setting has a value it cannot take: {error}") from None


def default_trainedness(value: Any) -> float:
    """`trainedness`, the α of characters no story line sets: from 0 to 1, or `auto` (1.0 until
    the draw stage chooses)."""
    if _is_auto(value):
        return 1.0
    try:
        alpha = float(value)
    except (TypeError, ValueError):
        alpha = math.nan
    if not 0 <= alpha <= 1:
        raise ValueError(f"trainedness must be a number from 0 to 1 or auto, not {value!r}")
    return alpha


def _is_auto(value: Any) -> bool:
    return str(value).strip() == "auto"


def auto_trainedness(cfg: DictConfig):  # -> engine.stages.draw.AutoTrainedness
    """`render.auto_trainedness` as typed values; a grid outside 0…1 is one line."""
    from engine.stages.draw import AutoTrainedness

    node = cfg.render.auto_trainedness
    alphas = tuple(float(a) for a in node.alphas)
    weight = float(node.identity_weight)
    if not alphas or any(not 0 <= a <= 1 for a in alphas) or not 0 <= weight <= 1:
        raise ConfigError("render.auto_trainedness: alphas must be numbers from 0 to 1 (at "
                          "least one), identity_weight a number from 0 to 1")
    return AutoTrainedness(alphas, weight, default=_is_auto(cfg.trainedness))


def backends_from(cfg: DictConfig):  # -> engine.render.Backends
    """Every backend of a run, built once."""
    from engine.render import Backends

    def optional(role: str):  # type: ignore[no-untyped-def]
        return build_backend(role, cfg[role]) if cfg.get(role) is not None else None

    return Backends(writer=build_backend("llm", cfg.get("llm")),
                    illustrator=build_backend("image", cfg.get("image")),
                    tts=build_backend("tts", cfg.get("tts")),
                    editor=build_backend("video", cfg.get("video")),
                    tagger=optional("tagger"), selector=optional("select"),
                    safety=optional("safety"), safety_text=optional("safety_text"))
