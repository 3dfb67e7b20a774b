"""`storyreel fill` and `storyreel new`: offline by default, llm=openai against a loopback server."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main as storyreel
from engine.commands import new
from engine.dsl.load import load_story
from tests.backends.llm.loopback_server import LoopbackServer, echoing_key, reply, status

KEY = "sk-test-PLANTED-0123456789"
STORY = """title: Moon
audience: 3-6
style: soft watercolor

character Luna
  description: a small silver moon
  voice: child

character Owl
  description: a wise old owl

scene night
  setting: a quiet village at night
  "Every night, Luna lit up the sky."
  Luna (worried): "Where did my glow go?"
  Owl: ...  # the writer fills this in

scene forest
  setting: a forest full of fireflies
  image: Luna between pine trees
"""
PREMISE = """title: Snail
premise: a snail who is afraid of the rain learns to enjoy puddles
scenes: 3

character Sam
  description: a tiny green snail
"""
ANSWER = {"scenes": [
    {"id": "night", "title": "Night", "setting": "a village", "characters": ["Luna", "Owl"],
     "image": "Luna and Owl above the rooftops",
     "lines": [{"speaker": "narrator", "text": "x", "direction": None},
               {"speaker": "Luna", "text": "x", "direction": None},
               {"speaker": "Owl", "text": "Hoo! Let us look together.", "direction": None}]},
    {"id": "forest", "title": "Forest", "setting": "a forest", "characters": ["Luna"],
     "image": "x", "lines": [{"speaker": "narrator", "text": "The fireflies blinked.",
                              "direction": None}]}]}


@pytest.fixture
def story(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the story repository's root: the cache goes under it
    path = tmp_path / "moon.story"
    path.write_text(STORY, encoding="utf-8")
    return path


def test_fill_prints_the_filled_story_and_changes_nothing(story: Path, capsys):
    assert storyreel(["fill", str(story)]) == 0
    out, err = capsys.readouterr()
    assert story.read_text(encoding="utf-8") == STORY
    assert '  Luna (worried): "Where did my glow go?"' in out and "Owl: ..." not in out
    assert "filled" in err and "lines" in err
    printed = story.with_name("printed.story")
    printed.write_text(out, encoding="utf-8")
    filled = load_story(printed)
    assert all(line.text for scene in filled.scenes for line in scene.lines)
    assert filled.scene("night").text("image")


def test_fill_where_its_cache_cannot_be_made_says_how_to_choose_another(story: Path, capsys):
    (story.parent / ".storyreel").write_text("a file where the cache folder goes")
    assert storyreel(["fill", str(story)]) == 1
    err = capsys.readouterr().err
    assert "(in the cache" in err and "is a file, where a folder is needed" in err
    assert err.rstrip().endswith("or choose another: cache.dir=PATH")
    assert "Traceback" not in err and story.read_text(encoding="utf-8") == STORY


def test_fill_write_saves_the_fills_once(story: Path, capsys):
    assert storyreel(["fill", str(story), "--write"]) == 0
    written = story.read_text(encoding="utf-8")
    assert "Owl: ..." not in written and "# the writer fills this in" in written
    assert '"Every night, Luna lit up the sky."' in written
    assert storyreel(["fill", str(story), "--write"]) == 0
    assert "nothing to fill" in capsys.readouterr().err
    assert story.read_text(encoding="utf-8") == written
    assert not [p for p in story.parent.iterdir() if p.name.endswith(".tmp")]


def test_fill_write_turns_a_premise_into_scenes(tmp_path: Path):
    path = tmp_path / "snail.story"
    path.write_text(PREMISE, encoding="utf-8")
    assert storyreel(["fill", str(path), "--write"]) == 0
    filled = load_story(path)
    assert len(filled.scenes) == 3 and filled.text("scenes") is None
    assert filled.text("premise").startswith("a snail who is afraid")


def test_fill_reports_story_mistakes(tmp_path: Path, capsys):
    path = tmp_path / "bad.story"
    path.write_text(STORY.replace("  Owl: ...", "  Bat: ..."), encoding="utf-8")
    assert storyreel(["fill", str(path)]) == 2
    assert "bad.story:" in capsys.readouterr().err


def test_fill_with_openai_keeps_the_key_out_of_every_file_and_log(
        story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    # one request per scene with a hole
    night, forest = ({"scenes": [scene]} for scene in ANSWER["scenes"])
    with LoopbackServer(reply(night, prompt_tokens=400, completion_tokens=90),
                        reply(forest, prompt_tokens=300, completion_tokens=60)) as server:
        assert storyreel(["fill", str(story), "--write", "llm=openai",
                          f"llm.base_url={server.base_url}"]) == 0
        # The cache answers the same requests again: no third request.
        assert storyreel(["fill", str(story.with_name("moon.story")), "llm=openai",
                          f"llm.base_url={server.base_url}"]) == 0
    assert len(server.requests) == 2
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    out, err = capsys.readouterr()
    assert "2 requests, 700 prompt + 150 completion tokens" in err
    text = story.read_text(encoding="utf-8")
    assert 'Owl: "Hoo! Let us look together."' in text
    assert "image: Luna and Owl above the rooftops" in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "written.json" for p in files)
    for p in files:
        assert KEY.encode() not in p.read_bytes(), f"the key leaked into {p}"
    assert KEY not in out + err + caplog.text


def test_fill_fails_clearly_and_leaves_the_story(story: Path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with LoopbackServer(default=status(503)) as server:
        assert storyreel(["fill", str(story), "--write", "llm=openai", f"llm.base_url={server.base_url}",
                          "llm.max_retries=1", "llm.backoff=0.01"]) == 1
    err = capsys.readouterr().err
    assert "llm=openai" in err and "failed 2 times; last: HTTP 503" in err and KEY not in err
    assert story.read_text(encoding="utf-8") == STORY


def test_a_key_the_server_echoes_inside_a_good_answer_is_never_written(
        story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    night, forest = ({"scenes": [scene]} for scene in ANSWER["scenes"])
    night["scenes"][0] = night["scenes"][0] | {"lines": [
        *night["scenes"][0]["lines"][:2],
        {"speaker": "Owl", "text": "My key is {authorization}!", "direction": None}]}
    with LoopbackServer(echoing_key(night), echoing_key(forest),
                        default=echoing_key()) as server:  # then only the key, as its answer
        assert storyreel(["fill", str(story), "--write", "llm=openai",
                          f"llm.base_url={server.base_url}"]) == 0
        assert storyreel(["new", "a lost kite", "--scenes", "1", "-o",
                          str(tmp_path / "kite.story"), "llm=openai",
                          f"llm.base_url={server.base_url}", "llm.max_retries=0"]) == 1
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    assert 'Owl: "My key is Bearer ***!"' in story.read_text(encoding="utf-8")
    out, err = capsys.readouterr()
    assert "the answer is not JSON (it starts 'Bearer ***')\n" in err
    assert not (tmp_path / "kite.story").exists()
    for p in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert KEY.encode() not in p.read_bytes(), f"the key leaked into {p}"
    assert KEY not in out + err + caplog.text


def test_fill_warnings_in_a_pipe_are_whole_lines(story: Path):
    with LoopbackServer(default=echoing_key()) as server:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "fill", str(story), "llm=openai",
             f"llm.base_url={server.base_url}", "llm.max_retries=0"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "OPENAI_API_KEY": KEY, "COLUMNS": "60"})
    assert done.returncode == 1
    assert done.stderr.splitlines()[:3] == [
        f"WARNING llm=openai: fill answer {n} of 3 was invalid: the answer is not JSON (it starts "
        "'Bearer ***')" for n in (1, 2, 3)]


def test_a_storys_warning_says_its_level_once(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    story = tmp_path / "short.story"
    story.write_text('scene a\n  duration: 1\n  "Hush."\n')
    done = subprocess.run([sys.executable, "-m", "engine", "fill", str(story)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stderr.splitlines()[0] == (
        f"{story}:2:13: warning: a scene of 1 second is unusually short")


def test_new_drafts_a_story_that_checks(tmp_path: Path, capsys):
    out = tmp_path / "kite.story"
    assert storyreel(["new", "a lost kite finds its way home", "--scenes", "3", "--characters",
                     "Kite=a red kite with a ribbon tail,Wind", "-o", str(out)]) == 0
    story = load_story(out)
    assert len(story.scenes) == 3 and story.text("premise") == "a lost kite finds its way home"
    assert story.text("scenes") is None and story.text("title") == "A Lost Kite Finds Its Way Home"
    assert story.character("Kite").text("description") == "a red kite with a ribbon tail"
    assert [c.name for c in story.characters] == ["Kite", "Wind"]  # the author's, not the premise's
    assert all(s.text("image") and s.lines for s in story.scenes)
    assert "3 new scenes" in capsys.readouterr().err


def test_new_declares_the_hero_the_premise_names_and_it_speaks_in_character(tmp_path: Path,
                                                                          capsys):
    first, again = tmp_path / "a" / "turtle.story", tmp_path / "b" / "turtle.story"
    for out in (first, again):  # two folders, two caches: written twice, the same bytes
        out.parent.mkdir()
        assert storyreel(["new", "a turtle who wants to win a race", "--scenes", "3",
                          "-o", str(out)]) == 0
    assert first.read_bytes() == again.read_bytes()
    story = load_story(first)
    assert [c.name for c in story.characters] == ["Turtle"]
    turtle = story.character("Turtle")
    assert turtle.text("description") == "a turtle who wants to win a race"
    assert turtle.text("voice") == "child"
    lines = [line for scene in story.scenes for line in scene.lines]
    assert {line.speaker for line in lines} == {None, "Turtle"}
    assert all(scene.text("with") == "Turtle" for scene in story.scenes)
    assert not [line.text for line in lines if "“" in line.text or "said" in line.text]
    text = first.read_text(encoding="utf-8")
    assert re.search(r'^  Turtle \(\w+\): "', text, re.M), text
    assert "Turtle was at home" not in text and "learned to win a race" not in text
    capsys.readouterr()
    assert storyreel(["check", str(first)]) == 0
    assert capsys.readouterr().out == "checked 1 file: 0 errors, 0 warnings\n"


@pytest.mark.parametrize("premise, name, description, voice", [
    ("a lost kite finds its way home", "Kite", "a lost kite", "child"),
    ("the little owl that could not sleep", "Owl", "the little owl that could not sleep", "child"),
    ("a wise old owl who forgets everything", "Owl", "a wise old owl who forgets everything",
     "elder"),
    ("a dragon who is afraid of fire", "Dragon", "a dragon who is afraid of fire", "creature"),
    ("Max loses his kite", "Max", None, "child"),
    ("two friends lost in the woods", None, None, None),
    ("learning to share", None, None, None),
])
def test_new_reads_the_hero_from_the_premise(premise: str, name: str | None,
                                              description: str | None, voice: str | None):
    hero = new.hero_from(premise)
    read = hero and (hero.name, hero.text("description"), hero.text("voice"))
    assert read == ((name, description, voice) if name else None)


def test_new_never_overwrites(tmp_path: Path, capsys):
    out = tmp_path / "taken.story"
    out.write_text("title: Mine\n", encoding="utf-8")
    assert storyreel(["new", "anything", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "title: Mine\n"


def test_new_rejects_a_bad_character_name(tmp_path: Path, capsys):
    assert storyreel(["new", "x", "--characters", "Mr Fox", "-o", str(tmp_path / "fox.story")]) == 2
    assert "'Mr Fox' cannot name a character" in capsys.readouterr().err
    assert not (tmp_path / "fox.story").exists()


def test_new_with_openai_outlines_then_fills(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    outline = {"scenes": [{"id": "lost", "title": "Lost", "setting": "a windy sky",
                           "characters": ["Kite"], "image": "a kite tumbling in the wind"}]}
    lines = {"scenes": [outline["scenes"][0] | {
        "lines": [{"speaker": "narrator", "text": "The wind blew Kite away.", "direction": None},
                  {"speaker": "Kite", "text": "Whee! Oh no!", "direction": "surprised"}]}]}
    out = tmp_path / "kite.story"
    with LoopbackServer(reply(outline), reply(lines)) as server:
        assert storyreel(["new", "a lost kite", "--scenes", "1", "--characters", "Kite", "-o", str(out),
                         "llm=openai", f"llm.base_url={server.base_url}"]) == 0
    assert [r["response_format"]["json_schema"]["name"] for r in server.requests] == \
        ["story_outline", "story_fill"]
    text = out.read_text(encoding="utf-8")
    assert 'Kite (surprised): "Whee! Oh no!"' in text and "scene lost" in text
    assert json.dumps(KEY)[1:-1] not in text


def test_new_without_output_prints_the_story(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert storyreel(["new", "a snail who is afraid of the rain learns to enjoy puddles",
                     "--scenes", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("title: A Snail Who Is Afraid of the Rain\n")
    assert captured.err.endswith("2 new scenes (save it with -o FILE)\n")
    assert not list(tmp_path.glob("*.story"))  # nothing written but the writer's cache


@pytest.mark.parametrize("premise, title", [
    ("a very small hedgehog who is scared of the dark night and the owls",
     "A Very Small Hedgehog"),
    ("a brave little tortoise wants to win the big race against the hare",
     "A Brave Little Tortoise"),
    ("the moon, who lost her glow, asks the stars for help", "The Moon"),
    ("once upon a time in a land far far away there lived a dragon",
     "Once Upon a Time in a Land"),
    ("a very small and rather anxious snail named Gus who is afraid of the rain",
     "A Very Small and Rather Anxious Snail"),
    ("a shy old lighthouse keeper's dog called Biscuit finds a friend",
     "A Shy Old Lighthouse Keeper's Dog Called Biscuit"),
])
def test_new_titles_end_where_a_phrase_ends(premise: str, title: str):
    assert new.title_from(premise) == title


@pytest.mark.parametrize("args, message", [
    (["", "-o", "x.story"], "the premise is empty; say in a sentence what the story is about"),
    (["   "], "the premise is empty; say in a sentence what the story is about"),
    (["a fox", "--scenes", "101"], "--scenes must be a whole number from 1 to 100, not 101"),
    (["a fox", "--scenes", "0"], "--scenes must be a whole number from 1 to 100, not 0"),
    (["a fox", "--title", " "], "--title is empty; leave it out to take the title from the premise"),
])
def test_new_rejects_arguments_before_any_work(args: list[str], message: str, tmp_path: Path,
                                               monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert storyreel(["new", *args]) == 2
    assert capsys.readouterr().err == f"storyreel new: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_new_says_narrator_is_reserved(tmp_path: Path, capsys):
    out = tmp_path / "fox.story"
    assert storyreel(["new", "a fox", "--characters", "narrator=a calm voice,Fox", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "storyreel new: --characters: 'narrator' is reserved: it reads the narration of "
        "every story; give the character another name\n")
    assert not out.exists()


def auto_story(story: Path) -> Path:
    (story.parent / "models" / "luna").mkdir(parents=True)
    story.write_text(STORY.replace("  voice: child\n", "  voice: child\n  model: models/luna\n")
                     .replace("scene forest\n", "scene forest\n  with: Luna\n"
                              "  trainedness: auto  # chosen by fill\n"), encoding="utf-8")
    return story


def test_fill_write_pins_the_alpha_auto_chose(story: Path, capsys):
    pytest.importorskip("transformers")
    from tests import tiny_models

    auto_story(story)
    assert storyreel(["fill", str(story), "--write", "select=clip",
                      f"select.model={tiny_models.tiny_clip()}", "render.width=64",
                      "render.height=48", "render.auto_trainedness.alphas=[0.5,1]"]) == 0
    assert "trainedness: auto chosen" in capsys.readouterr().err
    forest = story.read_text(encoding="utf-8").split("scene forest")[1]
    # the procedural illustrator draws the same picture at every α: the first best is kept
    assert "  trainedness: 0.5  # chosen by fill\n" in forest


def test_fill_without_a_scorer_leaves_auto_and_says_why(story: Path, caplog):
    auto_story(story)
    with caplog.at_level(logging.WARNING):
        assert storyreel(["fill", str(story), "--write"]) == 0
    assert "  trainedness: auto  # chosen by fill\n" in story.read_text(encoding="utf-8")
    assert "choosing α needs select=clip" in caplog.text


def test_the_fill_summary_counts_in_english():
    from engine.commands.fill import summary
    from engine.dsl.parse import parse_text

    before, _ = parse_text('scene a\n  Owl: ...\n', "t.story")
    after, _ = parse_text('scene a\n  image: a moon\n  Owl: "Hoo."\nscene b\n  image: x\n  "y"\n',
                          "t.story")
    usage = type("Usage", (), {"requests": 1, "prompt_tokens": 9, "completion_tokens": 4})()
    assert summary(before, after, usage).startswith(
        "filled 0 lines, 2 image prompts, 1 new scene (1 request, 9 prompt + 4 completion")
