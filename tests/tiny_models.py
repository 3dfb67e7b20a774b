"""Tiny randomly initialised models built from configs, saved as safetensors, for offline tests."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BYTE_CHARS: list[str] = []
"""CLIP's byte-level alphabet: every byte as a printable character (GPT-2's byte encoder)."""


def _byte_chars() -> list[str]:
    if not BYTE_CHARS:
        printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                     + list(range(ord("®"), ord("ÿ") + 1)))
        codes, extra = printable[:], 0
        for b in range(256):
            if b not in printable:
                codes.append(256 + extra)
                extra += 1
        BYTE_CHARS.extend(chr(c) for c in codes)
    return BYTE_CHARS


MERGES = ("f o", "fo x</w>", "t h", "th e</w>", "r e", "re d</w>", "s k", "sk s</w>",
          "o w", "ow l</w>")


def write_clip_tokenizer(folder: Path, max_length: int = 77) -> int:
    """A hand-written CLIP BPE vocabulary (bytes, bytes at word end, a few merges, specials).

    Returns the vocabulary size (the text model's vocab_size must be at least this)."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = _byte_chars() + [c + "</w>" for c in _byte_chars()]
    for merge in MERGES:
        tokens.append(merge.replace(" ", ""))
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(MERGES) + "\n")
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(folder, model_max_length=max_length,
                                              pad_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)
    return len(vocab)


def _tokenizer(folder: Path, tokenizer_dir: Path | None):
    """The pipeline's tokenizer and its vocabulary size (the text encoders' vocab_size)."""
    from transformers import CLIPTokenizer

    if tokenizer_dir is None:
        tokenizer_dir = folder.parent / f"{folder.name}-tokenizer"
        write_clip_tokenizer(tokenizer_dir)
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    return tokenizer, len(tokenizer)


def clip_text_config(vocab_size: int, projection_dim: int = 16):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=37,
                          num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=77,
                          projection_dim=projection_dim, bos_token_id=vocab_size - 2,
                          eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1)


def clip_vision_config(projection_dim: int = 16):
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(image_size=32, patch_size=8, hidden_size=32, intermediate_size=37,
                            num_hidden_layers=2, num_attention_heads=4,
                            projection_dim=projection_dim)


def clip_image_processor():
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def _tiny_unet(**extra: object):
    """A two-block UNet with 4 and 8 channels (one cross-attention block); `extra`: the
    family's own settings (its text width, SDXL's time embedding)."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), norm_num_groups=2,
        attention_head_dim=2, **extra)


def _tiny_vae():
    """A two-block VAE with 4 and 8 channels (a scale factor of 2)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=(4, 8), in_channels=3, out_channels=3,
                         down_block_types=("DownEncoderBlock2D",) * 2,
                         up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4,
                         norm_num_groups=2, sample_size=32)


def build_tiny_sd(folder: Path, tokenizer_dir: Path | None = None) -> Path:
    """A Stable Diffusion pipeline with tiny random components, in diffusers layout; its
    tokenizer is a hand-written one, or the one in `tokenizer_dir` (e.g. the real CLIP's)."""
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    unet = _tiny_unet(cross_attention_dim=32)
    vae = _tiny_vae()
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    tokenizer, vocab_size = _tokenizer(folder, tokenizer_dir)
    text_encoder = CLIPTextModel(clip_text_config(vocab_size))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   unet=unet, scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def perturb(module, scale: float, seed: int, only: str | None = None) -> None:
    """Moves every parameter (or those whose name contains `only`) a random step: a 'fine-tune'."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if only is None or only in name:
                param.add_(torch.randn(param.shape, generator=generator) * scale)


def build_finetuned(base: Path, folder: Path, seed: int, *, text_encoder: bool = False,
                    only: str | None = None) -> Path:
    """A character's DreamBooth-style model: a fine-tuned `unet/` (and `text_encoder/`) folder."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    perturb(unet, 0.05, seed, only)
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    if text_encoder:
        encoder = CLIPTextModel.from_pretrained(base / "text_encoder")
        perturb(encoder, 0.05, seed + 1)
        encoder.save_pretrained(folder / "text_encoder", safe_serialization=True)
    return folder


