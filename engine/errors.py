"""Diagnostics and the StoryError tree: gcc-style `file:line:col: error: ...` with caret and hint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Literal

from engine.ir import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a story file; `code` is stable for editors and CI."""

    span: Span
    severity: Severity
    code: str
    message: str
    hint: str | None = None

    def render(self, source_line: str | None = None) -> str:
        """`file:line:col: severity: message`, then the line, a caret under the spot, a hint."""
        s = self.span
        where = f"{s.file}:{s.line}:{s.column}" if s.line > 0 else s.file
        out = [f"{where}: {self.severity}: {self.message}"]
        if source_line is not None and s.line > 0:
            text = source_line.rstrip("\r\n").expandtabs(1)
            width = 1
            if s.end_line == s.line and s.end_column > s.column:
                width = s.end_column - s.column
            width = max(1, min(width, len(text) - s.column + 2))
            out.append(f"  {s.line:>4} | {text}")
            out.append(f"       | {' ' * (s.column - 1)}{'^' * width}")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def as_json(self) -> dict[str, object]:
        s = self.span
        return {
            "file": s.file,
            "line": s.line,
            "column": s.column,
            "end": {"line": s.end_line, "column": s.end_column},
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.span.file, d.span.line, d.span.column, d.code)


class StoryError(Exception):
    """A user's mistake: carries every diagnostic of the run; the CLI prints them and exits 2."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(sorted(diagnostics, key=sort_key))
        super().__init__("\n".join(f"{d.span.file}:{d.span.line}:{d.span.column}: {d.message}"
                                   for d in self.diagnostics))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


class ConfigError(Exception):
    """A mistake in the Hydra configuration (unknown option, bad value): printed without traceback."""


class BackendError(Exception):
    """A backend failed: says which backend, which scene or line, and what to try."""

    def __init__(self, backend: str, message: str, *, where: str | None = None,
                 hint: str | None = None):
        self.backend, self.message, self.where, self.hint = backend, message, where, hint
        text = f"{backend}: {message}"
        if where:
            text = f"{where}: {text}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


class MissingDependency(BackendError):
    """An optional package or tool is not installed; the message names the exact install command."""

    def __init__(self, backend: str, what: str, install: str):
        super().__init__(backend, f"{what} is not installed", hint=f"run: {install}")


def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_json() for d in diagnostics], ensure_ascii=False, indent=2)

