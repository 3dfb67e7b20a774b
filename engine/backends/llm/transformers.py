"""`llm=transformers`: a writer on a local causal LM (safetensors only), in process, seeded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.backends.llm import WriteRequest, WriteResult
from engine.backends.llm.chat import ChatReply, ChatWriting, Message, load_prompts
from engine.errors import BackendError, ConfigError, MissingDependency

log = logging.getLogger(__name__)

BACKEND = "llm=transformers"
DTYPES = ("auto", "float32", "float16", "bfloat16")
INSTALL = "pip install 'storyreel[transformers]' (and torch, as the README's set-up does)"


class TransformersWriter:
    """Loads the model on first use; greedy by default, sampled with a fixed seed otherwise."""

    scene_by_scene = True  # the write stage asks, and caches, each scene on its own

    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "float32",
                 seed: int = 0, temperature: float = 0.0, top_p: float = 1.0,
                 max_new_tokens: int = 1024, validation_attempts: int = 3,
                 max_words: int | None = None, prompts: Mapping[str, Any] | str | None = None):
        if dtype not in DTYPES:
            raise ConfigError(f"llm.dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        if max_new_tokens < 1 or temperature < 0:
            raise ConfigError("llm.max_new_tokens must be >= 1 and llm.temperature >= 0")
        self.model_path = Path(model_path).expanduser()
        self.device, self.dtype, self.seed = device, dtype, seed
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens
        self.backend = BACKEND
        self.prompts = load_prompts(prompts)
        self._writing = ChatWriting(self, self.prompts, attempts=validation_attempts,
                                    max_words=max_words)
        self._model: Any = None
        self._tokenizer: Any = None

    def identity(self) -> dict[str, Any]:
        from engine.backends.weights import folder_fingerprint, package_versions

        return {"backend": "transformers", "model": self.model_path.name,
                "weights": folder_fingerprint(self.model_path), "device": self.device,
                "dtype": self.dtype, "seed": self.seed, "temperature": self.temperature,
                "top_p": self.top_p, "max_new_tokens": self.max_new_tokens,
                "max_words": self._writing.max_words, "prompts": self.prompts.digest(),
                **package_versions("transformers", "torch")}

    def write(self, request: WriteRequest) -> WriteResult:
        return self._writing.write(request)

    def _load(self) -> tuple[Any, Any]:
        if self._model is not None:
            return self._model, self._tokenizer
        from engine.backends.weights import require_safetensors

        folder = require_safetensors(self.model_path, BACKEND, "llm.model_path")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "transformers", INSTALL) from None
        dtype = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(
                folder, use_safetensors=True, local_files_only=True, dtype=dtype,
                trust_remote_code=False)
        except (OSError, ValueError) as error:
            raise BackendError(BACKEND, f"cannot load the model in {folder}: {error}") from None
        model.to(self.device).eval()
        log.info("%s: loaded %s (%s, %s)", BACKEND, folder.name, self.device, self.dtype)
        self._model, self._tokenizer = model, tokenizer
        return model, tokenizer

    def _prompt(self, tokenizer: Any, messages: list[Message]) -> str:
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(messages, tokenize=False,
                                                 add_generation_prompt=True)
        # A base model without a chat template still follows a plainly laid out conversation.
        turns = [f"{m['role'].upper()}:\n{m['content']}" for m in messages]
        return "\n\n".join(turns) + "\n\nASSISTANT:\n"

    def chat(self, messages: list[Message], schema: dict[str, Any], schema_name: str) -> ChatReply:
        import torch

        model, tokenizer = self._load()
        # The schema is spelled out in the prompt; a local model has no structured-output mode.
        text = self._prompt(tokenizer, messages)
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        limit = _context_length(model.config)
        if limit and prompt_tokens + self.max_new_tokens > limit:
            raise BackendError(BACKEND, f"the prompt is {prompt_tokens} tokens and "
                               f"llm.max_new_tokens {self.max_new_tokens}; the model takes at "
                               f"most {limit}", hint="use a model with a longer context, or "
                               "lower llm.max_new_tokens")
        options: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.temperature > 0:
            options |= {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
        else:
            options |= {"do_sample": False}
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
            else tokenizer.eos_token_id
        torch.manual_seed(self.seed)
        with torch.inference_mode():
            output = model.generate(**inputs, pad_token_id=pad, **options)
        new_tokens = output[0, prompt_tokens:]
        answer = tokenizer.decode(new_tokens, skip_special_tokens=True)
        log.debug("%s: %d prompt tokens, %d new", BACKEND, prompt_tokens, len(new_tokens))
        return ChatReply(answer, prompt_tokens, int(len(new_tokens)))


def _context_length(config: Any) -> int | None:
    for name in ("max_position_embeddings", "n_positions", "n_ctx", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None

