"""`storyreel render` with hostile input: file names that look like interpolations, servers that
echo the key, several stories or a folder, and mistyped overrides."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.overrides import literal_value
from tests.backends.llm.loopback_server import LoopbackServer, echoing_key

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-planted-PLANTED-0123456789"
OTHER = "gsk-planted-OTHER-9876543210"
TINY = ["render.width=64", "render.height=48", "render.fps=4"]
STORY = 'title: Tiny\n\nscene hill\n  image: a green hill\n  "Hello, hill."\n'
TO_FILL = ('title: Tiny\n\ncharacter Owl\n  description: a wise owl\n\n'
           'scene night\n  image: an owl on a roof\n  "The night was quiet."\n  Owl: ...\n')


def storyreel(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "OPENAI_API_KEY": KEY, "GROQ_API_KEY": OTHER}
    return subprocess.run([sys.executable, "-m", "engine", "render", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


def assert_no_key_anywhere(folder: Path, done: subprocess.CompletedProcess[str], *,
                           run_kept: bool = True) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(".hydra" in p.parts for p in files) == run_kept
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and OTHER.encode() not in data, f"a key is in {path}"
        assert KEY not in str(path) and OTHER not in str(path)
    assert KEY not in done.stdout + done.stderr and OTHER not in done.stdout + done.stderr


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- usage mistakes: one line, exit 2, nothing made ---------------------------------------------

def usage(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["render", *args])
    err = capsys.readouterr().err
    return status, err


def test_several_stories_need_multirun(here: Path, capsys: pytest.CaptureFixture[str]):
    (here / "a.story").write_text(STORY)
    (here / "b.story").write_text(STORY)
    status, err = usage(["a.story,b.story", "seed=3"], capsys)
    assert (status, err) == (2, "storyreel render: several stories need -m (multirun): "
                                "storyreel render -m a.story,b.story seed=3\n")
    assert not (here / "renders").exists()


def test_a_cast_file_is_not_a_story_to_render_or_fill(here: Path,
                                                     capsys: pytest.CaptureFixture[str]):
    """`check` accepts a cast (voices and characters for others to `use:`), but telling it would
    have the writer make up a whole story nobody asked for."""
    cast = here / "friends.story"
    cast.write_text("voice bright\n  category: child\ncharacter Kit\n  voice: bright\n")
    before = cast.read_bytes()
    message = ("friends.story:1:1: error: this file only declares voices and characters (a cast "
               "for other stories to `use:`): it has no scenes and no premise to tell")
    for command in (["render", "friends.story"], ["fill", "friends.story"],
                    ["fill", "--write", "friends.story"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert message in err and "hint: render a story that `use:`s it" in err
    assert main(["check", "friends.story"]) == 0
    assert cast.read_bytes() == before and not (here / "renders").exists()


def test_a_folder_without_multirun_says_how_to_render_its_stories(
        here: Path, capsys: pytest.CaptureFixture[str]):
    (here / "tales").mkdir()
    for name in ("a", "b", "c"):
        (here / "tales" / f"{name}.story").write_text(STORY)
    status, err = usage(["tales"], capsys)
    assert (status, err) == (2, "storyreel render: tales holds 3 stories; several stories need "
                                "-m (multirun): storyreel render -m tales\n")
    (here / "empty").mkdir()
    assert usage(["empty"], capsys) == (2, "storyreel render: no .story files in empty\n")
    assert not (here / "renders").exists()


def test_a_pattern_or_the_shells_expansion_of_one_names_every_story_it_matches(
        here: Path, capsys: pytest.CaptureFixture[str]):
    from engine.commands.render import stories_named

    for name in ("tales/b", "tales/a", "tales/deep/c"):
        (here / f"{name}.story").parent.mkdir(parents=True, exist_ok=True)
        (here / f"{name}.story").write_text(STORY)
    tales = here / "tales"
    assert stories_named("tales/*.story") == [tales / "a.story", tales / "b.story"]
    assert stories_named("tales/**/*.story") == [tales / "a.story", tales / "b.story",
                                                 tales / "deep" / "c.story"]
    assert stories_named("tales/*.story,tales/a.story") == [tales / "a.story", tales / "b.story"]
    status, err = usage(["tales/*.story"], capsys)
    assert (status, err) == (2, "storyreel render: several stories need -m (multirun): "
                                "storyreel render -m 'tales/*.story'\n")
    status, err = usage(["tales/a.story", "tales/b.story", "seed=1"], capsys)  # as the shell gives
    assert status == 2 and err.startswith("storyreel render: several stories need -m")
    assert usage(["-m", "nope/*.story"], capsys) == (
        2, "storyreel render: no .story files match nope/*.story\n")
    assert not (here / "renders").exists()


def test_a_mistyped_setting_gets_a_did_you_mean(here: Path, capsys: pytest.CaptureFixture[str]):
    (here / "a.story").write_text(STORY)
    assert usage(["a.story", "video.captionsize=0.05"], capsys) == (
        2, "storyreel render: no setting 'video.captionsize' "
           "(did you mean 'video.caption_size'?)\n")
    assert usage(["a.story", "image=procedurl"], capsys) == (
        2, "storyreel render: no image choice 'procedurl' (did you mean 'procedural'? "
           "choices: diffusers, procedural)\n")
    assert not (here / "renders").exists()


def test_a_sweep_without_multirun(here: Path, capsys: pytest.CaptureFixture[str]):
    (here / "a.story").write_text(STORY)
    assert usage(["a.story", "tts=espeak,edge"], capsys) == (
        2, "storyreel render: tts=espeak,edge sweeps over several values and needs -m "
           "(multirun): storyreel render -m a.story tts=espeak,edge\n")


@pytest.mark.parametrize("setting, line", [
    ("timeline.lead_in=1e9", "timeline.lead_in must be a number of seconds from 0 to 3600, not "
                             "1000000000.0"),
    ("timeline.gap=nan", "timeline.gap must be a number of seconds from 0 to 3600, not nan"),
    ("render.mix.loudness=1000", "render.mix.loudness must be from -70 to 0 LUFS (or null), not "
                                 "1000"),
    ("trainedness=1e999", "trainedness must be a number from 0 to 1 or auto, not inf"),
    ("trainedness=-1", "trainedness must be a number from 0 to 1 or auto, not -1"),
    ("trainedness=most", "trainedness must be a number from 0 to 1 or auto, not 'most'"),
    ("timeline.crossfade=-1", "timeline.crossfade must be a number of seconds from 0 to 3600, "
                              "not -1"),
])
def test_a_run_setting_out_of_range_is_one_line_before_any_work(tmp_path: Path, setting: str,
                                                                 line: str):
    (tmp_path / "tiny.story").write_text(STORY)
    done = storyreel("tiny.story", setting, *TINY, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")  # as render.width=641 is
    assert done.stderr == f"storyreel render: {line}\n"
    assert not list((tmp_path / "renders").glob("*/*"))


# ---- hostile file names ------------------------------------------------------------------------

def test_a_file_name_with_an_interpolation_reads_no_environment(tmp_path: Path):
    story = tmp_path / "a${oc.env:OPENAI_API_KEY}.story"
    story.write_text(STORY)
    done = storyreel(story.name, *TINY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [run] = (tmp_path / "renders").glob("*/*")
    assert run.parent.name == "a_{oc.env:OPENAI_API_KEY}"
    assert (run / "video.mp4").is_file()
    recorded = (run / ".hydra" / "overrides.yaml").read_text().splitlines()[0].removeprefix("- ")
    assert literal_value(recorded) == ("story", str(story))
    assert f"story: {tmp_path}/a\\${{oc.env:OPENAI_API_KEY}}.story\n" in \
        (run / ".hydra" / "config.yaml").read_text()
    assert_no_key_anywhere(tmp_path, done)


def test_a_multirun_over_a_folder_of_odd_names(tmp_path: Path):
    (tmp_path / "tales").mkdir()
    for name in ("a${x}", "O'Malley"):
        (tmp_path / "tales" / f"{name}.story").write_text(STORY)
    sweep = tmp_path / "sweep"
    done = storyreel("-m", "tales", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.parent.name for p in sweep.glob("*/video.mp4")) == ["0_O'Malley", "1_a_{x}"]
    page = (sweep / "sweep.html").read_text()
    assert "<code>story=a${x}.story</code>" in page
    assert f"<code>story={html.escape(chr(39).join(['O', 'Malley.story']))}</code>" in page
    assert "src='0_O%27Malley/video.mp4'" in page


def test_a_file_name_with_control_characters_is_printed_escaped(tmp_path: Path):
    (tmp_path / "tales").mkdir()
    (tmp_path / "tales" / "a\x1b]0;owned\x07b.story").write_text(STORY)
    sweep = tmp_path / "sweep"
    done = storyreel("-m", "tales", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "\x1b" not in said and "\x07" not in said
    assert "#0 : story='" in said and "a\\x1b]0;owned\\x07b.story'" in said  # Hydra's job line
    assert f"video: {sweep}/0_a\\x1b]0;owned\\x07b/video.mp4" in said
    missing = storyreel("tales/no\x1bpe.story", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (
        2, f"storyreel: no such story file: {tmp_path}/tales/no\\x1bpe.story\n")


# ---- servers that echo the key -----------------------------------------------------------------

def test_a_server_echoing_the_key_is_masked_everywhere(tmp_path: Path):
    story = tmp_path / "owl.story"
    story.write_text(TO_FILL)
    with LoopbackServer(default=echoing_key()) as server:
        done = storyreel(str(story), "llm=openai", f"llm.base_url={server.base_url}", *TINY,
                         cwd=tmp_path)
    assert done.returncode == 1
    assert len(server.requests) == 3
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"  # the key did reach the server
    assert ("error: story 'Tiny': llm=openai: the fill answer was still unusable after 3 "
            "attempts: the answer is not JSON (it starts 'Bearer ***')") in done.stderr
    assert not list((tmp_path / "renders").glob("*/*"))  # a failed run leaves no folder behind
    assert "Traceback" not in done.stderr
    assert_no_key_anywhere(tmp_path, done, run_kept=False)


def night_scene(owl_says: str) -> dict:
    """A writer's answer filling TO_FILL: the night scene, the narrator's line and Owl's."""
    return {"scenes": [{"id": "night", "title": "Night", "setting": "a village",
                        "characters": ["Owl"], "image": "an owl on a roof",
                        "lines": [{"speaker": "narrator", "text": "x", "direction": None},
                                  {"speaker": "Owl", "text": owl_says, "direction": None}]}]}


