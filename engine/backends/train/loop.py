"""One run of the DreamBooth loop: seeded steps, checkpoints, Ctrl-C that saves on the way out."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.train import Interrupted, StepReport, TrainRequest
from engine.backends.train import checkpoints as saved

if TYPE_CHECKING:
    from engine.backends.train.dreambooth import DreamBooth, Parts


class StopFlag:
    requested = False


@contextmanager
def ctrl_c_saves() -> Iterator[StopFlag]:
    """The first Ctrl-C asks the loop to stop after its step (it then saves); a second one
    stops at once."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def request(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True

    previous = signal.signal(signal.SIGINT, request)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class Loop:
    """One run of the loop from a step: each step's noise from one seeded generator (saved in
    every checkpoint), so a continued run draws exactly what an unbroken one would."""

    trainer: DreamBooth
    accelerator: Any
    parts: Parts
    trained: dict[str, Any]
    batch: dict[str, Any]
    params: list[Any]
    optimizer: Any
    schedule: Any
    generator: Any
    metadata: dict[str, Any]
    out: Path

    def run(self, start: int, request: TrainRequest) -> None:
        trainer = self.trainer
        with ctrl_c_saves() as stop:
            for step in range(start + 1, trainer.steps + 1):
                loss = self.step()
                written = None
                if step % trainer.checkpoint_every == 0 or step == trainer.steps:
                    written = self.save(step)
                if request.on_step is not None:
                    request.on_step(StepReport(step, trainer.steps, loss,
                                               str(written) if written else None))
                if stop.requested:
                    written = written or self.save(step)
                    raise Interrupted(str(written), step)

    def step(self) -> float:
        """One optimisation step over `batch` images of each set (references, class images)."""
        import torch
        import torch.nn.functional as F

        unet, noise_scheduler = self.parts.unet, self.parts.noise_scheduler
        device, batch, generator = self.accelerator.device, self.trainer.batch, self.generator
        samples = []
        for mean, std in zip(self.batch["means"], self.batch["stds"]):
            chosen = torch.randint(len(mean), (batch,), generator=generator)
            samples.append(mean[chosen] + std[chosen] * torch.randn(mean[chosen].shape,
                                                                    generator=generator))
        latents = (torch.cat(samples) * self.parts.vae.config.scaling_factor).to(device)
        noise = torch.randn(latents.shape, generator=generator).to(device)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps,
                                  (len(latents),), generator=generator).to(device)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        with self.accelerator.autocast():
            hidden = self.batch["hidden"]
            if hidden is None:
                hidden = self.parts.text_encoder(self.batch["ids"])[0]
            prediction = unet(noisy.to(unet.dtype), timesteps,
                              hidden.repeat_interleave(batch, dim=0).to(unet.dtype)).sample
        if noise_scheduler.config.prediction_type == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        parts = len(samples)
        loss = sum(weight * F.mse_loss(predicted.float(), wanted.float())
                   for weight, predicted, wanted in zip(self.batch["weights"],
                                                         prediction.chunk(parts),
                                                         target.chunk(parts)))
        self.accelerator.backward(loss)
        if self.accelerator.sync_gradients:
            self.accelerator.clip_grad_norm_(self.params, self.trainer.max_grad_norm)
        self.optimizer.step()
        self.schedule.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def save(self, step: int) -> Path:
        trainer = self.trainer
        with saved.writing(self.out, step) as folder:
            trained = {name: self.accelerator.unwrap_model(module)
                       for name, module in self.trained.items()}
            trainer.save_weights(folder, trained)
            saved.write_metadata(folder, {**self.metadata, "step": step})
            saved.save_state(folder, self.optimizer, self.schedule, self.generator, step,
                             trainer.state_tensors(trained))
        final = self.out / saved.name_of(step)
        saved.retire(self.out, final, trainer.keep_checkpoints)
        return final
