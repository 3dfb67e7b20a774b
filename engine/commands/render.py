"""`storyreel render STORY [hydra overrides...]`: a Hydra application around engine.render."""

from __future__ import annotations

import glob
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config import CONF_DIR, check_overrides, register_resolvers, story_words
from engine.errors import ConfigError, shown
from engine.overrides import composition_problem, sweep_problem

if TYPE_CHECKING:
    from rich.console import Console

USAGE = """usage: storyreel render STORY[,STORY...] [KEY=VALUE ...] [-m] [--cfg [job]]

Renders a .story file to renders/<story>/<time>/video.mp4 (plus captions, storyboard.html,
resolved.story, manifest.json). Everything after the story is a Hydra override:
  storyreel render stories/first-snow.story video=youtube seed=7
  storyreel render -m stories/a.story,stories/b.story tts=espeak,edge
  storyreel render -m stories/                 (every *.story directly in the folder, one job each)
  storyreel render -m 'stories/**/*.story' image.model=a,b   (a pattern; every story × model)
  storyreel render -m 'stories/*.story' hydra/launcher=slurm (a SLURM job a story: docs/cluster.md)
  storyreel render stories/a.story hydra.run.dir=out/a     (choose the output folder)
A story repository's own conf/ (beside the story, or at the repository root) is searched too."""

_FULL_ERROR = "HYDRA_FULL_ERROR"
_VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--info", "-cd", "--config-dir", "-cn",
                "--config-name", "--experimental-rerun"}


INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")
"""What Hydra's `--info` may be followed by (alone, it means all)."""
CFG_CHOICES = ("job", "hydra", "all")
"""What Hydra's `--cfg` may be followed by (alone, it means job: this run's configuration)."""


def _bare_info_as_all(argv: list[str]) -> list[str]:
    """`--info` not followed by one of its choices as `--info=all`, and `--cfg` (`-c`) so as
    `--cfg=job`: Hydra's parser would take the next word (the story, or an override) for the
    choice, or miss one at the end."""
    def bare(at: int, choices: tuple[str, ...]) -> bool:
        return at + 1 == len(argv) or argv[at + 1] not in choices

    return [("--info=all" if arg == "--info" and bare(at, INFO_CHOICES)
             else "--cfg=job" if arg in ("--cfg", "-c") and bare(at, CFG_CHOICES) else arg)
            for at, arg in enumerate(argv)]


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
                "=" not in arg or Path(arg).exists() or Path(arg.split(",")[0]).exists()):
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


def precheck(stories: list[Path]) -> int:
    """Load every story before Hydra makes any folder: a mistake prints diagnostics, exits 2."""
    from engine.dsl.load import load_with_diagnostics, render_diagnostics

    status = 0
    for story in stories:
        if not story.exists():
            print(shown(f"storyreel: no such story file: {story}"), file=sys.stderr)
            status = 2
            continue
        checked, diagnostics = load_with_diagnostics(story, to_tell=True)
        if diagnostics:  # warnings are shown here, once; the render itself loads quietly
            print(render_diagnostics(diagnostics), file=sys.stderr)
        if checked is None:
            status = 2
    return status


def stories_named(story_arg: str) -> list[Path]:
    """The stories an argument names: a file (even one with a comma in its name), a folder's
    `*.story` files (sorted), a pattern (`stories/**/*.story`, quoted so the shell leaves it), or
    several of those joined by commas."""
    parts = [story_arg] if Path(story_arg).exists() else [s for s in story_arg.split(",") if s]
    stories: list[Path] = []
    for part in parts:
        matches = [part]
        if not Path(part).exists() and glob.has_magic(part):
            matches = sorted(glob.glob(part, recursive=True))
        for match in matches:
            path = Path(match).absolute()
            stories.extend(sorted(path.glob("*.story")) if path.is_dir() else [path])
    return list(dict.fromkeys(stories))


def _more_story_files(words: list[str]) -> tuple[list[str], list[str]]:
    """Story files among the overrides (the shell expanded `stories/*.story` into several words),
    and the overrides without them."""
    stories = [w for w in words if w.endswith(".story") and Path(w).is_file()]
    return stories, [w for w in words if w not in stories]


