"""`storyreel render STORY [hydra overrides...]`: a Hydra application around engine.render."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.config import CONF_DIR, register_resolvers

USAGE = """usage: storyreel render STORY[,STORY...] [KEY=VALUE ...] [-m] [--cfg job]

Renders a .story file to renders/<story>/<time>/video.mp4 (plus captions, storyboard.html,
resolved.story, manifest.json). Everything after the story is a Hydra override:
  storyreel render stories/first-snow.story video=youtube seed=7
  storyreel render -m stories/a.story,stories/b.story tts=espeak,edge
  storyreel render stories/a.story hydra.run.dir=out/a     (choose the output folder)
A story repository's own conf/ (beside the story, or at the repository root) is searched too."""

_VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--info", "-cd", "--config-dir", "-cn",
                "--config-name", "--experimental-rerun"}


def quoted(value: str) -> str:
    """A value as a Hydra override quotes it, so paths with `=`, `,`, quotes or spaces survive."""
    return "'" + value.replace("'", "\\'") + "'"


def split_story(argv: list[str]) -> tuple[str | None, list[str]]:
    """The story argument (the first bare word) and everything else, in order."""
    rest: list[str] = []
    story = None
    skip = False
    for arg in argv:
        if skip:
            rest.append(arg)
            skip = False
        elif arg in _VALUE_FLAGS:
            rest.append(arg)
            skip = True
        elif story is None and not arg.startswith("-") and (
                "=" not in arg or Path(arg.split(",")[0]).is_file()):
            story = arg
        else:
            rest.append(arg)
    return story, rest


def _flags_first(rest: list[str]) -> tuple[list[str], list[str]]:
    """Hydra's flags (with their values) apart from the overrides: argparse takes the overrides
    as one run of words, so `STORY -m a=1` must reach it as `-m story=STORY a=1`."""
    flags: list[str] = []
    words: list[str] = []
    take_value = False
    for arg in rest:
        if take_value:
            flags.append(arg)
            take_value = False
        elif arg.startswith("-"):
            flags.append(arg)
            take_value = arg in _VALUE_FLAGS
        else:
            words.append(arg)
    return flags, words


def story_search_path(stories: list[Path]) -> list[str]:
    """Story repositories' own conf/ folders (beside the story, then at the repository root)."""
    from engine.dsl.load import find_root

    found: list[str] = []
    for story in stories:
        for folder in (story.parent / "conf", find_root(story) / "conf"):
            if folder.is_dir() and folder.resolve() != CONF_DIR and f"file://{folder}" not in found:
                found.append(f"file://{folder.resolve()}")
    return found


def precheck(stories: list[Path]) -> int:
    """Load every story before Hydra makes any folder: a mistake prints diagnostics, exits 2."""
    from engine.dsl.load import load_with_diagnostics, render_diagnostics

    status = 0
    for story in stories:
        if not story.is_file():
            print(f"storyreel: no such story file: {story}", file=sys.stderr)
            status = 2
            continue
        checked, diagnostics = load_with_diagnostics(story)
        if diagnostics:  # warnings are shown here, once; the render itself loads quietly
            print(render_diagnostics(diagnostics), file=sys.stderr)
        if checked is None:
            status = 2
    return status


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0
    story_arg, rest = split_story(argv)
    if story_arg is None:
        print(f"storyreel render: which story?\n\n{USAGE}", file=sys.stderr)
        return 2
    stories = [Path(s).absolute() for s in story_arg.split(",") if s]
    status = precheck(stories)
    if status:
        return status
    flags, words = _flags_first(rest)
    overrides = [*flags, f"story={','.join(quoted(str(s)) for s in stories)}", *words]
    extra = story_search_path(stories)
    if extra:
        overrides.append(f"hydra.searchpath=[{','.join(quoted(e) for e in extra)}]")
    return run_hydra(overrides)


def run_hydra(overrides: list[str]) -> int:
    """Run the Hydra app with these command-line words; returns the exit status."""
    import hydra

    from engine.output_folder import remove_unused_folders

    register_resolvers()
    app = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")(_task)
    saved = sys.argv
    sys.argv = ["storyreel render", *overrides]
    try:
        app()
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    finally:
        sys.argv = saved
        remove_unused_folders()  # a run that made nothing leaves no folder behind
    return 0


def _task(cfg) -> None:  # type: ignore[no-untyped-def]
    """One Hydra job: typed settings and backends from cfg, then the render."""
    from hydra.core.hydra_config import HydraConfig
    from rich.console import Console
    from rich.markup import escape

    from engine.dsl.load import render_diagnostics
    from engine.errors import BackendError, ConfigError, StoryError
    from engine.files import explain_os_error
    from engine.render import output_places, render
    from engine.config import backends_from, settings_from

    console = Console(stderr=True)
    settings = None
    try:
        settings = settings_from(cfg, Path(HydraConfig.get().runtime.output_dir))
        outcome = render(settings, backends_from(cfg), console)
    except StoryError as error:
        console.print(render_diagnostics(error.diagnostics), markup=False, highlight=False)
        _fail(2, "the story has errors (printed above)")
    except (BackendError, ConfigError) as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        _fail(1, str(error))
    except OSError as error:  # the run folder or the cache cannot be written
        message = explain_os_error(error, output_places(settings))
        console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        _fail(1, message)
    console.print(f"[bold green]video:[/] {outcome.video}", highlight=False)


def _fail(status: int, message: str) -> None:
    """End a failed job: the exit status in a single run; in a multirun an exception Hydra records
    for this job only (SystemExit would stop the whole sweep), reported in sweep.html."""
    from engine.sweep import JobFailed, in_multirun

    if in_multirun():
        raise JobFailed(message)
    raise SystemExit(status) from None
