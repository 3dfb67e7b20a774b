"""Steps per second of `storyreel train`'s LoRA loop against diffusers' DreamBooth LoRA example.

    .venv/bin/python benchmarks/train.py --example train_dreambooth_lora.py
        [--scale 0.25] [--resolution 128] [--steps 12] [--text-layers 2] [--rank 4]
        [--device cpu] [--mixed-precision no] [--threads 1] [--rounds 1] [--keep DIR]

One randomly initialised Stable Diffusion 1.5-shaped pipeline (UNet2DConditionModel's default
blocks with 768-wide cross-attention; `--scale` multiplies every channel count of the UNet and
the VAE, 1.0 is SD 1.5's 860 M-parameter UNet; a CLIP text encoder of `--text-layers` layers)
is saved once; both trainers then fine-tune it on the same 4 instance images with the same
settings: LoRA rank on to_k/to_q/to_v/to_out.0, batch 1, AdamW at 1e-4, constant schedule,
seed 0, the resolution, `--steps` steps, no checkpoint before the end.

  ours      engine.backends.train.lora.LoraTrainer, in a child process (its step callback is
            timed)
  example   diffusers' examples/dreambooth/train_dreambooth_lora.py (from the diffusers
            repository, matching the installed diffusers), in a child process whose
            tqdm progress bar is timed at every step; `--pre_compute_text_embeddings` (the
            prompt encoded once, as ours does) and `--center_crop`

Steps/s is 1 / the median interval between consecutive steps (the first step's warm-up and the
last step's saving left out), so start-up and model loading count for neither; measured both on
the wall clock and on the child's CPU time (`time.process_time`: on a machine other work loads,
the CPU-time rate is the steady one). `--rounds N` runs the two N times, interleaved (example,
ours, example, ...), each into a fresh folder. Printed per run: both rates, the child's peak
RSS and the load average after it; then the median rates and their ratios (target ≥ 1.0×).
Where torchvision cannot be imported (no wheel built for this torch), the example gets a
stand-in `torchvision.transforms` (Resize, crops, ToTensor, Normalize with PIL and numpy) for its
data loading; the rest of its script runs unchanged.
A GPU run: `--device cuda --scale 1 --resolution 512 --text-layers 12 --mixed-precision fp16`
(ours also reports its peak GPU memory).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = "sks fox"
RECORDER = """
import atexit, importlib.util, json, runpy, sys, time, types
import tqdm.auto
import resource
stamps, record, stand_in, script = [], sys.argv[1], sys.argv[2], sys.argv[3]
class Timed(tqdm.auto.tqdm):
    def update(self, n=1):
        if self.desc == "Steps":  # the training loop's bar, not the loaders'
            stamps.append((time.perf_counter(), time.process_time()))
        return super().update(n)
tqdm.auto.tqdm = Timed
atexit.register(lambda: open(record, "w").write(json.dumps(
    {"stamps": stamps, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})))
if stand_in:  # after the libraries that look for torchvision have seen it missing
    import diffusers, peft, transformers
    spec = importlib.util.spec_from_file_location("torchvision.transforms", stand_in)
    transforms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(transforms)
    sys.modules["torchvision"] = types.SimpleNamespace(transforms=transforms)
    sys.modules["torchvision.transforms"] = transforms
