"""The time of one DreamTuner α switch on an SD 1.5-sized UNet, against copy, reload and LoRA.

    .venv/bin/python benchmarks/trainedness.py [--scale 1.0] [--repeats 5] [--device cpu]
                                               [--dtype float32] [--rank 16] [--keep DIR]

Random weights (no download): UNet2DConditionModel's default config with SD 1.5's
cross_attention_dim=768 (860 M parameters, 3.2 GiB in float32). A "fine-tuned" UNet is the base
plus small noise, saved as safetensors in diffusers layout. Measured in the same run:

  switch   DreamTuner.apply for a new α (W = W_base + α·Δ in place, every parameter)
  floor    a plain copy of the same bytes into the same parameters (W = W_base)
  reload   reading the fine-tuned safetensors into the parameters: from the page cache (a best
           case), and from disk (the file's pages dropped with posix_fadvise DONTNEED first)
  lora     peft LoRA (rank --rank on every attention projection): set_adapters + fuse_lora,
           and the unfuse_lora that must precede the next α (these touch the attention
           projections only, a fraction of the bytes, so no GiB/s is printed for them)

Target (issue 6): switch ≤ 2× floor and far below a reload. `--overhead PIPELINE` measures
instead the engine's overhead on one image against the bare pipeline call (target ≤ 3 %). `--scale 0.5` halves every block's
channels (≈ ¼ of the parameters) where memory is short: base, Δ, the model and a reloaded state
dict are resident at once (≈ 4 × 3.4 GB at full size in float32).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def random_unet(scale: float, device: str, dtype):
    """An SD 1.5-shaped UNet with random weights, made without the slow default initialisation."""
    import torch
    from diffusers import UNet2DConditionModel

    channels = tuple(max(32, int(round(c * scale / 32)) * 32) for c in (320, 640, 1280, 1280))
    with torch.device("meta"):
        # SD 1.5's UNet: the default config but for its 768-wide CLIP text conditioning
        unet = UNet2DConditionModel(block_out_channels=channels, cross_attention_dim=768)
    unet.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for param in unet.parameters():
            param.normal_(0.0, 0.02, generator=generator)
    return (unet if dtype == torch.float32 else unet.to(dtype)), channels


def save_fine_tuned(unet, folder: Path) -> None:
    """The base plus noise, saved tensor by tensor's worth of memory as one safetensors file."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator(device="cpu").manual_seed(1)
    state = {}
    for name, param in unet.named_parameters():
        noise = torch.randn(param.shape, generator=generator).mul_(1e-3)
        state[name] = (param.detach().cpu().float() + noise).to(param.dtype)
    (folder / "unet").mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "unet" / "diffusion_pytorch_model.safetensors"))
    unet.save_config(folder / "unet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="channel width factor")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank")
    parser.add_argument("--keep", type=Path, help="folder for the fine-tuned weights (else a temp)")
    parser.add_argument("--overhead", metavar="PIPELINE", help="instead: the engine's overhead "
                        "on one image against the bare pipeline call, for this pipeline folder")
    parser.add_argument("--size", type=int, default=512, help="--overhead: picture side")
    parser.add_argument("--steps", type=int, default=20, help="--overhead: denoising steps")
    args = parser.parse_args(argv)
    if args.overhead:
        return overhead(Path(args.overhead), args)

    import torch
    from safetensors.torch import load_file

    from engine.backends.image.dreamtuner import DreamTuner

    dtype = getattr(torch, args.dtype)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    started = time.perf_counter()
    unet, channels = random_unet(args.scale, args.device, dtype)
    params = list(unet.parameters())
    count = sum(p.numel() for p in params)
    nbytes = sum(p.numel() * p.element_size() for p in params)
    print(f"UNet2DConditionModel block_out_channels={channels}: {count / 1e6:.0f} M parameters, "
          f"{nbytes / 2**30:.2f} GiB {args.dtype} on {args.device}, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads "
          f"(built in {time.perf_counter() - started:.1f} s)")

    with tempfile.TemporaryDirectory(dir=args.keep) as scratch:
        folder = Path(scratch) / "fine-tuned"
        started = time.perf_counter()
        save_fine_tuned(unet, folder)
        print(f"fine-tuned weights written in {time.perf_counter() - started:.1f} s")

        tuner = DreamTuner({"unet": unet}, base_id="benchmark", cache_dir=None)
        started = time.perf_counter()
        delta = tuner.add(folder)
        fixes = sum(i.numel() for i, _ in delta.fixes.values())
        print(f"Δ computed once in {time.perf_counter() - started:.1f} s "
              f"({len(delta.tensors)} tensors, {fixes} α=1 rounding fixes)")
        key = str(folder)
        pointers = [p.data_ptr() for p in params]
        add_lora(unet, args.rank)
        targets = tuner.parameters()
        pairs = [(targets[name], base) for name, base in tuner._base.items()]
        weights_file = folder / "unet" / "diffusion_pytorch_model.safetensors"
        scales = iter([0.3, 0.7] * (args.repeats + 2))

        def floor() -> None:
            for param, base in pairs:
                param.data.copy_(base)

        def reload() -> None:
            state = load_file(str(weights_file), device=args.device)
            for name, value in state.items():
                targets[f"unet.{name}"].data.copy_(value)
            del state

        def evict() -> None:
            """Drops the file's pages from the page cache, so the next read is from disk."""
            os.sync()
            descriptor = os.open(weights_file, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)

        measures = {
            "floor": lambda: clock(floor, sync),
            "switch": lambda: (tuner.apply({key: 0.3}), clock(
                lambda: tuner.apply({key: 0.7}), sync))[1],
            "switch to 1": lambda: (tuner.apply({key: 0.5}), clock(
                lambda: tuner.apply({key: 1.0}), sync))[1],
            "reload": lambda: clock(reload, sync),
            "cold reload": lambda: (evict(), clock(reload, sync))[1],
            "lora set": lambda: clock(lambda: (unet.set_adapters(["character"],
                                                                 weights=[next(scales)]),
                                               unet.fuse_lora()), sync),
            "lora unfuse": lambda: clock(unet.unfuse_lora, sync),
        }
        with torch.no_grad():
            times = {name: [] for name in measures}
            for _ in range(args.repeats + 1):  # interleaved: a busy neighbour slows all alike
                for name, measure in measures.items():
                    times[name].append(measure())
        assert pointers == [p.data_ptr() for p in params], "a switch re-allocated a parameter"

    gib = nbytes / 2**30
    labels = {"switch": "α switch (DreamTuner.apply)",
              "switch to 1": "α switch to 1 (with exactness fixes)",
              "floor": "floor: copy of the same bytes",
              "reload": "reload fine-tuned safetensors (page cache)",
              "cold reload": "reload fine-tuned safetensors (from disk)",
              "lora set": f"LoRA r={args.rank}: set_adapters + fuse_lora",
              "lora unfuse": f"LoRA r={args.rank}: unfuse_lora"}
    ratio = {name: statistics.median(t / f for t, f in zip(times[name][1:], times["floor"][1:]))
             for name in times}
    seconds = {name: statistics.median(times[name][1:]) for name in times}
    print(f"\n{args.repeats} interleaved rounds (after one warm-up round); medians")
    print(f"{'what':44} {'seconds':>9} {'GiB/s':>7} {'× floor':>8}")
    for name, label in labels.items():
        rate = "" if name.startswith("lora") else f"{gib / seconds[name]:7.1f}"
        print(f"{label:44} {seconds[name]:9.4f} {rate:>7} {ratio[name]:8.2f}")
    print(f"\nswitch / floor = {ratio['switch']:.2f} (target ≤ 2); reload / switch = "
          f"{ratio['reload'] / ratio['switch']:.2f} (page cache), "
          f"{ratio['cold reload'] / ratio['switch']:.2f} (disk); "
          f"LoRA (unfuse + set + fuse) / switch = "
          f"{(ratio['lora set'] + ratio['lora unfuse']) / ratio['switch']:.2f}")
    return 0


