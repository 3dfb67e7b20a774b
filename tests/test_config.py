"""Every option of every config group composes, and its role's node instantiates as it stands."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import hydra.utils
import pytest
from hydra.errors import InstantiationException
from omegaconf import OmegaConf

from engine.config import (
    CONF_DIR,
    MOVED_SETTINGS,
    TARGET_PREFIX,
    build_backend,
    check_overrides,
    compose_config,
    settings_from,
)
from engine.errors import ConfigError, MissingDependency

NOT_ROLES = {"hydra", "prompts"}
NEEDS = {  # mandatory settings: paths that do not exist, so a constructor that loaded weights fails
    ("llm", "transformers"): ["llm.model_path=/models/tiny-llm"],
    ("image", "diffusers"): ["image.model=/models/tiny-sd"],
    ("tagger", "vit"): ["tagger.model=/models/tiny-vit"],
    ("tagger", "wd14"): ["tagger.model=/models/wd-vit-tagger-v3"],
    ("select", "clip"): ["select.model=/models/tiny-clip"],
    ("safety", "diffusers"): ["safety.model=/models/tiny-safety"],
}
STORY = "story=stories/first-snow.story"


def options() -> list[tuple[str, str]]:
    return sorted((group.name, option.stem)
                  for group in CONF_DIR.iterdir() if group.is_dir() and group.name not in NOT_ROLES
                  for option in group.glob("*.yaml"))


def test_every_role_has_options():
    roles = {role for role, _ in options()}
    assert {"llm", "image", "tts", "video", "tagger", "select", "safety"} <= roles


@pytest.mark.parametrize("role, option", options())
def test_the_role_node_is_its_backends_constructor_arguments(role: str, option: str):
    cfg = compose_config([STORY, f"{role}={option}", *NEEDS.get((role, option), [])])
    node = cfg[role]
    assert node._target_.startswith(TARGET_PREFIX)
    try:
        backend = hydra.utils.instantiate(node)  # the node as it stands: nothing popped first
    except InstantiationException as error:
        if isinstance(error.__cause__, MissingDependency):
            pytest.skip(str(error.__cause__))
        raise
    assert f"{type(backend).__module__}.{type(backend).__name__}" == node._target_
    accepted = set(inspect.signature(type(backend)).parameters)
    assert set(node) - {"_target_"} <= accepted
    identity = build_backend(role, node).identity()
    assert isinstance(identity, dict) and identity and "sk-" not in repr(identity)


@pytest.mark.parametrize("role, option", sorted(NEEDS))
def test_a_missing_model_path_is_one_clear_line(role: str, option: str):
    cfg = compose_config([STORY, f"{role}={option}"])
    setting = NEEDS[(role, option)][0].split("=")[0]
    with pytest.raises(ConfigError, match=rf"^`{setting}` must be set .* {setting}=\.\.\. ") as caught:
        build_backend(role, cfg[role])
    assert "\n" not in str(caught.value)


def test_defaults_render_offline():
    cfg = compose_config([STORY])
    assert {r: cfg[r]._target_.split(".")[2] for r in ("llm", "image", "tts", "video")} == {
        "llm": "llm", "image": "image", "tts": "tts", "video": "video"}
    assert cfg.get("tagger") is None and cfg.get("safety") is None


def test_run_folder_is_named_after_the_story():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[STORY], return_hydra_config=True)
    assert Path(str(cfg.hydra.run.dir)).parts[0] == "renders"
    assert "first-snow" in str(cfg.hydra.run.dir)
    assert cfg.hydra.job_logging.handlers.console["class"] == "engine.progress.ConsoleLog"


def test_render_settings_come_from_the_render_node(tmp_path: Path):
    cfg = compose_config([STORY, "video=youtube", "render.fps=30", "render.candidates=3",
                          "render.caption_speakers=true", "seed=5"])
    settings = settings_from(cfg, tmp_path)
    assert (settings.width, settings.height, settings.fps) == (1920, 1080, 30)
    assert (settings.candidates, settings.caption_speakers, settings.seed) == (3, True, 5)
    assert settings.timeline.gap == cfg.timeline.gap


def test_a_bad_render_value_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="^render.fps=fast is not allowed: it must be a whole "
                                          "number from 1 to 240$"):
        settings_from(compose_config([STORY, "render.fps=fast"]), tmp_path)
    with pytest.raises(ConfigError, match=re.escape(
            "render.width=321 is not allowed: it must be an even whole number from 2 to 16384 "
            "(video frames are YUV 4:2:0: both sides even)")):
        settings_from(compose_config([STORY, "render.width=321"]), tmp_path)


@pytest.mark.parametrize("old", sorted(MOVED_SETTINGS))
def test_a_moved_setting_names_its_new_place(old: str):
    new = MOVED_SETTINGS[old]
    with pytest.raises(ConfigError, match=rf"^`{old}` is now `{new}`: write {new}=7$"):
        check_overrides([STORY, f"{old}=7"])
    with pytest.raises(ConfigError, match=f"write {new}=7"):
        compose_config([STORY, f"{old}=7"])
    assert OmegaConf.select(compose_config([STORY, f"{new}=7"]), new) == 7


def test_target_outside_the_engine_is_refused():
    with pytest.raises(ConfigError, match="not a storyreel backend"):
        build_backend("llm", {"_target_": "os.system", "command": "echo hi"})
    with pytest.raises(ConfigError, match="nested _target_"):
        build_backend("llm", {"_target_": "engine.backends.llm.offline.OfflineWriter",
                              "language": {"_target_": "os.getcwd"}})