sys.argv = [script, *sys.argv[4:]]
runpy.run_path(script, run_name="__main__")
"""

TRANSFORMS_STAND_IN = '''"""torchvision.transforms as the DreamBooth example uses them."""
import enum
import numpy as np
import torch
from PIL import Image

class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    LANCZOS = "lanczos"

_PIL = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
        "lanczos": Image.LANCZOS}

class Compose:
    def __init__(self, steps): self.steps = steps
    def __call__(self, x):
        for step in self.steps: x = step(x)
        return x

class Resize:
    def __init__(self, size, interpolation=InterpolationMode.BILINEAR):
        self.size, self.mode = size, _PIL[interpolation.value]
    def __call__(self, image):
        w, h = image.size
        scale = self.size / min(w, h)
        return image.resize((round(w * scale), round(h * scale)), self.mode)

class CenterCrop:
    def __init__(self, size): self.size = size
    def __call__(self, image):
        w, h = image.size
        left, top = (w - self.size) // 2, (h - self.size) // 2
        return image.crop((left, top, left + self.size, top + self.size))

RandomCrop = CenterCrop

class ToTensor:
    def __call__(self, image):
        return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)

class Normalize:
    def __init__(self, mean, std): self.mean, self.std = mean[0], std[0]
    def __call__(self, x): return (x - self.mean) / self.std
'''


def scaled(channels: tuple[int, ...], scale: float) -> tuple[int, ...]:
    return tuple(max(32, int(round(c * scale / 32)) * 32) for c in channels)


def build_pipeline(folder: Path, scale: float, text_layers: int, resolution: int) -> str:
    """The random SD 1.5-shaped pipeline in diffusers layout; returns its UNet's size in words."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from benchmarks.trainedness import random_unet
    from tests.tiny_models import write_clip_tokenizer

    torch.manual_seed(0)
    unet, channels = random_unet(scale, "cpu", torch.float32)
    vae = AutoencoderKL(block_out_channels=scaled((128, 256, 512, 512), scale),
                        down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4,
                        layers_per_block=2, sample_size=resolution)
    vocab_size = write_clip_tokenizer(folder.parent / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(folder.parent / "tokenizer")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=768, intermediate_size=3072,
        num_hidden_layers=text_layers, num_attention_heads=12, max_position_embeddings=77,
        bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1))
    scheduler = DDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              num_train_timesteps=1000)
    StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                            scheduler=scheduler, safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(
        folder, safe_serialization=True)
    count = sum(p.numel() for p in unet.parameters())
    return f"UNet block_out_channels={channels}, {count / 1e6:.0f} M parameters"