def clock(action, sync) -> float:
    started = time.perf_counter()
    action()
    sync()
    return time.perf_counter() - started


def add_lora(unet, rank: int) -> None:
    """A peft LoRA adapter on every attention projection (random, as if trained)."""
    from peft import LoraConfig

    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]),
                     adapter_name="character")


def overhead(folder: Path, args: argparse.Namespace) -> int:
    """image=diffusers draw() against pipe(...) with the same prompt, size, steps and seed."""
    import torch

    from engine.backends.image import CharacterLook, DrawRequest
    from engine.backends.image.diffusers import DiffusersIllustrator

    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    drawer = DiffusersIllustrator(str(folder), device=args.device, dtype=args.dtype,
                                  steps=args.steps, guidance=7.5, negative_prompt="blurry")
    pipe = drawer.pipeline
    look = CharacterLook(name="Pip", description="a small orange fox", tags=("green scarf",))
    request = DrawRequest("bench", "a fox in the snow", "Snow", "a meadow",
                          "watercolor", (look,), args.size, args.size, 7)

    # The bare call gets exactly what draw() hands the pipeline: the fitted prompts and the
    # size drawn (the native budget, which is not the picture's side for SDXL at --size 512).
    drawn = drawer.drawing(request)
    width, height = drawn.size

    def bare() -> None:
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        pipe(prompt=drawn.prompt, negative_prompt=drawn.negative_prompt,
             num_inference_steps=args.steps, guidance_scale=7.5, width=width,
             height=height, generator=generator, output_type="pil").images[0]

    times: dict[str, list[float]] = {"engine": [], "bare": []}
    for _ in range(args.repeats + 1):  # interleaved; the first round warms up
        times["bare"].append(clock(bare, sync))
        times["engine"].append(clock(lambda: drawer.draw(request), sync))
    engine, plain = (statistics.median(times[k][1:]) for k in ("engine", "bare"))
    print(f"{folder.name}: {args.size}x{args.size}, {args.steps} steps, {args.dtype} on "
          f"{args.device}: engine {engine:.3f} s, bare pipeline {plain:.3f} s, overhead "
          f"{100 * (engine / plain - 1):+.1f} % (target ≤ 3 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
