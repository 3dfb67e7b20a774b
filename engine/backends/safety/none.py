"""`safety=none`: no check; every picture is shown (the author reviews the storyboard)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.backends.safety import SafetyVerdict

if TYPE_CHECKING:
    from PIL.Image import Image


class NoSafetyCheck:
    redraws = 0

    def check(self, image: Image) -> SafetyVerdict:
        return SafetyVerdict(flagged=False)

    def identity(self) -> dict[str, Any]:
        return {"backend": "none"}
