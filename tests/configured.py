"""Backends as a render builds them: conf/ composed with overrides, the role's node instantiated."""

from __future__ import annotations

from typing import Any

from engine.config import build_backend, compose_config


def configured(role: str, option: str, *overrides: str) -> Any:
    """`ROLE=OPTION` and Hydra overrides (`tts.categories.child.pitch=70`) → the built backend."""
    return build_backend(role, compose_config([f"{role}={option}", *overrides])[role])