def usage_problem(argv: list[str], story_arg: str, stories: list[Path],
                  flags: list[str], words: list[str]) -> str | None:
    """A mistake in how render was called, as one line saying what to do, or None."""
    multirun = "-m" in flags or "--multirun" in flags
    again = shlex.join(["storyreel", "render", "-m", *argv])
    if not stories:
        where = "match" if glob.has_magic(story_arg) else "in"
        return f"no .story files {where} {story_arg}"
    if len(stories) > 1 and not multirun:
        held = f"{story_arg} holds {len(stories)} stories; " if Path(story_arg).is_dir() else ""
        return f"{held}several stories need -m (multirun): {again}"
    if multirun and any(flag.split("=")[0] in ("--cfg", "-c", "--info") for flag in flags):
        return "--cfg and --info show one run's configuration: leave out -m (and any sweep)"
    swept = sweep_problem(words)
    if swept and not multirun:
        return f"{swept} sweeps over several values and needs -m (multirun): {again}"
    return None if multirun else run_dir_problem(words)


def run_dir_problem(words: list[str]) -> str | None:
    """Why `hydra.run.dir=PATH` cannot take this run's outputs (empty, or a folder of the user's
    own files that a render would overwrite), or None."""
    from engine.run_folder import is_run_folder

    values = [w.split("=", 1)[1] for w in words
              if w.lstrip("+").split("=", 1)[0] == "hydra.run.dir" and "=" in w]
    if not values:
        return None
    value = values[-1].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].strip()
    if not value:
        return "hydra.run.dir is empty: name the folder for the outputs (hydra.run.dir=out/final)"
    if "${" in value or is_run_folder(Path(value)):
        return None
    return (f"{value} holds files that are not a storyreel run (no manifest.json): render into "
            "a new or empty folder, or one a render made")


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0
    argv = _bare_info_as_all(argv)
    story_arg, rest = split_story(argv)
    if story_arg is None:
        print(f"storyreel render: which story?\n\n{USAGE}", file=sys.stderr)
        return 2
    flags, words = _flags_first(rest)
    more, words = _more_story_files(words)
    stories = list(dict.fromkeys([*stories_named(story_arg),
                                  *(Path(story).absolute() for story in more)]))
    problem = usage_problem(argv, story_arg, stories, flags, words)
    if problem:
        print(shown(f"storyreel render: {problem}"), file=sys.stderr)
        return 2
    status = precheck(stories)
    if status:
        return status
    try:
        check_overrides(words)
    except ConfigError as error:
        print(shown(f"storyreel render: {error}"), file=sys.stderr)
        return 2
    story, *search = story_words(stories)
    words.extend(search)
    if not _own_config(flags):
        problem = composition_problem(CONF_DIR, [story, *words])
        if problem:
            print(shown(f"storyreel render: {problem}"), file=sys.stderr)
            return 2
    return run_hydra([*flags, story, *words])


def _own_config(flags: list[str]) -> bool:
    """Whether the command line picks another config (then Hydra alone judges the overrides)."""
    return any(flag in flags for flag in ("-cd", "--config-dir", "-cn", "--config-name", "-cp",
                                          "--config-path", "--experimental-rerun"))


def run_hydra(overrides: list[str]) -> int:
    """Run the Hydra app with these command-line words; returns the exit status."""
    import hydra

    from engine.output_folder import remove_unused_folders
    from engine.run_folder import record_overrides
    from engine.sweep import close_sweeps
    from engine.worker_signals import restore_ctrl_c

    register_resolvers()
    multirun = "-m" in overrides or "--multirun" in overrides
    if not multirun and not any(o.lstrip("+").startswith(("hydra.output_subdir=",
                                                         "hydra/job_logging=")) for o in overrides):
        overrides = [*overrides, *record_overrides()]  # .hydra/ and render.log wait for success
    app = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")(_task)
    saved, saved_env = sys.argv, os.environ.get(_FULL_ERROR)
    sys.argv = ["storyreel render", *overrides]
    if multirun:  # the launcher's own failures reach launch_failure, not Hydra's traceback
        os.environ[_FULL_ERROR] = "1"
    status, stopped = 0, True  # until the launcher returns: Ctrl-C or its failure stops it
    try:
        with _without_hydra_job_note(multirun):
            app()
        stopped = False
    except SystemExit as exit_:
        status = int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
        stopped = False
    except Exception as error:  # noqa: BLE001 - only in a multirun: see above
        if not multirun:
            raise
        print(shown(f"storyreel render: {launch_failure(error)}"), file=sys.stderr)
        status = 1
    finally:
        sys.argv = saved
        _restore_env(_FULL_ERROR, saved_env)
        restore_ctrl_c()  # a joblib sweep's workers were started with it blocked
        remove_unused_folders()  # a run that made nothing leaves no folder behind
        close_sweeps(stopped=stopped)  # jobs still running: lost, or interrupted; no lock left
    return status


