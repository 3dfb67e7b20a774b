"""The released CLIP tokenizer (as Stable Diffusion ships it), built from open_clip's BPE file."""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from pathlib import Path

from tests.tiny_models import _byte_chars, tiny_root

VOCAB_SIZE = 49408
BOS, EOS = 49406, 49407
MERGE_COUNT = VOCAB_SIZE - 2 * 256 - 2  # the BPE file's merges that CLIP's vocabulary uses


def bpe_file() -> Path | None:
    """open_clip's `bpe_simple_vocab_16e6.txt.gz`, found without importing open_clip (whose
    import needs torchvision); None when open-clip-torch is not installed."""
    spec = importlib.util.find_spec("open_clip")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "bpe_simple_vocab_16e6.txt.gz"
        if path.is_file():
            return path
    return None


def write_real_clip_tokenizer(folder: Path, bpe: Path) -> Path:
    """vocab.json and merges.txt exactly as the released SD tokenizers have them, then the
    tokenizer saved by transformers (bos 49406, eos = pad = unk 49407, 77 tokens)."""
    lines = gzip.decompress(bpe.read_bytes()).decode("utf-8").split("\n")
    merges = lines[1:MERGE_COUNT + 1]  # the first line is the file's version header
    tokens = _byte_chars() + [c + "</w>" for c in _byte_chars()]
    tokens += ["".join(merge.split()) for merge in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != VOCAB_SIZE:
        raise ValueError(f"{bpe} gives {len(vocab)} tokens, not CLIP's {VOCAB_SIZE}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n",
                                       encoding="utf-8")
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(
        folder, model_max_length=77, bos_token="<|startoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", pad_token="<|endoftext|>", do_lower_case=True)
    tokenizer.save_pretrained(folder)
    return folder


@functools.cache
def real_clip_tokenizer_dir() -> Path:
    """The tokenizer folder (built once per test session); skips when open-clip-torch is absent."""
    bpe = bpe_file()
    if bpe is None:
        import pytest

        pytest.skip("open-clip-torch (CLIP's BPE vocabulary) is not installed")
    return write_real_clip_tokenizer(tiny_root() / "real-clip-tokenizer", bpe)


def real_clip_tokenizer():
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(real_clip_tokenizer_dir())


@functools.cache
def tiny_sd_real_clip() -> Path:
    """The tiny SD pipeline with the released CLIP tokenizer (its text encoder reads 49408 ids)."""
    from tests.tiny_models import build_tiny_sd

    return build_tiny_sd(tiny_root() / "sd-real-clip", real_clip_tokenizer_dir())


@functools.cache
def tiny_sdxl_real_clip() -> Path:
    """The tiny SDXL pipeline with the released CLIP tokenizer for both text encoders."""
    from tests.tiny_models import build_tiny_sdxl

    return build_tiny_sdxl(tiny_root() / "sdxl-real-clip", real_clip_tokenizer_dir())


@functools.cache
def tiny_real_clip_character() -> Path:
    """A DreamBooth-style fine-tune (its unet) of the tiny SD pipeline with the real tokenizer."""
    from tests.tiny_models import build_finetuned

    return build_finetuned(tiny_sd_real_clip(), tiny_root() / "char-real-clip", 66)