def instance_images(folder: Path, resolution: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for n in range(4):
        path = folder / f"fox-{n}.png"
        Image.fromarray(rng.integers(0, 256, (resolution, resolution, 3), dtype=np.uint8)).save(
            path)
        paths.append(path)
    return paths


OURS = """
import json, resource, sys, torch
from benchmarks.train import ours
stamps = ours(*sys.argv[1:4], json.loads(sys.argv[5]))
gpu = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
open(sys.argv[4], "w").write(json.dumps({"stamps": stamps, "gpu_bytes": gpu,
    "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@dataclass(frozen=True)
class Measure:
    """One trainer's run: steps per second on the wall clock and in CPU time, peak RSS."""

    wall: float
    cpu: float
    rss_gib: float
    gpu_gib: float | None = None

    def __str__(self) -> str:
        gpu = f", peak GPU memory {self.gpu_gib:.2f} GiB" if self.gpu_gib is not None else ""
        return (f"{self.wall:.4f} steps/s wall, {self.cpu:.4f} steps/s CPU, "
                f"peak RSS {self.rss_gib:.2f} GiB{gpu}")


def rate(times: list[float]) -> float:
    """Steps per second from the time of each step's end: the median interval, the first
    (warm-up) and the last (saving) left out."""
    intervals = [b - a for a, b in zip(times, times[1:])][1:-1]
    if not intervals:
        raise SystemExit("too few steps to time: give --steps 5 or more")
    return 1.0 / statistics.median(intervals)


def measured(record: Path) -> Measure:
    data = json.loads(record.read_text())
    wall, cpu = zip(*data["stamps"])
    gpu = data.get("gpu_bytes")
    return Measure(rate(list(wall)), rate(list(cpu)), data["rss_kib"] / 2**20,
                   gpu / 2**30 if gpu is not None else None)


def settings(args: argparse.Namespace) -> dict[str, object]:
    return {"rank": args.rank, "steps": args.steps, "resolution": args.resolution,
            "device": args.device, "mixed_precision": args.mixed_precision,
            "threads": args.threads}


def ours(base: str, images: str, out: str, run: dict[str, object]) -> list[tuple[float, float]]:
    """In the child: our loop on the same pictures; (wall, CPU) time at each step's end."""
    import torch

    from engine.backends.train import TrainRequest
    from engine.backends.train.lora import LoraTrainer

    torch.set_num_threads(int(run["threads"]))  # type: ignore[call-overload]
    stamps: list[tuple[float, float]] = []
    trainer = LoraTrainer(rank=run["rank"], steps=run["steps"], checkpoint_every=run["steps"],
                          learning_rate=1e-4, resolution=run["resolution"], seed=0,
                          device=run["device"], mixed_precision=run["mixed_precision"])
    pictures = tuple(str(p) for p in sorted(Path(images).glob("*.png")))
    trainer.train(TrainRequest("fox", base, pictures, PROMPT, out, on_step=lambda report:
                               stamps.append((time.perf_counter(), time.process_time()))))
    return stamps


def run_ours(base: Path, images: Path, out: Path, work: Path,
             args: argparse.Namespace) -> Measure:
    record = work / f"{out.name}.json"
    command = [sys.executable, "-c", OURS, str(base), str(images), str(out), str(record),
               json.dumps(settings(args))]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or not record.is_file():
        raise SystemExit(f"our loop failed:\n{done.stderr[-3000:]}")
    return measured(record)


def example(script: Path, base: Path, images: Path, out: Path, work: Path,
            args: argparse.Namespace) -> Measure:
    record = work / f"{out.name}.json"
    stand_in = ""
    try:
        import torchvision  # noqa: F401
    except Exception:  # no torchvision wheel for this torch: the stand-in serves the data loader
        stand_in = str(work / "transforms_stand_in.py")
        Path(stand_in).write_text(TRANSFORMS_STAND_IN)
    command = [sys.executable, "-c", RECORDER, str(record), stand_in, str(script),
               f"--pretrained_model_name_or_path={base}", f"--instance_data_dir={images}",
               f"--instance_prompt={PROMPT}", f"--output_dir={out}",
               f"--resolution={args.resolution}", "--train_batch_size=1",
               f"--max_train_steps={args.steps}", f"--checkpointing_steps={args.steps * 10}",
               "--learning_rate=1e-4", "--lr_scheduler=constant", "--lr_warmup_steps=0",
               f"--rank={args.rank}", "--seed=0", "--center_crop",
               "--pre_compute_text_embeddings", f"--mixed_precision={args.mixed_precision}",
               "--report_to=tensorboard", "--max_grad_norm=1.0"]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or not record.is_file():
        raise SystemExit(f"the example failed:\n{done.stderr[-3000:]}")
    return measured(record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", type=Path, required=True,
                        help="diffusers' examples/dreambooth/train_dreambooth_lora.py")
    parser.add_argument("--scale", type=float, default=0.25, help="channel width factor")
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--text-layers", type=int, default=2)
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mixed-precision", default="no", choices=("no", "fp16", "bf16"))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both (on a shared CPU, 1 keeps them steady)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved runs of each")
    parser.add_argument("--keep", type=Path, help="work folder to keep (else a temp)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="storyreel-train-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    size = build_pipeline(work / "base", args.scale, args.text_layers, args.resolution)
    gc.collect()
    instance_images(work / "images", args.resolution)
    print(f"{size}; {args.resolution}² pictures, rank {args.rank}, {args.steps} steps, "
          f"{args.device} ({args.threads} threads), mixed precision {args.mixed_precision}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    runs: dict[str, list[Measure]] = {"example": [], "ours": []}
    for round_ in range(args.rounds):
        runs["example"].append(example(args.example.absolute(), work / "base",
                                       work / "images", work / f"example-{round_}", work, args))
        print(f"round {round_ + 1} diffusers example: {runs['example'][-1]}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        runs["ours"].append(run_ours(work / "base", work / "images", work / f"ours-{round_}",
                                     work, args))
        print(f"round {round_ + 1} storyreel train:   {runs['ours'][-1]}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    for clock in ("wall", "cpu"):
        theirs, mine = (statistics.median(getattr(m, clock) for m in runs[name])
                        for name in ("example", "ours"))
        print(f"median {clock}: example {theirs:.4f}, ours {mine:.4f} steps/s; "
              f"ratio ours / example {mine / theirs:.2f}× (target ≥ 1.0×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
