"""The Hydra boundary: build backends from config groups and turn a DictConfig into typed settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from engine.errors import ConfigError
from engine.resources import shipped

TARGET_PREFIX = "engine.backends."
CONF_DIR = shipped("conf")

STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "image": ("candidates", "negative_prompt"),
    "video": ("width", "height", "fps"),
}
"""Keys of a role's config that the stages read; the rest are the backend's constructor kwargs."""


def register_resolvers() -> None:
    """`${story_name:${story}}`: the story file's name without suffix, for run folder names."""
    if not OmegaConf.has_resolver("story_name"):
        OmegaConf.register_new_resolver("story_name", story_name)


def story_name(path: object) -> str:
    """A run folder's name for a story: its file name without suffix, with `${` as `_{` (Hydra
    stores the folder as a config value, where `${` would be read as an interpolation)."""
    return Path(str(path)).stem.replace("${", "_{") if path else "story"


def build_backend(role: str, node: DictConfig | dict[str, Any] | None) -> Any:
    """Instantiate a role's backend from its config; only targets under engine.backends."""
    from hydra.utils import instantiate

    if node is None:
        raise ConfigError(f"no `{role}` backend is configured; pick one with `{role}=NAME`")
    plain = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    target = str(plain.get("_target_", ""))
    if not target.startswith(TARGET_PREFIX):
        raise ConfigError(f"{role}._target_ '{target}' is not a storyreel backend: targets must "
                          f"start with '{TARGET_PREFIX}' (anything else would run arbitrary code)")
    for nested in _targets(plain):
        if not nested.startswith(TARGET_PREFIX):
            raise ConfigError(f"{role}: nested _target_ '{nested}' is not a storyreel backend")
    for key in STAGE_KEYS.get(role, ()):
        plain.pop(key, None)
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


def stage_value(cfg: DictConfig, role: str, key: str, default: Any) -> Any:
    node = cfg.get(role)
    if node is None or key not in node:
        return default
    return OmegaConf.to_container(node, resolve=True)[key]  # type: ignore[index]


def settings_from(cfg: DictConfig, run_dir: Path):  # -> engine.render.RenderSettings
    """Typed render settings from the composed config (DictConfig stops here)."""
    from engine.cache import cache_dir
    from engine.render import RenderSettings
    from engine.timeline import TimelineSettings

    story = Path(str(cfg.story)).absolute()
    cache_node = cfg.get("cache") or {}
    try:
        return RenderSettings(
            story=story,
            run_dir=run_dir,
            cache_dir=cache_dir(cache_node.get("dir"), story),
            seed=None if cfg.seed is None else int(cfg.seed),
            trainedness=float(cfg.trainedness),
            width=int(stage_value(cfg, "video", "width", 1280)),
            height=int(stage_value(cfg, "video", "height", 720)),
            fps=int(stage_value(cfg, "video", "fps", 25)),
            candidates=int(stage_value(cfg, "image", "candidates", 1)),
            negative_prompt=str(stage_value(cfg, "image", "negative_prompt", "") or ""),
            timeline=TimelineSettings(**OmegaConf.to_container(cfg.timeline, resolve=True)),
            caption_speakers=bool(stage_value(cfg, "video", "caption_speakers", False)),
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"a setting has a value it cannot take: {error}") from None


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
                    safety=optional("safety"))
