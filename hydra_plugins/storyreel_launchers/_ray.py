"""hydra-ray-launcher's launcher, with each job's config composed in its Ray worker (the jobs'
compositions run side by side instead of one after another in the driver) and one remote
function, and one copy of what every job shares, for all the jobs of a sweep."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_ray_launcher._config import RayLauncherConf
from hydra_plugins.hydra_ray_launcher.ray_launcher import RayLauncher as PluginRayLauncher
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)

PLUGIN_OBJECT_STORE_BYTES = 78_643_200
"""What hydra-ray-launcher asks of a Ray it starts itself (its fix for small CI machines)."""

Shared = tuple[HydraContext, DictConfig, TaskFunction, dict[Any, Any]]
"""What every job of a sweep gets alike: Hydra's context, the sweep's config, the task and
Hydra's global state (the config store, resolvers)."""


class RayLauncher(PluginRayLauncher):
    """`hydra/launcher=ray` (and the `ray_cluster` preset): the plugin's settings and behaviour,
    a Ray task a job; the driver only submits, and each worker composes its job's config."""

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        import ray

        assert self.config is not None and self.hydra_context is not None
        assert self.task_function is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        log.info(f"Ray Launcher is launching {len(job_overrides)} jobs, "
                 f"sweep output dir: {sweep_dir}")
        self.ray_cfg.init.setdefault("object_store_memory", PLUGIN_OBJECT_STORE_BYTES)
        if not ray.is_initialized():
            ray.init(**OmegaConf.to_container(self.ray_cfg.init, resolve=True))
        options = OmegaConf.to_container(self.ray_cfg.remote, resolve=True) or {}
        remote = ray.remote(**options)(run_one) if options else ray.remote(run_one)
        shared = ray.put((self.hydra_context, self.config, self.task_function,
                          Singleton.get_state()))
        runs = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            runs.append(remote.remote(shared, list(overrides), idx))
        return [ray.get(run) for run in runs]


def run_one(shared: Shared, overrides: list[str], idx: int) -> JobReturn:
    """One job, in a Ray worker: its config composed from the sweep's and its overrides (as
    hydra-submitit-launcher's job does), then run as the plugin runs it."""
    hydra_context, config, task_function, singleton_state = shared
    setup_globals()
    Singleton.set_state(singleton_state)
    sweep_config = hydra_context.config_loader.load_sweep_config(config, overrides)
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"job_id_for_{idx}"  # the plugin's: Ray has no job number
        sweep_config.hydra.job.num = idx
    HydraConfig.instance().set_config(sweep_config)
    return run_job(hydra_context=hydra_context, task_function=task_function, config=sweep_config,
                   job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")


@dataclass
class RayConf(RayLauncherConf):
    _target_: str = f"{RayLauncher.__module__}.RayLauncher"


def register_configs() -> None:
    """Our launcher's settings (the plugin's, with our `_target_`) as `hydra/launcher=ray`."""
    ConfigStore.instance().store(group="hydra/launcher", name="ray", node=RayConf,
                                 provider="storyreel")
