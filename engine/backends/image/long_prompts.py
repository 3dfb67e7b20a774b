"""`image.long_prompts: chunk`: prompts past 77 tokens encoded 77 tokens a chunk (compel)."""

from __future__ import annotations

from typing import Any

from engine.backends.image.dreamtuner import BACKEND
from engine.errors import ConfigError, MissingDependency

_ENCODERS = {("CLIPTextModel", None): "SD",
             ("CLIPTextModel", "CLIPTextModelWithProjection"): "SDXL"}
"""The text encoders (first, second) of the pipelines whose prompts are chunked."""


class ChunkedEncoder:
    """Encodes a prompt of any length as the pipeline's own text encoder(s) would encode a short
    one: SD's last hidden state; SDXL's two penultimate states side by side and the second
    encoder's pooled output. The text is taken as written (compel's weighting syntax is not
    read)."""

    def __init__(self, pipe: Any):
        try:
            from compel import Compel, ReturnedEmbeddingsType
        except ImportError as error:
            raise MissingDependency(BACKEND, error.name or "compel",
                                    "pip install 'storyreel[diffusers]'") from None
        encoders = tuple(type(getattr(pipe, name)).__name__ if getattr(pipe, name, None)
                         is not None else None
                         for name in ("text_encoder", "text_encoder_2", "text_encoder_3"))
        if encoders[:2] not in _ENCODERS or encoders[2] is not None:
            raise ConfigError(f"image.long_prompts=chunk encodes for SD and SDXL pipelines, not "
                              f"{type(pipe).__name__}; use image.long_prompts=drop")
        self.pipe = pipe
        self.sdxl = _ENCODERS[encoders[:2]] == "SDXL"
        if self.sdxl:
            hidden = ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED
            self.compels = [
                Compel(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder,
                       returned_embeddings_type=hidden, truncate_long_prompts=False),
                Compel(tokenizer=pipe.tokenizer_2, text_encoder=pipe.text_encoder_2,
                       returned_embeddings_type=hidden, truncate_long_prompts=False,
                       requires_pooled=True)]
        else:
            self.compels = [Compel(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder,
                                   truncate_long_prompts=False)]

    def __call__(self, prompt: str, negative_prompt: str) -> dict[str, Any]:
        """The pipeline's `prompt_embeds` (and SDXL's pooled) arguments, negatives included."""
        import torch

        # As the pipelines do: SDXL draws an empty negative prompt as zeros, SD encodes "".
        zeros = self.sdxl and not negative_prompt and bool(
            getattr(self.pipe.config, "force_zeros_for_empty_prompt", False))
        with torch.no_grad():
            positive = [self._embeds(c, prompt) for c in self.compels]
            negative = [self._embeds(c, negative_prompt) for c in self.compels]
            length = max(t.shape[1] for t in positive + negative)
            positive = [_padded(t, length, c) for t, c in zip(positive, self.compels)]
            negative = [_padded(t, length, c) for t, c in zip(negative, self.compels)]
            embeds = torch.cat(positive, dim=-1)
            negative_embeds = torch.zeros_like(embeds) if zeros else torch.cat(negative, dim=-1)
            options = {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}
            if self.sdxl:
                pooled = self._pooled(prompt)
                options |= {"pooled_prompt_embeds": pooled,
                            "negative_pooled_prompt_embeds": torch.zeros_like(pooled) if zeros
                            else self._pooled(negative_prompt)}
        return options

    @staticmethod
    def _embeds(compel: Any, text: str) -> Any:
        from compel.prompt_parser import FlattenedPrompt, Fragment

        (conditioning, _tokens), _options = compel.build_conditioning_tensor_for_prompt_object(
            FlattenedPrompt([Fragment(text, 1.0)]))
        return conditioning if conditioning.dim() == 3 else conditioning.unsqueeze(0)

    def _pooled(self, text: str) -> Any:
        compel = self.compels[-1]
        return compel.conditioning_provider.get_pooled_embeddings([text], device=compel.device)


def _padded(tensor: Any, length: int, compel: Any) -> Any:
    """`tensor` lengthened to `length` tokens with the encoder's empty-prompt chunk, as compel
    pads a positive and a negative prompt to the same length."""
    import torch

    empty = compel.conditioning_provider.empty_z
    empty = (empty if empty.dim() == 3 else empty.unsqueeze(0)).to(tensor)
    while tensor.shape[1] < length:
        tensor = torch.cat([tensor, empty[:, : length - tensor.shape[1]]], dim=1)
    return tensor
