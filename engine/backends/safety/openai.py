"""`safety=openai`: a picture scored by OpenAI's moderation endpoint, at children's thresholds."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.backends.safety import SafetyVerdict
from engine.backends.safety_text.openai import Moderation
from engine.errors import ConfigError

if TYPE_CHECKING:
    from PIL.Image import Image


class OpenAIPictureModeration(Moderation):
    """Flags a picture when any category's score reaches its threshold (the endpoint scores
    pictures for sexual content, violence and self-harm)."""

    backend, setting = "safety=openai", "safety"

    def __init__(self, model: str = "omni-moderation-latest", base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", timeout: float = 60.0,
                 max_retries: int = 4, backoff: float = 1.0, max_backoff: float = 30.0,
                 thresholds: Mapping[str, float] | None = None, default_threshold: float = 0.2,
                 redraws: int = 2):
        if redraws < 0:
            raise ConfigError("safety.redraws must be >= 0")
        super().__init__(model, base_url, api_key_env, timeout, max_retries, backoff,
                         max_backoff, thresholds, default_threshold)
        self.redraws = int(redraws)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "input": "image_url"}

    def check(self, image: Image) -> SafetyVerdict:
        png = io.BytesIO()
        image.convert("RGB").save(png, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
        over = self.over(self.scores([{"type": "image_url", "image_url": {"url": url}}]))
        if not over:
            return SafetyVerdict(False)
        return SafetyVerdict(True, "moderation: " + ", ".join(f"{c} {s:.2f}" for c, s in over))
