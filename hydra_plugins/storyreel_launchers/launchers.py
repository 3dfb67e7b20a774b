"""Hydra's plugin scan finds storyreel's launchers here (for each launcher plugin installed)
and `LauncherChoices`, which gives them the plugins' own names."""

from __future__ import annotations

from importlib.util import find_spec

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


def installed(*modules: str) -> bool:
    """Whether every module can be imported (found without importing it)."""
    return all(find_spec(module) is not None for module in modules)


SUBMITIT = installed("submitit", "hydra_plugins.hydra_submitit_launcher")
RAY = installed("ray", "hydra_plugins.hydra_ray_launcher")

if SUBMITIT:
    from hydra_plugins.storyreel_launchers._submitit import LocalLauncher, SlurmLauncher
if RAY:
    from hydra_plugins.storyreel_launchers._ray import RayLauncher


class LauncherChoices(SearchPathPlugin):
    """Stores our launchers' configs as `hydra/launcher=submitit_local`, `submitit_slurm` and
    `ray`, over the plugins' own. Not at import: Hydra's scan runs every plugin module, even one
    already imported, in the order of `hydra_plugins`' folders (a checkout's first, an installed
    wheel's beside the plugins'), so a plugin's own config module may run after this one. Hydra
    asks every search-path plugin for its paths after the scan and before composing anything;
    this one adds no path, only the configs, each time (storing is idempotent)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if SUBMITIT:
            from hydra_plugins.storyreel_launchers._submitit import register_configs

            register_configs()
        if RAY:
            from hydra_plugins.storyreel_launchers._ray import register_configs as register_ray

            register_ray()


__all__ = ["LauncherChoices", *(["LocalLauncher", "SlurmLauncher"] if SUBMITIT else []),
           *(["RayLauncher"] if RAY else [])]
