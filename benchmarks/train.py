"""Steps per second of `storyreel train`'s LoRA loop against diffusers' DreamBooth LoRA example.

    .venv/bin/python benchmarks/train.py --example train_dreambooth_lora.py
        [--scale 0.25] [--resolution 128] [--steps 12] [--text-layers 2] [--rank 4]
        [--device cpu] [--mixed-precision no] [--threads 1] [--keep DIR]

One randomly initialised Stable Diffusion 1.5-shaped pipeline (UNet2DConditionModel's default
blocks with 768-wide cross-attention; `--scale` multiplies every channel count of the UNet and
the VAE, 1.0 is SD 1.5's 860 M-parameter UNet; a CLIP text encoder of `--text-layers` layers)
is saved once; both trainers then fine-tune it on the same 4 instance images with the same
settings: LoRA rank on to_k/to_q/to_v/to_out.0, batch 1, AdamW at 1e-4, constant schedule,
seed 0, the resolution, `--steps` steps, no checkpoint before the end.

  ours      engine.backends.train.lora.LoraTrainer, in this process (its step callback is timed)
  example   diffusers' examples/dreambooth/train_dreambooth_lora.py (from the diffusers
            repository, matching the installed diffusers), in a child process whose
            tqdm progress bar is timed at every step; `--pre_compute_text_embeddings` (the
            prompt encoded once, as ours does) and `--center_crop`

Steps/s is 1 / the median interval between consecutive steps (the first step's warm-up and the
last step's saving left out), so start-up and model loading count for neither. Printed: both
rates and their ratio (target ≥ 1.0×). Where torchvision cannot be imported (no wheel built
for this torch), the example gets a stand-in `torchvision.transforms` (Resize, crops, ToTensor,
Normalize with PIL and numpy) for its data loading; the rest of its script runs unchanged.
A GPU run: `--device cuda --scale 1 --resolution 512 --text-layers 12 --mixed-precision fp16`
(also prints peak GPU memory).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = "sks fox"
RECORDER = """
import atexit, importlib.util, json, runpy, sys, time, types
import tqdm.auto
stamps, record, stand_in, script = [], sys.argv[1], sys.argv[2], sys.argv[3]
class Timed(tqdm.auto.tqdm):
    def update(self, n=1):
        if self.desc == "Steps":  # the training loop's bar, not the loaders'
            stamps.append(time.perf_counter())
        return super().update(n)
tqdm.auto.tqdm = Timed
atexit.register(lambda: open(record, "w").write(json.dumps(stamps)))
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


def rate(stamps: list[float]) -> float:
    """Steps per second from the time of each step's end: the median interval, the first
    (warm-up) and the last (saving) left out."""
    intervals = [b - a for a, b in zip(stamps, stamps[1:])][1:-1]
    if not intervals:
        raise SystemExit("too few steps to time: give --steps 5 or more")
    return 1.0 / statistics.median(intervals)


def ours(base: Path, images: list[Path], out: Path, args: argparse.Namespace) -> float:
    from engine.backends.train import TrainRequest
    from engine.backends.train.lora import LoraTrainer

    stamps: list[float] = []
    trainer = LoraTrainer(rank=args.rank, steps=args.steps, checkpoint_every=args.steps,
                          learning_rate=1e-4, resolution=args.resolution, seed=0,
                          device=args.device, mixed_precision=args.mixed_precision)
    trainer.train(TrainRequest("fox", str(base), tuple(str(p) for p in images), PROMPT, str(out),
                               on_step=lambda report: stamps.append(time.perf_counter())))
    return rate(stamps)


def example(script: Path, base: Path, images: Path, out: Path, work: Path,
            args: argparse.Namespace) -> float:
    stamps_file = work / "example-steps.json"
    stand_in = ""
    try:
        import torchvision  # noqa: F401
    except Exception:  # no torchvision wheel for this torch: the stand-in serves the data loader
        stand_in = str(work / "transforms_stand_in.py")
        Path(stand_in).write_text(TRANSFORMS_STAND_IN)
    command = [sys.executable, "-c", RECORDER, str(stamps_file), stand_in, str(script),
               f"--pretrained_model_name_or_path={base}", f"--instance_data_dir={images}",
               f"--instance_prompt={PROMPT}", f"--output_dir={out}",
               f"--resolution={args.resolution}", "--train_batch_size=1",
               f"--max_train_steps={args.steps}", f"--checkpointing_steps={args.steps * 10}",
               "--learning_rate=1e-4", "--lr_scheduler=constant", "--lr_warmup_steps=0",
               f"--rank={args.rank}", "--seed=0", "--center_crop",
               "--pre_compute_text_embeddings", f"--mixed_precision={args.mixed_precision}",
               "--report_to=tensorboard", "--max_grad_norm=1.0"]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    if done.returncode != 0 or not stamps_file.is_file():
        raise SystemExit(f"the example failed:\n{done.stderr[-3000:]}")
    return rate(json.loads(stamps_file.read_text()))


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
    parser.add_argument("--keep", type=Path, help="work folder to keep (else a temp)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)

    work = args.keep or Path(tempfile.mkdtemp(prefix="storyreel-train-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    size = build_pipeline(work / "base", args.scale, args.text_layers, args.resolution)
    images = instance_images(work / "images", args.resolution)
    print(f"{size}; {args.resolution}² pictures, rank {args.rank}, {args.steps} steps, "
          f"{args.device} ({torch.get_num_threads()} threads), mixed precision "
          f"{args.mixed_precision}")
    theirs = example(args.example.absolute(), work / "base", work / "images",
                     work / "example-out", work, args)
    print(f"diffusers example: {theirs:.3f} steps/s")
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    mine = ours(work / "base", images, work / "ours-out", args)
    memory = (f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"
              if args.device.startswith("cuda") else "")
    print(f"storyreel train:   {mine:.3f} steps/s{memory}")
    print(f"ratio ours / example: {mine / theirs:.2f}× (target ≥ 1.0×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