def build_lora(base: Path, file: Path, seed: int, rank: int = 2) -> Path:
    """A character's LoRA for the tiny UNet's attention, as one diffusers-format .safetensors."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(file.parent, unet_lora_layers=layers,
                                              weight_name=file.name, safe_serialization=True)
    return file


def build_tiny_clip(folder: Path) -> Path:
    """A CLIP model (text and vision towers) with its processor, for selection."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer

    torch.manual_seed(1)
    vocab_size = write_clip_tokenizer(folder)
    config = CLIPConfig(text_config=clip_text_config(vocab_size).to_dict(),
                        vision_config=clip_vision_config().to_dict(), projection_dim=16)
    CLIPModel(config).save_pretrained(folder, safe_serialization=True)
    processor = CLIPProcessor(image_processor=clip_image_processor(),
                              tokenizer=CLIPTokenizer.from_pretrained(folder))
    processor.save_pretrained(folder)
    return folder


def build_tiny_vit_tagger(folder: Path, labels: tuple[str, ...], passing: tuple[int, ...]) -> Path:
    """A ViT multi-label tagger whose classifier is zero but for a bias: `passing` labels score
    sigmoid(4) ≈ 0.98 on every image, the others sigmoid(-4) ≈ 0.02."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(2)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=37, num_labels=len(labels),
                       id2label=dict(enumerate(labels)),
                       label2id={label: i for i, label in enumerate(labels)},
                       problem_type="multi_label_classification")
    model = ViTForImageClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.fill_(-4.0)
        for index in passing:
            model.classifier.bias[index] = 4.0
    model.save_pretrained(folder, safe_serialization=True)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def build_tiny_safety(folder: Path, flag_everything: bool) -> Path:
    """diffusers' StableDiffusionSafetyChecker on a tiny CLIP vision tower; its concept
    thresholds are set so that it flags every image, or none."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig

    torch.manual_seed(3)
    config = CLIPConfig(text_config=clip_text_config(600).to_dict(),
                        vision_config=clip_vision_config().to_dict(), projection_dim=16)
    checker = StableDiffusionSafetyChecker(config)
    with torch.no_grad():  # a cosine lies in [-1, 1]: a threshold of -2 always passes, 2 never
        checker.concept_embeds_weights.fill_(-2.0 if flag_everything else 2.0)
        checker.special_care_embeds_weights.fill_(-2.0 if flag_everything else 2.0)
    checker.save_pretrained(folder, safe_serialization=True)
    clip_image_processor().save_pretrained(folder)
    return folder


@functools.cache
def tiny_root() -> Path:
    """One temporary folder per test session for every tiny model (built once, removed at exit)."""
    root = Path(tempfile.mkdtemp(prefix="storyreel-tiny-"))
    atexit.register(shutil.rmtree, root, True)
    return root


@functools.cache
def tiny_sd() -> Path:
    return build_tiny_sd(tiny_root() / "sd")


@functools.cache
def tiny_character(name: str) -> Path:
    """Personalised models of the tiny pipeline: 'full' (unet + text encoder), 'unet' (unet
    only), 'attn' (only attention weights changed), 'lora' (a LoRA file)."""
    base = tiny_sd()
    if name == "full":
        return build_finetuned(base, tiny_root() / "char-full", 11, text_encoder=True)
    if name == "unet":
        return build_finetuned(base, tiny_root() / "char-unet", 22)
    if name == "attn":
        return build_finetuned(base, tiny_root() / "char-attn", 33, only="attn")
    if name == "lora":
        return build_lora(base, tiny_root() / "char-lora" / "fox_lora.safetensors", 44)
    raise ValueError(name)


@functools.cache
def tiny_clip() -> Path:
    return build_tiny_clip(tiny_root() / "clip")


@functools.cache
def tiny_vit(labels: tuple[str, ...] = ("fox", "long_hair", "red_scarf", "general"),
             passing: tuple[int, ...] = (0, 1, 3)) -> Path:
    return build_tiny_vit_tagger(tiny_root() / "vit", labels, passing)


@functools.cache
def tiny_safety(flag_everything: bool) -> Path:
    return build_tiny_safety(tiny_root() / f"safety-{int(flag_everything)}", flag_everything)


