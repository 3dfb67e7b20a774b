"""hydra-submitit-launcher's launchers, whose driver notices a finished job within a tenth of a
second instead of at submitit's next whole-second poll."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    LocalLauncher as PluginLocalLauncher,
    SlurmLauncher as PluginSlurmLauncher,
)

if TYPE_CHECKING:
    from submitit.core.core import Job

FIRST_POLL_S = 0.02
"""The first wait between two looks at an unfinished job; each next one is half as long again."""


def wait_for(job: Job[Any], longest_s: float) -> None:
    """submitit's `Job.wait`, with waits that grow from FIRST_POLL_S to `longest_s` instead of
    submitit's fixed second; a job is done once its result is written (moved into place whole,
    so it is read whole), or once submitit says so (it ended without one: killed, or failed
    before it could write it). A local job's own test is its controller process having ended,
    which the job process and then the controller reach only after writing the result."""
    pause = FIRST_POLL_S
    while not (job.paths.result_pickle.exists() or job.done()):
        time.sleep(pause)
        pause = min(pause * 1.5, longest_s)


@contextmanager
def polling_every(longest_s: float) -> Iterator[None]:
    """Every submitit job waited for in this block is waited for by `wait_for`. The plugin's
    `launch` waits inside (`job.results()`, which calls `Job.wait`) with no setting for it, so
    the method is swapped for the block, in the driver only (the jobs never wait)."""
    from submitit.core.core import Job

    saved = Job.wait
    Job.wait = lambda job: wait_for(job, longest_s)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Job.wait = saved  # type: ignore[method-assign]


class QuickerWait:
    """A submitit launcher whose driver waits for its jobs with `wait_for`, looking at most
    every `longest_poll_s`."""

    longest_poll_s = 1.0

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        with polling_every(self.longest_poll_s):
            return super().launch(job_overrides, initial_job_idx)  # type: ignore[misc]


class LocalLauncher(QuickerWait, PluginLocalLauncher):
    """`hydra/launcher=submitit_local`: a local process a job, seen to end within 0.1 s (a look
    is one `waitpid`)."""

    longest_poll_s = 0.1


class SlurmLauncher(QuickerWait, PluginSlurmLauncher):
    """`hydra/launcher=submitit_slurm` (and the `slurm` preset): as submitit's, a look a second
    once a job has run a while (each look reads the job's folder on a shared filesystem; `sacct`
    is asked every few seconds whatever the pace), sooner for a job that ends at once."""

    longest_poll_s = 1.0


@dataclass
class LocalConf(LocalQueueConf):
    _target_: str = f"{LocalLauncher.__module__}.LocalLauncher"


@dataclass
class SlurmConf(SlurmQueueConf):
    _target_: str = f"{SlurmLauncher.__module__}.SlurmLauncher"


def register_configs() -> None:
    """Our launchers' settings (the plugin's, with our `_target_`) under the plugin's names:
    `hydra/launcher=submitit_local` and `submitit_slurm` choose them."""
    store = ConfigStore.instance()
    store.store(group="hydra/launcher", name="submitit_local", node=LocalConf, provider="storyreel")
    store.store(group="hydra/launcher", name="submitit_slurm", node=SlurmConf, provider="storyreel")
