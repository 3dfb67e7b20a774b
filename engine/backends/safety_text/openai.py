"""`safety_text=openai`: OpenAI's moderation endpoint, with thresholds set for children's content."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine import secrets
from engine.backends.openai_api import Retries, connect, public, transient_fault
from engine.backends.safety_text import TextCheckRequest, TextFlag
from engine.errors import ConfigError

log = logging.getLogger(__name__)

BACKEND = "safety_text=openai"


class _Unusable(Exception):
    """A 200 answer that is not a moderation result (garbage, cut-off body, no scores)."""


class Moderation:
    """Category scores from a moderation endpoint, and the thresholds a score is flagged at:
    well below the endpoint's own `flagged`, which is set for adults. `setting` names the config
    node in messages (`safety_text` for texts, `safety` for pictures)."""

    backend, setting = BACKEND, "safety_text"

    def __init__(self, model: str = "omni-moderation-latest", base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", timeout: float = 30.0,
                 max_retries: int = 4, backoff: float = 1.0, max_backoff: float = 30.0,
                 thresholds: Mapping[str, float] | None = None, default_threshold: float = 0.2):
        if max_retries < 0 or timeout <= 0:
            raise ConfigError(f"{self.setting}.max_retries must be >= 0 and "
                              f"{self.setting}.timeout > 0")
        self.thresholds = {str(k): float(v) for k, v in (thresholds or {}).items()}
        self.default_threshold = float(default_threshold)
        if any(not 0 < t <= 1 for t in (*self.thresholds.values(), self.default_threshold)):
            raise ConfigError(f"{self.setting}.thresholds and {self.setting}.default_threshold "
                              "must be in (0, 1]")
        self.model, self.base_url = model, base_url.rstrip("/") if base_url else None
        self.api_key_env, self.timeout, self.max_retries = api_key_env, timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self._client: Any = None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(model={self.model!r}, "
                f"base_url={public(self.base_url or '')!r})")

    def identity(self) -> dict[str, Any]:
        # Never the key: identity lands in cache keys and manifests.
        return {"backend": "openai", "model": self.model,
                "base_url": public(self.base_url or "https://api.openai.com/v1"),
                "thresholds": dict(sorted(self.thresholds.items())),
                "default_threshold": self.default_threshold}

    def threshold(self, category: str) -> float:
        return self.thresholds.get(category, self.default_threshold)

    def over(self, scores: Mapping[str, float]) -> list[tuple[str, float]]:
        """The categories whose score reaches its threshold, by name."""
        return [(category, round(score, 6)) for category, score in sorted(scores.items())
                if score >= self.threshold(category)]

    def scores(self, content: str | list[dict[str, Any]]) -> dict[str, float]:
        """Every category's score for a text (or the endpoint's list of parts, an image among
        them), retried within the budget on a fault."""
        import openai

        if self._client is None:
            self._client = connect(self.backend, self.setting, self.api_key_env, self.base_url,
                                   self.timeout)
        where = public(self.base_url) if self.base_url else "api.openai.com"
        retries = Retries(self.backend, where, self.setting, self.max_retries, self.backoff,
                          self.max_backoff)
        while True:
            try:
                try:
                    answer = self._client.moderations.create(model=self.model, input=content)
                except ValueError as error:  # a body that is not JSON, or JSON cut off
                    raise _Unusable(secrets.clip(f"the body is not JSON: {error}", 200)) from None
                return _scores(answer)
            except openai.APIError as error:
                retries.after(*transient_fault(error, self.backend, where, self.setting,
                                               self.api_key_env, self.timeout))
            except _Unusable as error:
                retries.after(f"unusable answer ({error})", None)


class OpenAIModeration(Moderation):
    """Flags a text when any category's score reaches its threshold (the whole text: no span)."""

    def check(self, request: TextCheckRequest) -> tuple[TextFlag, ...]:
        return tuple(TextFlag(category, score)
                     for category, score in self.over(self.scores(request.text)))


def _scores(answer: Any) -> dict[str, float]:
    """`results[0].category_scores` with the endpoint's own category names (`self-harm/intent`)."""
    results = getattr(answer, "results", None)
    if not results:
        raise _Unusable("no results" if results is not None else "not a moderation result")
    raw = getattr(results[0], "category_scores", None)
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump(by_alias=True, exclude_none=True)
    if not isinstance(raw, Mapping) or not raw:
        raise _Unusable("no category_scores")
    try:
        return {str(name): float(score) for name, score in raw.items()}
    except (TypeError, ValueError):
        raise _Unusable("a category score is not a number") from None
