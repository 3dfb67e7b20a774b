"""Reviewers' decisions feed the next render: rejected pictures and lines are made again, approved
ones are kept (pinned), read from `<story>.review.yaml` through `load_feedback`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.backends.image.procedural import ProceduralIllustrator
from engine.backends.llm.offline import OfflineWriter
from engine.backends.llm.openai import OpenAIWriter
from engine.backends.tts import Audio, SpeakRequest
from engine.cache import Cache
from engine.dsl.parse import parse_text
from engine.errors import StoryError
from engine.feedback import Feedback
from engine.manifest import Recorder
from engine.cut_scenes import cut_scenes
from engine.review import decisions
from engine.review.feedback import load_feedback
from engine.review.gate import item_problem, label
from engine.review.records import authored_sha256, load_run, scene_records
from engine.stages.draw import Drawn, DrawSettings, build_requests, draw
from engine.stages.speak import Spoken, speak
from engine.stages.write import Written, write_cached
from engine.steps import Step
from tests.backends.llm.loopback_server import LoopbackServer, reply
from tests.review_run import wav

STORY = '''title: Kites
character Pip
  description: a small red fox
scene sky
  setting: a blue sky
  image: a red kite in a blue sky
  "Up went the kite."
scene sea
  setting: a calm sea
  image: a boat on a calm sea
  narrator: ...
scene hill
  setting: a green hill
  with: Pip
  image: Pip on a green hill
  Pip: ...
'''


class Hum:
    """A TTS for these tests: a short tone whose pitch comes from the text and the voice."""

    def __init__(self, pitch: float = 1.0) -> None:
        self.pitch = pitch

    def speak(self, request: SpeakRequest) -> Audio:
        said = f"{request.voice.name}/{request.voice.category}: {request.text}"
        seed = int(hashlib.sha256(said.encode()).hexdigest()[:6], 16)
        hz = (200 + seed % 300) * self.pitch
        return Audio(np.sin(np.arange(800) * hz / 8000 * 2 * np.pi).astype(np.float32), 8000)

    def identity(self) -> dict[str, object]:
        return {"backend": "hum", "pitch": self.pitch}


@dataclass
class Rendered:
    folder: Path
    drawn: list[Drawn]
    spoken: list[Spoken]
    written: Written

    def picture(self, scene: str) -> bytes:
        return next(d.image for d in self.drawn if d.scene_id == scene).read_bytes()

    def line(self, scene: str, index: int) -> str:
        return next(s.text for s in self.spoken if (s.scene_id, s.index) == (scene, index))


def story_at(root: Path, text: str = STORY):
    path = root / "stories" / "kites.story"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    story, problems = parse_text(text, str(path))
    assert not problems
    return story


def render(root: Path, story, *, seed: int = 0, writer=None, tts=None,
           feedback: Feedback | None = None, music_mix: dict | None = None) -> Rendered:
    """What `render` does before the cut, with the decisions beside the story."""
    step = Step(Cache(root / "cache"), Recorder())
    feedback = load_feedback(story) if feedback is None else feedback
    written = write_cached(story, writer or OfflineWriter(), step, feedback)
    requests = build_requests(written.story, DrawSettings(64, 48, seed, 1.0, candidates=1))
    drawn = draw(requests, ProceduralIllustrator(), step, feedback=feedback)
    spoken = speak(written.story, tts or Hum(), step, feedback=feedback)
    folder = root / f"run-{len(list(root.glob('run-*')))}"
    folder.mkdir()
    authored = {scene.id: authored_sha256(scene) for scene in story.scenes}
    records = scene_records(written.story, drawn, spoken, step.digest, authored,
                            cut_scenes(written.story, drawn, spoken), music_mix)
    (folder / "manifest.json").write_text(json.dumps({"story": story.path, "scenes": records}))
    return Rendered(folder, drawn, spoken, written)


def decide(rendered: Rendered, keys: list[str], decision: str, note: str = "") -> None:
    """What `storyreel review RUN --approve/--reject KEY…` records for this run."""
    run = load_run(rendered.folder)
    items = [item for item in run.items if item.key in keys or keys == ["all"]]
    assert items
    decisions.decide(decisions.decisions_path(run.story), items, decision, note, "Ada", False)


def test_a_rejected_picture_is_drawn_again_and_the_other_scenes_stay_byte_identical(tmp_path):
    story = story_at(tmp_path)
    first = render(tmp_path, story)
    decide(first, ["sea"], "rejected", "the boat is sinking")
    second = render(tmp_path, story)
    rejected = first.picture("sea")
    assert second.picture("sea") != rejected
    assert all(hashlib.sha256(p.read_bytes()).hexdigest()
               != hashlib.sha256(rejected).hexdigest() for p in second.drawn[1].candidates[1:])
    assert second.drawn[1].passed_over == 1 and second.drawn[1].review is None
    # the manifest marks the rejected candidate (the selector's best once), not chosen
    sea = json.loads((second.folder / "manifest.json").read_text())["scenes"][1]
    assert [(c["chosen"], c["rejected"]) for c in sea["candidates"]] == [(False, True),
                                                                        (True, False)]
    for scene in ("sky", "hill"):
        assert second.picture(scene) == first.picture(scene)
    # the same decisions, the same new picture: a third render draws nothing new
    assert render(tmp_path, story).picture("sea") == second.picture("sea")


def test_approved_pictures_lines_and_clips_survive_a_changed_setting(tmp_path):
    story = story_at(tmp_path)
    first = render(tmp_path, story)
    decide(first, ["all"], "approved")
    # another seed and another voice would redraw and re-voice everything
    again = render(tmp_path, story, seed=99, tts=Hum(pitch=1.5))
    for scene in ("sky", "sea", "hill"):
        assert again.picture(scene) == first.picture(scene)
        assert next(d for d in again.drawn if d.scene_id == scene).pinned
    assert [s.audio.read_bytes() for s in again.spoken] == \
        [s.audio.read_bytes() for s in first.spoken]
    assert all(s.pinned for s in again.spoken)
    unpinned = render(tmp_path, story, seed=99, tts=Hum(pitch=1.5), feedback=Feedback())
    assert unpinned.picture("sky") != first.picture("sky")


def test_a_voice_changed_in_the_story_is_voiced_again_and_needs_a_review_cache_or_not(
        tmp_path):
    """An approval is of what was heard: the story's voice for a line is part of what it pins,
    so the same story gives the same clips and the same review whether the cache has the old
    clips or not."""
    elder = STORY.replace("a small red fox\n", "a small red fox\n  voice: elder\n")
    first = render(tmp_path, story_at(tmp_path, elder))
    decide(first, ["all"], "approved")
    adult = story_at(tmp_path, elder.replace("voice: elder", "voice: adult"))
    again = render(tmp_path, adult)
    assert [(s.scene_id, s.pinned) for s in again.spoken] == [
        ("sky", True), ("sea", True), ("hill", False)]
    assert again.spoken[2].audio.read_bytes() != first.spoken[2].audio.read_bytes()
    assert again.line("hill", 0) == first.line("hill", 0)  # the writer's words are kept

    assert needs_review(again) == [
        "line hill:1: its text or voice changed since it was reviewed; review it again"]
    (tmp_path / "cache").rename(tmp_path / "cache-moved-away")
    fresh = render(tmp_path, adult)
    assert [s.audio.read_bytes() for s in fresh.spoken] == \
        [s.audio.read_bytes() for s in again.spoken]
    assert needs_review(fresh) == needs_review(again)


def needs_review(rendered: Rendered) -> list[str]:
    """What the publish gate says about each item of the run that is not approved."""
    run = load_run(rendered.folder)
    data = decisions.load(decisions.decisions_path(run.story))
    return [f"{label(i)}: {p}" for i in run.items if (p := item_problem(
        i, decisions.decision_for(data, i), decisions.what_changed(data, i)))]


def test_a_scene_whose_sound_or_transition_the_story_changed_needs_a_new_review(tmp_path):
    """A scene's approval covers what it adds to the video besides its picture: an edited
    `sfx:` (its file's content or its level) or `transition:` needs a review of that scene,
    though its picture and lines are the same bytes."""
    sounds = tmp_path / "stories"
    sounds.mkdir()
    (sounds / "bell.wav").write_bytes(wav(800))
    text = STORY.replace("  image: a boat on a calm sea\n",
                         "  image: a boat on a calm sea\n  sfx: bell.wav at 0.5s level -6dB\n"
                         ).replace("  with: Pip\n", "  with: Pip\n  transition: circle open\n")
    first = render(tmp_path, story_at(tmp_path, text))
    decide(first, ["all"], "approved")
    assert needs_review(render(tmp_path, story_at(tmp_path, text))) == []
    louder = render(tmp_path, story_at(tmp_path, text.replace("level -6dB", "level 12dB")
                                       .replace("circle open", "circle close")))
    assert [d.image.read_bytes() for d in louder.drawn] == [d.image.read_bytes()
                                                           for d in first.drawn]
    assert needs_review(louder) == [
        "scene sea: its sound changed since it was approved; review it again",
        "scene hill: its transition changed since it was approved; review it again"]
    (sounds / "bell.wav").write_bytes(wav(900))  # another sound under the same name
    assert needs_review(render(tmp_path, story_at(tmp_path, text))) == [
        "scene sea: its sound changed since it was approved; review it again"]


def test_a_picture_approved_as_presented_before_stays_approved_so(tmp_path):
    """Approving a scene as it plays now keeps the same picture's earlier approvals: an older
    run, or an edit taken back, needs no new review; a rejected picture is rejected in every
    run that shows it, whatever plays with it."""
    sounds = tmp_path / "stories"
    sounds.mkdir()
    (sounds / "bell.wav").write_bytes(wav(800))
    text = STORY.replace("  image: a boat on a calm sea\n",
                         "  image: a boat on a calm sea\n  sfx: bell.wav at 0.5s level -6dB\n")
    quiet = render(tmp_path, story_at(tmp_path, text))
    decide(quiet, ["all"], "approved")
    louder = render(tmp_path, story_at(tmp_path, text.replace("level -6dB", "level 6dB")))
    assert needs_review(louder) == [
        "scene sea: its sound changed since it was approved; review it again"]
    decide(louder, ["sea"], "approved")
    assert needs_review(louder) == []
    assert needs_review(quiet) == []  # the older run is still publishable
    assert needs_review(render(tmp_path, story_at(tmp_path, text))) == []  # taken back
    decide(louder, ["sea"], "rejected", "no boat")
    assert needs_review(quiet) == ["scene sea: rejected: no boat"]


def test_music_played_otherwise_by_the_mix_needs_a_new_review_of_its_scenes(tmp_path):
    """How the mix plays the music (its level, ducking, fades: `render.mix:`) is part of a
    scene's sound; the loudness target is not (it is how loud the whole video plays)."""
    (tmp_path / "stories").mkdir()
    (tmp_path / "stories" / "song.wav").write_bytes(wav(300))
    text = STORY.replace("  image: a boat on a calm sea\n",
                         "  image: a boat on a calm sea\n  music: song.wav\n")
    mix = {"music_level": -15.0, "music_duck": 9.0, "duck_attack": 0.25, "duck_release": 0.5,
           "music_fade": 0.5}
    first = render(tmp_path, story_at(tmp_path, text), music_mix=mix)
    decide(first, ["all"], "approved")
    assert needs_review(render(tmp_path, story_at(tmp_path, text), music_mix=mix)) == []
    louder = render(tmp_path, story_at(tmp_path, text), music_mix={**mix, "music_level": -6.0})
    assert needs_review(louder) == [
        "scene sea: its sound changed since it was approved; review it again"]


def test_an_approved_scene_survives_an_edit_of_another_scene_and_an_edited_one_is_redone(
        tmp_path):
    story = story_at(tmp_path)
    first = render(tmp_path, story)
    decide(first, ["all"], "approved")
    edited = story_at(tmp_path, STORY.replace("a green hill\n", "a green hill at dusk\n"))
    again = render(tmp_path, edited, seed=7)
    assert again.picture("sky") == first.picture("sky")
    assert again.line("sea", 0) == first.line("sea", 0)  # the writer's approved line is kept
    assert "sea:1" in again.written.pinned
    hill = next(d for d in again.drawn if d.scene_id == "hill")
    assert not hill.pinned and hill.image.read_bytes() != first.picture("hill")


def test_a_rejected_writer_line_is_written_again_and_the_rest_kept(tmp_path):
    story = story_at(tmp_path)
    first = render(tmp_path, story)
    decide(first, ["sea:1"], "rejected", "say where the boat goes")
    second = render(tmp_path, story)
    assert second.line("sea", 0) != first.line("sea", 0)
    assert second.line("hill", 0) == first.line("hill", 0)
    assert second.line("sky", 0) == first.line("sky", 0)
    assert second.written.rewritten == ("sea:1",)
    assert render(tmp_path, story).line("sea", 0) == second.line("sea", 0)


def test_the_writer_is_asked_again_with_the_reviewers_note(tmp_path):
    story = story_at(tmp_path)
    answer = {"scenes": [
        {"id": "sea", "title": "Sea", "setting": "a calm sea", "characters": [],
         "image": "a boat on a calm sea",
         "lines": [{"speaker": "narrator", "text": "The boat sank.", "direction": None}]},
        {"id": "hill", "title": "Hill", "setting": "a green hill", "characters": ["Pip"],
         "image": "Pip on a green hill",
         "lines": [{"speaker": "Pip", "text": "What a view!", "direction": None}]}]}
    sea, hill = ({"scenes": [scene]} for scene in answer["scenes"])  # asked scene by scene
    # the approved line is no longer a hole: only the scene with the rejected line is asked again
    better = {"scenes": [json.loads(json.dumps(answer["scenes"][0]).replace(
        "The boat sank.", "The boat sailed home."))]}
    with LoopbackServer(reply(sea), reply(hill), reply(better)) as server:
        writer = OpenAIWriter(base_url=server.base_url, model="loopback-model", backoff=0.01,
                              timeout=5.0, max_retries=0)
        first = render(tmp_path, story, writer=writer)
        decide(first, ["sea:1"], "rejected", "no sinking: children are listening")
        decide(first, ["hill:1"], "approved")
        second = render(tmp_path, story, writer=writer)
    assert len(server.requests) == 3
    prompt = server.requests[2]["messages"][1]["content"]
    assert "no sinking: children are listening" in prompt and '"The boat sank."' in prompt
    assert "scene hill  (another scene: context only)" in prompt
    assert not any("no sinking" in r["messages"][1]["content"] for r in server.requests[:2])
    assert second.line("sea", 0) == "The boat sailed home."
    assert second.line("hill", 0) == "What a view!"


def test_a_pinned_picture_the_cache_no_longer_holds_is_drawn_again(tmp_path):
    story = story_at(tmp_path)
    first = render(tmp_path, story)
    decide(first, ["sky"], "approved")
    approved = first.picture("sky")
    key = next(d.cache for d in first.drawn if d.scene_id == "sky")
    assert key and Cache(tmp_path / "cache").remove(key)  # as `cache gc` would
    again = render(tmp_path, story, seed=5)
    sky = next(d for d in again.drawn if d.scene_id == "sky")
    assert not sky.pinned and sky.image.read_bytes() != approved


def test_a_review_file_that_is_not_yaml_is_the_storys_error(tmp_path):
    story = story_at(tmp_path)
    (tmp_path / "stories" / "kites.review.yaml").write_text("scenes: [\n", encoding="utf-8")
    with pytest.raises(StoryError) as raised:
        load_feedback(story)
    found = raised.value.diagnostics[0]
    assert found.span.file.endswith("kites.review.yaml") and found.span.line == 2
    assert "not valid YAML" in found.message


@pytest.mark.slow
def test_a_real_render_redraws_the_rejected_picture_and_keeps_the_approved_rest(tmp_path):
    """render; approve all but one picture; render again with another seed: only that one
    picture is new, and the run needs a review of only that one."""
    from tests.test_render import storyreel

    story_at(tmp_path)
    run = tmp_path / "run"
    render_run = ["render", str(tmp_path / "stories" / "kites.story"), "render.width=160",
                  "render.height=90", "render.fps=6", f"hydra.run.dir={run}",
                  f"cache.dir={tmp_path / 'cache'}"]
    assert storyreel(*render_run).returncode == 0
    before = json.loads((run / "manifest.json").read_text())
    assert storyreel("review", str(run), "--approve", "all").returncode == 0
    assert storyreel("review", str(run), "--reject", "sea:picture", "--note", "too dark").returncode == 0
    done = storyreel(*render_run, "seed=11")
    assert done.returncode == 0, done.stderr
    after = json.loads((run / "manifest.json").read_text())
    pictures = [{s["id"]: s["picture"]["sha256"] for s in m["scenes"]} for m in (before, after)]
    assert pictures[1]["sky"] == pictures[0]["sky"] and pictures[1]["hill"] == pictures[0]["hill"]
    assert pictures[1]["sea"] != pictures[0]["sea"]
    assert after["feedback"]["redrawn"] == []  # seed 11 drew another picture to begin with
    assert {"sky:picture", "hill:picture", "sea:1"} <= set(after["feedback"]["pinned"])
    assert "review decisions: kept as approved 2 pictures, " in done.stderr
    assert "not publishable yet: 1 of 6 scenes and lines need review" in done.stderr


def test_renders_review_line_counts_what_it_kept_by_kind_not_pins_as_approved_items():
    """A picture's approval pins its image prompt too, and a line's its words and its clip:
    the line counts each kind, so it never says more items were approved than were."""
    from engine.render import _feedback_line

    acted = {"pinned": ["hill:1", "hill:1:audio", "hill:image", "hill:picture", "sea:image",
                        "sea:picture", "sky:1:audio", "sky:image"],
             "redrawn": ["sky:picture"], "rewritten": ["sea:1", "sea:2", "sky:lines"]}
    assert _feedback_line(acted) == (
        "review decisions: kept as approved 2 pictures, 3 image prompts, 1 writer line, "
        "2 clips; 1 picture redrawn after a rejection; 2 writer lines and 1 scene's lines "
        "rewritten with reviewers' notes (manifest.json `feedback`)")
    assert _feedback_line({"pinned": ["sky:picture"], "redrawn": [], "rewritten": []}) == (
        "review decisions: kept as approved 1 picture (manifest.json `feedback`)")


@pytest.mark.slow
def test_a_real_render_after_a_voice_change_needs_a_review_of_its_lines_cache_or_not(tmp_path):
    """render; approve all; change a character's voice in the story; render into the same run
    folder: its line is voiced again and needs a review; the same without the cache."""
    from tests.test_render import storyreel

    elder = STORY.replace("a small red fox\n", "a small red fox\n  voice: elder\n")
    story_at(tmp_path, elder)
    run = tmp_path / "run"
    render_run = ["render", str(tmp_path / "stories" / "kites.story"), "render.width=160",
                  "render.height=90", "render.fps=6", f"hydra.run.dir={run}"]
    assert storyreel(*render_run, f"cache.dir={tmp_path / 'cache'}").returncode == 0
    before = json.loads((run / "manifest.json").read_text())
    assert storyreel("review", str(run), "--approve", "all").returncode == 0
    story_at(tmp_path, elder.replace("voice: elder", "voice: adult"))
    clips = []
    for cache in ("cache", "another-cache"):
        done = storyreel(*render_run, f"cache.dir={tmp_path / cache}")
        assert done.returncode == 0, done.stderr
        assert "not publishable yet: 1 of 6 scenes and lines need review" in done.stderr
        after = json.loads((run / "manifest.json").read_text())
        clips.append([line["audio"]["sha256"] for s in after["scenes"] for line in s["lines"]])
        assert "hill:1:audio" not in after["feedback"]["pinned"]
    old = [line["audio"]["sha256"] for s in before["scenes"] for line in s["lines"]]
    assert clips[0] == clips[1] and clips[0][:2] == old[:2] and clips[0][2] != old[2]


def test_check_warns_at_an_author_line_a_reviewer_rejected_until_it_is_edited(tmp_path, capsys):
    from engine.commands import check

    story = story_at(tmp_path)
    decide(render(tmp_path, story), ["sky:1"], "rejected", "kites do not go up by themselves")
    assert check.main([story.path]) == 0
    assert ("kites.story:7:3: warning: a reviewer rejected this line: kites do not go up by "
            "themselves") in capsys.readouterr().out
    edited = story_at(tmp_path, STORY.replace("Up went the kite.", "Pip let the kite fly."))
    assert check.main([edited.path]) == 0
    assert "rejected" not in capsys.readouterr().out
