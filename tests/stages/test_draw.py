"""The draw stage: requests from the story, candidates, selection, safety redraws, order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.backends.image.procedural import ProceduralIllustrator
from engine.cache import Cache
from engine.dsl.parse import parse_text
from engine.manifest import Recorder
from engine.stages.draw import DrawSettings, build_requests, draw, scene_seed, weight_order
from engine.steps import Step

SETTINGS = DrawSettings(64, 48, seed=None, trainedness=1.0, candidates=1)

STORY = '''title: Fox
style: pastel
trainedness: 0.5
character Pip
  description: a small red fox
  model: models/pip
  trainedness: 0.8
character Owl
  description: a grey owl
scene a
  setting: a snowy hill
  image: Pip on a hill
  seed: 5
  "Snow."
scene b
  setting: a forest at night
  trainedness Pip: 0.3
  with: Pip, Owl
  image: Pip and Owl in the forest
  "Night."
scene c
  setting: a beach
  image: Pip on the sand
  "Sea."
'''


def story():
    parsed, problems = parse_text(STORY, "/repo/fox.story")
    assert not problems
    return parsed


def step(tmp_path: Path) -> Step:
    return Step(Cache(tmp_path / "cache"), Recorder())


def test_requests_carry_trainedness_seed_and_looks():
    a, b, c = build_requests(story(), DrawSettings(64, 48, seed=3, trainedness=1.0, candidates=1))
    assert (a.seed, a.width, a.height, a.prompt, a.style) == (5, 64, 48, "Pip on a hill", "pastel")
    assert b.seed == scene_seed(3, story().scenes[1]) != scene_seed(4, story().scenes[1])
    pip = {look.name: look for look in b.characters}["Pip"]
    assert pip.trainedness == 0.3 and pip.model == "/repo/models/pip"
    assert [look.name for look in b.characters] == ["Pip", "Owl"]
    assert a.characters == ()  # nobody speaks in scene a and no `with:`


def test_scenes_sharing_weights_are_drawn_together():
    requests = build_requests(story(), SETTINGS)
    assert weight_order(requests) == [0, 2, 1]  # a and c: no model present; b: Pip at 0.3


def test_candidates_are_drawn_scored_and_cached(tmp_path: Path):
    from engine.backends.select.first import FirstSelector

    requests = build_requests(story(), SETTINGS)
    first = draw(requests, ProceduralIllustrator(), step(tmp_path), candidates=3,
                 selector=FirstSelector())
    assert [d.scene_id for d in first] == ["a", "b", "c"]
    assert all(len(d.candidates) == 3 and d.chosen == 0 and d.review is None for d in first)
    assert len({p.read_bytes() for p in first[0].candidates}) == 3  # three seeds, three pictures
    again = step(tmp_path)
    second = draw(requests, ProceduralIllustrator(), again, candidates=3,
                  selector=FirstSelector())
    assert [d.image for d in second] == [d.image for d in first]
    assert not any(a.made for a in again.recorder.artifacts)


def test_clip_selection_picks_the_highest_score(tmp_path: Path):
    pytest.importorskip("transformers")
    from engine.backends.select.clip import ClipSelector
    from tests.tiny_models import tiny_clip

    requests = build_requests(story(), SETTINGS)[:1]
    [drawn] = draw(requests, ProceduralIllustrator(), step(tmp_path), candidates=3,
                   selector=ClipSelector(str(tiny_clip())))
    assert drawn.chosen == max(range(3), key=lambda i: (drawn.scores[i], -i))
    assert len(set(drawn.scores)) > 1


def test_flagged_pictures_are_redrawn_then_marked_for_review(tmp_path: Path):
    pytest.importorskip("transformers")
    from engine.backends.safety.diffusers import DiffusersSafetyChecker
    from tests.tiny_models import tiny_safety

    requests = build_requests(story(), SETTINGS)[:1]
    strict = DiffusersSafetyChecker(str(tiny_safety(True)), redraws=2)
    [drawn] = draw(requests, ProceduralIllustrator(), step(tmp_path), candidates=1,
                   safety=strict)
    assert len(drawn.candidates) == 3 and drawn.review  # the first try and two redraws
    lenient = DiffusersSafetyChecker(str(tiny_safety(False)), redraws=2)
    [passed] = draw(requests, ProceduralIllustrator(), step(tmp_path), safety=lenient)
    assert len(passed.candidates) == 1 and passed.review is None


def test_retrained_weights_in_the_same_folder_redraw(tmp_path: Path):
    text = STORY.replace("model: models/pip", f"model: {tmp_path / 'pip'}")
    parsed, problems = parse_text(text, str(tmp_path / "fox.story"))
    assert not problems
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip" / "unet.safetensors").write_bytes(b"first training run")
    request = build_requests(parsed, SETTINGS)[1:2]
    first = draw(request, ProceduralIllustrator(), step(tmp_path))
    (tmp_path / "pip" / "unet.safetensors").write_bytes(b"second, longer training run")
    again = step(tmp_path)
    draw(request, ProceduralIllustrator(), again)
    assert [a.made for a in again.recorder.artifacts] == [True]
    assert str(first[0].image) != again.recorder.artifacts[0].path


def test_a_copied_model_folder_hits_the_cache_and_a_second_run_reads_no_weights(
        tmp_path: Path, monkeypatch):
    from engine import fingerprints

    def parsed_at(repo: Path):
        weights = repo / "models" / "pip" / "unet.safetensors"
        if not weights.exists():
            weights.parent.mkdir(parents=True)
            weights.write_bytes(b"trained weights")
        parsed, problems = parse_text(STORY, str(repo / "fox.story"))
        assert not problems
        return build_requests(parsed, SETTINGS)[1:2]

    first = step(tmp_path)
    [drawn] = draw(parsed_at(tmp_path / "repo"), ProceduralIllustrator(), first)
    shutil.copytree(tmp_path / "repo", tmp_path / "copy")
    reads: list[Path] = []
    real = fingerprints.file_sha256
    monkeypatch.setattr(fingerprints, "file_sha256", lambda p: reads.append(p) or real(p))
    copied = step(tmp_path)
    [again] = draw(parsed_at(tmp_path / "copy"), ProceduralIllustrator(), copied)
    assert [a.made for a in copied.recorder.artifacts] == [False] and again.image == drawn.image
    assert len(reads) == 1  # the copy's one weights file, read once
    third = step(tmp_path)
    draw(parsed_at(tmp_path / "copy"), ProceduralIllustrator(), third)
    assert len(reads) == 1 and [a.made for a in third.recorder.artifacts] == [False]


def test_the_story_seed_counts_unless_the_configuration_sets_one():
    seeded, problems = parse_text("seed: 3\n" + STORY, "/repo/fox.story")
    assert not problems
    b = seeded.scenes[1]  # a scene without its own seed
    assert build_requests(seeded, SETTINGS)[1].seed == scene_seed(3, b)
    assert build_requests(seeded, DrawSettings(64, 48, seed=7, trainedness=1.0, candidates=1)
                          )[1].seed == scene_seed(7, b)
    assert build_requests(story(), SETTINGS)[1].seed == scene_seed(0, b)


class Describing(ProceduralIllustrator):
    """The procedural illustrator, saying what it was handed (as image=diffusers does)."""

    def describe(self, request):
        return {"prompt": f"{request.prompt}, {request.style}", "size": [request.width, 32]}


def test_what_each_picture_was_drawn_from_is_kept_with_it(tmp_path: Path):
    import json

    from engine.manifest import write_manifest

    requests = build_requests(story(), SETTINGS)[:1]
    first = step(tmp_path)
    [drawn] = draw(requests, Describing(), first, candidates=2)
    said = {"prompt": "Pip on a hill, pastel", "size": [64, 32]}
    assert drawn.drawing == said and len(drawn.drawings) == 2
    again = step(tmp_path)  # from the cache: the record comes back with the picture
    assert draw(requests, Describing(), again, candidates=2)[0].drawing == said
    assert not any(a.made for a in again.recorder.artifacts)
    write_manifest(tmp_path / "manifest.json", again.recorder, {})
    records = json.loads((tmp_path / "manifest.json").read_text())["artifacts"]
    assert [r["details"]["prompt"] for r in records] == ["Pip on a hill, pastel"] * 2
    [plain] = draw(requests, ProceduralIllustrator(), step(tmp_path / "plain"))
    assert plain.drawing["understood"] == ["snowy", "hill"]  # the words it drew from

    class Silent(ProceduralIllustrator):
        describe = None  # an illustrator that says nothing about its pictures

    [silent] = draw(requests, Silent(), step(tmp_path / "silent"))
    assert silent.drawing is None


def test_a_title_the_banner_cuts_short_is_warned_about_at_every_render(tmp_path: Path, caplog):
    parsed, problems = parse_text(
        'title: Walk\nscene forest\n  title: Une très longue promenade dans la grande forêt '
        'enchantée\n  setting: a forest\n  "Bonjour."\nscene pond\n  title: The pond\n'
        '  setting: a pond\n  "Hello."\n', "/repo/walk.story")
    assert not problems
    requests = build_requests(parsed, DrawSettings(90, 160, seed=None, trainedness=1.0,
                                                   candidates=1))
    for attempt in ("drawn", "cached"):
        caplog.clear()
        with caplog.at_level("WARNING", logger="engine.stages.draw"):
            draw(requests, ProceduralIllustrator(supersample=1), step(tmp_path))
        warned = [r.getMessage() for r in caplog.records]
        assert len(warned) == 1, attempt
        assert "scene forest" in warned[0] and "Une très longue promenade" in warned[0]
        assert "…" in warned[0]
