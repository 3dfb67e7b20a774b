"""Diagnostics and the StoryError tree: gcc-style `file:line:col: error: ...` with caret and hint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Literal

from engine.ir import Span

Severity = Literal["error", "warning"]

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069]")
"""Characters a terminal obeys instead of showing (C0, DEL, C1) and ones that reorder or break
text on screen (bidirectional marks and overrides, line and paragraph separators)."""


def escaped(ch: str) -> str:
    """One character as Python writes it in a string: `\\x1b`, `\\u202e`."""
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def shown(text: str) -> str:
    """`text` safe to print to a terminal: every control character written as an escape."""
    return CONTROL.sub(lambda m: escaped(m.group()), text)


class Stopped(Exception):
    """Work stopped from outside, between two of its steps: work beside it failed, or Ctrl-C.
    Whoever set the stop raises the reason; this one is not shown."""


def stop_if(stop: Any) -> None:
    """Raise Stopped when `stop` (a threading.Event, or None) is set."""
    if stop is not None and stop.is_set():
        raise Stopped


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 line`, `2 lines`: a count with its noun as English says it."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def during_ctrl_c(error: BaseException) -> bool:
    """Whether `error` was raised while a Ctrl-C was being handled: Python 3.11's thread join
    can turn a KeyboardInterrupt into "RuntimeError: release unlocked lock", which is that
    Ctrl-C, not a failure."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__context__ or cause.__cause__
    return False


def times(count: int) -> str:
    """`once`, `2 times`: how often something happened."""
    return "once" if count == 1 else f"{count} times"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a story file; `code` is stable for editors and CI."""

    span: Span
    severity: Severity
    code: str
    message: str
    hint: str | None = None

    def render(self, source_line: str | None = None) -> str:
        """`file:line:col: severity: message`, then the line, a caret under the spot, a hint.

        Nothing from the file reaches the terminal raw: control characters are shown escaped,
        and the caret moves with them.
        """
        s = self.span
        where = f"{s.file}:{s.line}:{s.column}" if s.line > 0 else s.file
        out = [shown(f"{where}: {self.severity}: {self.message}")]
        if source_line is not None and s.line > 0:
            out += _excerpt(source_line, s)
        if self.hint:
            out.append(shown(f"  hint: {self.hint}"))
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


SOURCE_WINDOW = 100
"""How many columns of a long source line are echoed: those around the caret, `…` marking each
cut end (a 100 KB line must not print 100 KB)."""


def _excerpt(source_line: str, s: Span) -> list[str]:
    """The source line (a window of it around the spot, when long) and a caret under the spot."""
    text = source_line.rstrip("\r\n").expandtabs(1)
    width = 1
    if s.end_line == s.line and s.end_column > s.column:
        width = s.end_column - s.column
    start = min(s.column - 1, len(text))
    end = min(s.column - 1 + width, len(text) + 1)  # at most one cell past the line
    low, high = _window(text, start)
    cut_before = "…" if low > 0 else ""
    cut_after = "…" if high < len(text) else ""
    marked = len(shown(text[start:min(end, high)])) + max(0, end - len(text))
    caret = len(cut_before) + len(shown(text[low:start]))
    return [f"  {s.line:>4} | {cut_before}{shown(text[low:high])}{cut_after}",
            f"       | {' ' * caret}{'^' * max(1, marked)}"]


def _window(text: str, at: int) -> tuple[int, int]:
    """The slice of `text` around index `at` that shows in about `SOURCE_WINDOW` columns."""
    if len(text) <= SOURCE_WINDOW and len(shown(text)) <= SOURCE_WINDOW:
        return 0, len(text)
    low, high, used = at, at, 0
    while low > 0 and used + len(shown(text[low - 1])) <= SOURCE_WINDOW // 2:
        low -= 1
        used += len(shown(text[low]))
    while high < len(text) and used + len(shown(text[high])) <= SOURCE_WINDOW:
        used += len(shown(text[high]))
        high += 1
    while low > 0 and used + len(shown(text[low - 1])) <= SOURCE_WINDOW:  # near the line's end
        low -= 1
        used += len(shown(text[low]))
    return low, high


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.span.file, d.span.line, d.span.column, d.code)


class StoryError(Exception):
    """A user's mistake: carries every diagnostic of the run; the CLI prints them and exits 2."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(sorted(diagnostics, key=sort_key))
        super().__init__("\n".join(
            shown(f"{d.span.file}:{d.span.line}:{d.span.column}: {d.message}")
            for d in self.diagnostics))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


class UsageError(Exception):
    """A command called the wrong way (no story, a missing file, a bad option): one line, exit 2.

    `usage` is the command's usage text, printed below the line when the words were wrong."""

    def __init__(self, message: str, usage: str | None = None):
        super().__init__(message)
        self.usage = usage


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

