"""Every option of every config group composes, and its backend instantiates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from engine.config import CONF_DIR, build_backend, register_resolvers
from engine.errors import ConfigError

NOT_ROLES = {"hydra", "prompts"}
NEEDS = {  # options with a mandatory setting: a value that lets the backend be built (not loaded)
    ("llm", "transformers"): ["llm.model_path=/models/tiny-llm"],
    ("image", "diffusers"): ["image.model=/models/tiny-sd"],
    ("tagger", "vit"): ["tagger.model=/models/tiny-vit"],
    ("tagger", "wd14"): ["tagger.model=/models/wd-vit-tagger-v3"],
    ("select", "clip"): ["select.model=/models/tiny-clip"],
    ("safety", "diffusers"): ["safety.model=/models/tiny-safety"],
}


def options() -> list[tuple[str, str]]:
    return sorted((group.name, option.stem)
                  for group in CONF_DIR.iterdir() if group.is_dir() and group.name not in NOT_ROLES
                  for option in group.glob("*.yaml"))


def composed(*overrides: str):
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=["story=stories/first-snow.story", *overrides],
                       return_hydra_config=True)


def test_every_role_has_options():
    roles = {role for role, _ in options()}
    assert {"llm", "image", "tts", "video"} <= roles


@pytest.mark.parametrize("role, option", options())
def test_option_composes_and_instantiates(role: str, option: str):
    cfg = composed(f"{role}={option}", *NEEDS.get((role, option), []))
    assert OmegaConf.select(cfg, f"{role}._target_").startswith("engine.backends.")
    backend = build_backend(role, cfg[role])
    identity = backend.identity()
    assert isinstance(identity, dict) and identity
    assert "sk-" not in repr(identity)


def test_defaults_render_offline():
    cfg = composed()
    assert {r: cfg[r]._target_.split(".")[2] for r in ("llm", "image", "tts", "video")} == {
        "llm": "llm", "image": "image", "tts": "tts", "video": "video"}
    assert Path(str(cfg.hydra.run.dir)).parts[0] == "renders"
    assert "first-snow" in str(cfg.hydra.run.dir)


def test_target_outside_the_engine_is_refused():
    with pytest.raises(ConfigError, match="not a storyreel backend"):
        build_backend("llm", {"_target_": "os.system", "command": "echo hi"})
