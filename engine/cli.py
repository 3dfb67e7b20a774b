"""The `storyreel` command: dispatches to one module per subcommand under engine/commands/."""

from __future__ import annotations

import atexit
import difflib
import functools
import gc
import importlib
import sys

COMMANDS = {
    "render": "Render a story to a video (Hydra overrides and -m multirun pass through).",
    "check": "Check story files and report every problem.",
    "fmt": "Rewrite story files into their canonical form.",
    "fill": "Run only the writing stage; print or write back what the writer filled in.",
    "new": "Draft a new story file from a premise with the configured writer.",
    "init": "Start a story repository: an example story, a shared cast, presets.",
    "tune": "Draw one scene across trainedness values and seeds as a contact sheet.",
    "voices": "Show the cast: each speaker's voice category and every tts backend's voice.",
    "review": "Review a run's pictures and lines: a local page, or --approve/--reject.",
    "publish": "Copy an approved run's video, captions and record into a folder.",
    "train": "Fine-tune the base model on a character's references; checkpoints are `model:`s.",
    "cache": "Inspect (`info`) or prune (`gc`) the artifact cache.",
}


def _usage() -> str:
    rows = "\n".join(f"  {name:<8}{text}" for name, text in COMMANDS.items())
    return f"usage: storyreel COMMAND [ARGS...]\n\ncommands:\n{rows}\n\n" \
           "`storyreel COMMAND --help` tells more."


@functools.cache
def skip_exit_collection() -> None:
    """Let this process end without the interpreter's last garbage collection, which walks every
    object a run made (config trees, parsers, the media libraries) for memory the OS takes back
    anyway: 0.2-0.6 s a process, on the critical path of every render and launcher job. The
    objects are frozen (gc.freeze) after every other exit handler has run; what still sits in a
    reference cycle then is not finalized, as Python never promises at exit. Once a process."""
    atexit.register(gc.freeze)  # registered first, so it runs last


def main(argv: list[str] | None = None) -> int:
    skip_exit_collection()
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader of our output went away: end quietly, as SIGPIPE would
        from engine.files import quiet_broken_pipe

        return quiet_broken_pipe()


def _main(argv: list[str] | None) -> int:
    from engine.secrets import guard_streams

    guard_streams()  # an API key a server echoes back is never printed
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(_usage(), file=sys.stderr)
        return 2
    if args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        guess = f" (did you mean '{close[0]}'?)" if close else ""
        print(f"storyreel: unknown command '{name}'{guess}\n\n{_usage()}", file=sys.stderr)
        return 2
    from engine.errors import BackendError, ConfigError, StoryError, UsageError, shown

    try:
        return _run(name, rest)
    except UsageError as error:  # the command's words: which story, a missing file, an option
        usage = f"\n\n{error.usage}" if error.usage else ""
        print(shown(f"storyreel {name}: {error}{usage}"), file=sys.stderr)
        return 2
    except StoryError as error:  # the story's mistakes, each located, with a caret and a hint
        from engine.dsl.load import render_diagnostics

        print(render_diagnostics(error.diagnostics), file=sys.stderr)
        return 2
    except (BackendError, ConfigError) as error:  # a backend that failed, or a bad setting
        print(shown(f"storyreel {name}: error: {error}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:  # a command may say what it saved on the way out
        print(f"storyreel {name}: {stop}" if str(stop) else "storyreel: interrupted",
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise  # main ends quietly
    except OSError as error:  # a place the command writes to (or reads) that it cannot use
        from engine.files import explain_os_error

        print(shown(f"storyreel {name}: error: {explain_os_error(error)}"), file=sys.stderr)
        return 1


def _run(name: str, args: list[str]) -> int:
    try:
        module = importlib.import_module(f"engine.commands.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"engine.commands.{name}":
            raise
        print(f"storyreel: '{name}' is not available in this version", file=sys.stderr)
        return 2
    return int(module.main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