def test_a_key_typed_into_an_override_is_refused_and_its_variable_works(tmp_path: Path):
    story = tmp_path / "owl.story"
    story.write_text(TO_FILL)
    with LoopbackServer(default=echoing_key(night_scene(owl_says="Hoo."))) as server:
        port = server.base_url.split("//", 1)[1]
        typed = storyreel(str(story), "llm=openai", f"llm.base_url=http://u:{OTHER}@{port}",
                          *TINY, cwd=tmp_path)
        assert (typed.returncode, typed.stderr) == (2, (
            f"storyreel render: the override llm.base_url=http://u:***@{port} holds the value of "
            "GROQ_API_KEY; secrets come from the environment only and are never written down: "
            "put ${oc.env:GROQ_API_KEY} where the key goes (in single quotes in a shell)\n"))
        assert not server.requests and not (tmp_path / "renders").exists()
        named = storyreel(str(story), "llm=openai",
                          f"llm.base_url=http://u:${{oc.env:GROQ_API_KEY}}@{port}", *TINY,
                          cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert len(server.requests) == 1
    [run] = (tmp_path / "renders").glob("*/*")
    assert "${oc.env:GROQ_API_KEY}" in (run / ".hydra" / "overrides.yaml").read_text()
    assert_no_key_anywhere(tmp_path, named)


def test_a_key_echoed_inside_a_good_answer_never_reaches_the_story(tmp_path: Path):
    story = tmp_path / "owl.story"
    story.write_text(TO_FILL)
    answer = night_scene(owl_says="My key is {authorization}!")
    with LoopbackServer(default=echoing_key(answer)) as server:
        done = storyreel(str(story), "llm=openai", f"llm.base_url={server.base_url}", *TINY,
                         cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [run] = (tmp_path / "renders").glob("*/*")
    assert 'Owl: "My key is Bearer ***!"' in (run / "resolved.story").read_text()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["llm_usage"]["requests"] == 1
    assert_no_key_anywhere(tmp_path, done)


@pytest.mark.parametrize("args", [["a.story", "--info"], ["--info", "a.story"],
                                  ["a.story", "--info", "seed=3"]])
def test_a_bare_info_after_or_before_the_story_is_hydras_info(here: Path, args: list[str]):
    (here / "a.story").write_text(STORY)
    done = storyreel(*args, cwd=here)  # (a process of its own: Hydra sets up logging)
    assert done.returncode == 0, done.stderr
    assert "Installed Hydra Plugins" in done.stdout and "Defaults List" in done.stdout
    assert not (here / "renders").exists()


@pytest.mark.parametrize("args", [["a.story", "--cfg"], ["--cfg", "a.story"], ["a.story", "-c"],
                                  ["a.story", "--cfg", "seed=3"]])
def test_a_bare_cfg_shows_this_runs_configuration(here: Path, args: list[str]):
    """Hydra wants `--cfg job|hydra|all`; alone it took the story's override for its value."""
    (here / "a.story").write_text(STORY)
    done = storyreel(*args, cwd=here)
    assert done.returncode == 0, done.stderr
    assert f"story: {here / 'a.story'}" in done.stdout and "render:" in done.stdout
    assert ("seed: 3" if "seed=3" in args else "seed: null") in done.stdout
    assert not (here / "renders").exists()


def test_cfg_or_info_with_a_sweep_is_refused_in_one_line(here: Path):
    (here / "a.story").write_text(STORY)
    for flag in ("--cfg", "--info"):
        done = storyreel("a.story", flag, "-m", "seed=1,2", cwd=here)
        assert done.returncode == 2
        assert done.stderr.strip() == ("storyreel render: --cfg and --info show one run's "
                                       "configuration: leave out -m (and any sweep)")