def build_tiny_sdxl(folder: Path, tokenizer_dir: Path | None = None) -> Path:
    """A Stable Diffusion XL pipeline (two text encoders, time ids) with tiny random parts."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(5)
    unet = _tiny_unet(cross_attention_dim=64, use_linear_projection=True,
                      addition_embed_type="text_time", addition_time_embed_dim=8,
                      projection_class_embeddings_input_dim=6 * 8 + 16)
    vae = _tiny_vae()
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1,
                                       beta_schedule="scaled_linear",
                                       timestep_spacing="leading")
    tokenizer, vocab_size = _tokenizer(folder, tokenizer_dir)
    pipe = StableDiffusionXLPipeline(
        vae=vae, unet=unet, scheduler=scheduler, tokenizer=tokenizer, tokenizer_2=tokenizer,
        text_encoder=CLIPTextModel(clip_text_config(vocab_size)),
        text_encoder_2=CLIPTextModelWithProjection(clip_text_config(vocab_size)))
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


@functools.cache
def tiny_sdxl() -> Path:
    return build_tiny_sdxl(tiny_root() / "sdxl")


@functools.cache
def tiny_sdxl_character() -> Path:
    """A fine-tune of the tiny SDXL pipeline's unet and second text encoder."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModelWithProjection

    base, folder = tiny_sdxl(), tiny_root() / "char-sdxl"
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    perturb(unet, 0.05, 55)
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    encoder = CLIPTextModelWithProjection.from_pretrained(base / "text_encoder_2")
    perturb(encoder, 0.05, 56)
    encoder.save_pretrained(folder / "text_encoder_2", safe_serialization=True)
    return folder


def build_tiny_ip_adapter(base: Path, folder: Path) -> Path:
    """An IP-Adapter for the tiny SD pipeline in h94/IP-Adapter's layout: one .safetensors
    (`image_proj.*`: the image embedding's projection to 4 tokens; `ip_adapter.N.to_k_ip` /
    `to_v_ip`: each cross-attention's keys and values for them) and `image_encoder/` beside it.
    The projection is scaled up so that the adapter visibly moves the picture."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionModelWithProjection

    torch.manual_seed(6)
    config = UNet2DConditionModel.load_config(base / "unet")
    width, channels = config["cross_attention_dim"], list(config["block_out_channels"])
    encoder = CLIPVisionModelWithProjection(clip_vision_config())
    encoder.save_pretrained(folder / "image_encoder", safe_serialization=True)
    embed = encoder.config.projection_dim
    tensors = {"image_proj.proj.weight": torch.randn(4 * width, embed) * 2.0,
               "image_proj.proj.bias": torch.zeros(4 * width),
               "image_proj.norm.weight": torch.ones(width),
               "image_proj.norm.bias": torch.zeros(width)}
    unet = UNet2DConditionModel.from_config(config)
    for number, name in enumerate(unet.attn_processors):  # attn1 (self) and attn2 (cross) alternate
        if not name.endswith("attn2.processor"):
            continue
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        hidden = (channels[-1] if block < 0 else channels[block] if name.startswith("down")
                  else channels[::-1][block])
        for kind in ("to_k_ip", "to_v_ip"):
            tensors[f"ip_adapter.{number}.{kind}.weight"] = torch.randn(hidden, width) * 0.5
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()},
              str(folder / "ip-adapter_tiny.safetensors"))
    return folder / "ip-adapter_tiny.safetensors"


@functools.cache
def tiny_ip_adapter() -> Path:
    return build_tiny_ip_adapter(tiny_sd(), tiny_root() / "ip-adapter")


def render_with_diffusers(story: Path, model: Path, tmp_path: Path, size: tuple[int, int]
                          ) -> subprocess.CompletedProcess[str]:
    """`storyreel render` of `story` with image=diffusers on `model` (two steps, 8 fps), its run
    folder `tmp_path/run`, its cache and deltas under `tmp_path`."""
    return subprocess.run(
        [sys.executable, "-m", "engine", "render", str(story), "image=diffusers",
         f"image.model={model}", "image.steps=2", f"image.delta_cache={tmp_path / 'deltas'}",
         f"render.width={size[0]}", f"render.height={size[1]}", "render.fps=8",
         f"hydra.run.dir={tmp_path / 'run'}", f"cache.dir={tmp_path / 'cache'}"],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