_JOB_NOTE = "Error executing job with overrides:"


class _WithoutJobNote:
    """A stream without Hydra's `Error executing job with overrides: [...]` line: the failure's
    own line follows it (launch_failure), so the error is said once."""

    def __init__(self, stream: object):
        self._stream = stream

    def write(self, text: str) -> int:
        return len(text) if text.startswith(_JOB_NOTE) else self._stream.write(text)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextmanager
def _without_hydra_job_note(enabled: bool) -> Iterator[None]:
    saved = sys.stderr
    if enabled:
        sys.stderr = _WithoutJobNote(saved)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stderr = saved


def launch_failure(error: Exception) -> str:
    """A multirun's failure in one line (a failed job's reason, or why the launcher could not
    submit or collect its jobs: `sbatch: error: ...`), secrets masked."""
    from hydra.errors import CompactHydraException

    from engine.secrets import mask

    if isinstance(error, CompactHydraException):  # a job that failed cleanly, a config mistake
        return mask(str(error).strip())
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    detail = lines[-1] if lines else type(error).__name__
    return mask(f"error: the launcher failed: {detail}")


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _task(cfg) -> None:  # type: ignore[no-untyped-def]
    """One Hydra job: typed settings and backends from cfg, then the render."""
    from hydra.core.hydra_config import HydraConfig
    from rich.text import Text

    from engine.cli import skip_exit_collection
    from engine.dsl.load import render_diagnostics
    from engine.errors import BackendError, ConfigError, StoryError
    from engine.files import explain_os_error, quiet_broken_pipe
    from engine.render import output_places, render
    from engine.config import backends_from, settings_from
    from engine.progress import output_console
    from engine.secrets import guard_logging, mask

    skip_exit_collection()  # a launcher's job process ends right after its job
    guard_logging()  # Hydra has just configured this job's log handlers
    register_resolvers()  # a joblib worker process has not run run_hydra's registration
    console = output_console()
    settings = None
    try:
        settings = settings_from(cfg, Path(HydraConfig.get().runtime.output_dir))
        outcome = render(settings, backends_from(cfg), console)
        console.print(Text.assemble(("video:", "bold green"), f" {shown(str(outcome.video))}"),
                      highlight=False)
        console.print(shown(_review_line(outcome.video.parent)), highlight=False, markup=False)
    except StoryError as error:
        console.print(mask(render_diagnostics(error.diagnostics)), markup=False,
                      highlight=False)
        _fail(2, "the story has errors (printed above)")
    except (BackendError, ConfigError) as error:
        _fail(1, mask(str(error)), console)
    except BrokenPipeError:  # the output's reader went away (`storyreel render ... | head`)
        raise SystemExit(quiet_broken_pipe()) from None
    except OSError as error:  # the run folder or the cache cannot be written
        _fail(1, mask(explain_os_error(error, output_places(settings))), console)


def _review_line(run_dir: Path) -> str:
    """Whether the run is publishable, or what still needs review (never fails the render)."""
    from engine.review.gate import publish_status

    try:
        return publish_status(run_dir)
    except ValueError as error:  # a review file that is not valid YAML
        return f"review: {error}"


def _fail(status: int, message: str, console: Console | None = None) -> None:
    """End a failed job: in a single run the error line (on `console`) and the exit status; in a
    multirun an exception Hydra records for this job only (SystemExit would stop the whole sweep),
    said once by the sweep's last line and reported in sweep.html."""
    from rich.text import Text

    from engine.sweep import JobFailed, in_multirun

    if in_multirun():
        raise JobFailed(message)
    if console is not None:
        console.print(Text.assemble(("storyreel render: error:", "bold red"), " ", shown(message)),
                      highlight=False)
    raise SystemExit(status) from None
