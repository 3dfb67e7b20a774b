"""`select=first`: no model; the first candidate (the scene's own seed) is chosen."""

from __future__ import annotations

from typing import Any

from engine.backends.select import SelectRequest


class FirstSelector:
    """Scores the first candidate 1 and the others 0."""

    def score(self, request: SelectRequest) -> tuple[float, ...]:
        return tuple(1.0 if i == 0 else 0.0 for i in range(len(request.candidates)))

    def identity(self) -> dict[str, Any]:
        return {"backend": "first"}
