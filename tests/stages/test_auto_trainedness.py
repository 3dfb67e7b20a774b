"""`trainedness: auto`: each α of the grid drawn and scored; each character's best kept, written back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine.backends.select import SelectRequest, open_rgb
from engine.cache import Cache
from engine.dsl.format import format_story
from engine.dsl.parse import parse_text
from engine.errors import ConfigError
from engine.manifest import Recorder
from engine import auto_trainedness as auto
from engine.stages import draw as stage
from engine.steps import Step

STORY = '''title: Fox
character Pip
  description: a small red fox
  model: models/pip
  reference: art/pip/
  trainedness: auto
character Owl
  description: a grey owl
scene hill
  image: Pip on a hill
  with: Pip
  trainedness: auto
  "Snow."
scene wood
  image: Pip and Owl in the wood
  with: Pip, Owl
  "Night."
scene beach
  image: Pip on the sand
  with: Pip
  trainedness Pip: 0.3
  "Sea."
'''


class AlphaPainter:
    """Paints Pip's α into the picture, so a scorer can read back which α drew it."""

    def __init__(self) -> None:
        self.drawn: list[tuple[str, float]] = []

    def identity(self) -> dict:
        return {"backend": "alpha-painter"}

    def draw(self, request):
        alpha = next(c.trainedness for c in request.characters if c.name == "Pip")
        self.drawn.append((request.scene_id, alpha))
        return Image.new("RGB", (request.width, request.height), (round(alpha * 250), 0, 0))


class KnownTaste:
    """Prompt fidelity peaks at α = 0.6 and falls off either side; identity grows with α."""

    def __init__(self) -> None:
        self.references: tuple[Path, ...] = ()

    def identity(self) -> dict:
        return {"backend": "known-taste"}

    def score(self, request: SelectRequest) -> tuple[float, ...]:
        return tuple(0.0 for _ in request.candidates)

    def axes(self, request: SelectRequest) -> tuple[tuple[float, float | None], ...]:
        self.references = request.references
        alphas = [open_rgb(c).getpixel((0, 0))[0] / 250 for c in request.candidates]
        return tuple((1 - abs(a - 0.6), a) for a in alphas)


def setup(tmp_path: Path):
    (tmp_path / "models" / "pip").mkdir(parents=True)
    (tmp_path / "art" / "pip").mkdir(parents=True)
    for name in ("front.png", "side.png"):
        Image.new("RGB", (8, 8)).save(tmp_path / "art" / "pip" / name)
    story, problems = parse_text(STORY, str(tmp_path / "fox.story"))
    assert not problems
    return story, Step(Cache(tmp_path / "cache"), Recorder())


def settings(weight: float) -> stage.DrawSettings:
    return stage.DrawSettings(32, 24, seed=None, trainedness=1.0, candidates=1,
                              auto=stage.AutoTrainedness((0.2, 0.4, 0.6, 0.8, 1.0), weight))


@pytest.mark.parametrize("weight, expected", [(0.0, 0.6), (0.2, 0.6), (0.75, 1.0), (1.0, 1.0)])
def test_the_alpha_a_scorer_prefers_is_chosen(tmp_path: Path, weight: float, expected: float):
    story, step = setup(tmp_path)
    requests = stage.build_requests(story, settings(weight))
    painter, taste = AlphaPainter(), KnownTaste()
    chosen, choices = auto.choose_trainedness(story, requests, settings(weight), painter,
                                               taste, step)
    assert sorted(choices) == ["hill", "wood"]  # beach sets its own number
    assert all(choice.alphas == {"Pip": expected} for choice in choices.values())
    pip = {r.scene_id: next(c for c in r.characters if c.name == "Pip") for r in chosen}
    assert (pip["hill"].trainedness, pip["wood"].trainedness, pip["beach"].trainedness) == (
        expected, expected, 0.3)
    # α outermost: every scene at one α before the next α (one weight switch per α)
    assert [a for _, a in painter.drawn] == [0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8, 1.0, 1.0]
    assert [p.name for p in taste.references] == ["front.png", "side.png"]
    tried = choices["hill"].record()["characters"][0]["candidates"]
    assert [t["alpha"] for t in tried] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert tried[2]["prompt"] == 1.0 and tried[4]["identity"] == 1.0
    drawn = stage.draw(chosen, painter, step, choices=choices)
    assert painter.drawn[10:] == [("beach", 0.3)]  # the chosen pictures come from the cache
    assert drawn[0].trainedness is choices["hill"] and drawn[2].trainedness is None


def test_resolved_story_carries_the_chosen_numbers(tmp_path: Path):
    story, step = setup(tmp_path)
    requests = stage.build_requests(story, settings(0.0))
    chosen, choices = auto.choose_trainedness(story, requests, settings(0.0), AlphaPainter(),
                                               KnownTaste(), step)
    drawn = stage.draw(chosen, AlphaPainter(), step, choices=choices)
    assert auto.choices_of(drawn) == choices
    resolved = auto.with_chosen_trainedness(story, choices)
    text = format_story(resolved)
    hill, wood = text.split("scene hill")[1].split("scene wood")
    assert "  trainedness: 0.6\n" in hill and "auto" not in hill
    assert "  trainedness Pip: 0.6\n" in wood.split("scene beach")[0]
    assert "  trainedness Pip: 0.3\n" in text.split("scene beach")[1]
    assert "  trainedness: auto\n" in text.split("scene hill")[0]  # the character's default


def test_auto_needs_a_selector_that_scores_both_axes(tmp_path: Path):
    from engine.backends.select.first import FirstSelector

    story, step = setup(tmp_path)
    requests = stage.build_requests(story, settings(0.5))
    with pytest.raises(ConfigError, match=r"trainedness: auto \(scene 'hill': Pip; .*select=clip"):
        auto.choose_trainedness(story, requests, settings(0.5), AlphaPainter(),
                                 FirstSelector(), step)
    plain = parse_text(STORY.replace("auto", "0.5"), str(tmp_path / "fox.story"))[0]
    assert auto.choose_trainedness(plain, stage.build_requests(plain, settings(0.5)),
                                    settings(0.5), AlphaPainter(), None, step)[1] == {}


DUET = '''title: Duet
character Pip
  description: a small red fox
  model: models/pip
  reference: art/pip/
  trainedness: auto
character Owl
  description: a grey owl
  model: models/owl
  reference: art/owl/
scene duet
  image: Pip and Owl sing
  with: Pip, Owl
  trainedness: auto
  "La."
scene night
  image: Pip and Owl at night
  with: Pip, Owl
  trainedness Owl: auto
  "Hush."
'''


class DuetPainter:
    """Paints Pip's α in red and Owl's in green."""

    def __init__(self) -> None:
        self.drawn: list[tuple[str, float, float]] = []

    def identity(self) -> dict:
        return {"backend": "duet-painter"}

    def draw(self, request):
        alpha = {c.name: c.trainedness for c in request.characters}
        self.drawn.append((request.scene_id, alpha["Pip"], alpha["Owl"]))
        return Image.new("RGB", (request.width, request.height),
                         (round(alpha["Pip"] * 250), round(alpha["Owl"] * 250), 0))


class TwoTastes:
    """Likeness to Pip's references peaks at Pip's α = 0.4, to Owl's at Owl's α = 0.8 (the mean
    over the references asked about); the prompt likes every picture the same."""

    PREFERRED = {"pip": (0, 0.4), "owl": (1, 0.8)}

    def identity(self) -> dict:
        return {"backend": "two-tastes"}

    def score(self, request: SelectRequest) -> tuple[float, ...]:
        return tuple(0.0 for _ in request.candidates)

    def axes(self, request: SelectRequest) -> tuple[tuple[float, float | None], ...]:
        owners = [self.PREFERRED[r.parent.name] for r in request.references]

        def likeness(pixel: tuple[int, ...]) -> float:
            return sum(1 - abs(pixel[channel] / 250 - best)
                       for channel, best in owners) / len(owners)

        return tuple((0.5, likeness(open_rgb(c).getpixel((0, 0)))) for c in request.candidates)


def test_each_character_gets_the_alpha_its_own_references_prefer(tmp_path: Path):
    for name in ("pip", "owl"):
        (tmp_path / "models" / name).mkdir(parents=True)
        (tmp_path / "art" / name).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(tmp_path / "art" / name / "front.png")
    story, problems = parse_text(DUET, str(tmp_path / "duet.story"))
    assert not problems
    step, painter = Step(Cache(tmp_path / "cache"), Recorder()), DuetPainter()
    requests = stage.build_requests(story, settings(1.0))
    chosen, choices = auto.choose_trainedness(story, requests, settings(1.0), painter,
                                              TwoTastes(), step)
    assert {sid: c.alphas for sid, c in choices.items()} == {
        "duet": {"Pip": 0.4, "Owl": 0.8}, "night": {"Pip": 0.4, "Owl": 0.8}}
    assert [{c.name: c.trainedness for c in r.characters} for r in chosen] == [
        {"Pip": 0.4, "Owl": 0.8}] * 2
    # per scene: both together (a tie over 0.4…0.8 keeps the first, 0.4: 5 pictures), Pip
    # with Owl at 0.4 (4 new), Owl with Pip at 0.4 (4 new: Owl moves to 0.8), Pip again with
    # Owl at 0.8 (3 new), Owl again (none new): a pass that changed nothing ends it. No
    # picture is drawn twice: the cache keeps them.
    assert len(painter.drawn) == len(set(painter.drawn)) == 2 * (5 + 4 + 4 + 3)
    record = choices["duet"].record()
    assert record["chosen"] == {"Pip": 0.4, "Owl": 0.8}
    owl = record["characters"][1]
    assert owl["name"] == "Owl" and [c["alpha"] for c in owl["candidates"]] == [
        0.2, 0.4, 0.6, 0.8, 1.0]
    assert owl["candidates"][3]["identity"] == 1.0  # scored on Owl's references alone
    text = format_story(auto.with_chosen_trainedness(story, choices))
    duet, night = text.split("scene duet")[1].split("scene night")
    assert "  trainedness: 0.4\n" in duet and "  trainedness Owl: 0.8\n" in duet
    assert "  trainedness Owl: 0.8\n" in night and "  trainedness Pip: 0.4\n" in night
    assert "auto" not in duet + night
    resolved = parse_text(text, str(tmp_path / "duet.story"))[0]
    assert [{c.name: c.trainedness for c in r.characters}
            for r in stage.build_requests(resolved, settings(1.0))] == [
        {"Pip": 0.4, "Owl": 0.8}] * 2


@pytest.mark.slow
def test_a_render_records_and_resolves_the_chosen_alpha(tmp_path: Path):
    pytest.importorskip("transformers")
    import json
    import subprocess
    import sys

    from tests import tiny_models

    story, _ = setup(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "fox.story").write_text(STORY)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", str(tmp_path / "fox.story"),
         "render.width=64", "render.height=48", "render.fps=8", "select=clip",
         f"select.model={tiny_models.tiny_clip()}", "render.auto_trainedness.alphas=[0.5,1]",
         f"hydra.run.dir={tmp_path / 'run'}", f"cache.dir={tmp_path / 'cache'}"],
        cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    scenes = json.loads((tmp_path / "run" / "manifest.json").read_text())["scenes"]
    hill = scenes[0]["trainedness"]
    assert [c["alpha"] for c in hill["characters"][0]["candidates"]] == [0.5, 1.0]
    assert hill["chosen"]["Pip"] in (0.5, 1.0) and scenes[2]["trainedness"] is None
    resolved = (tmp_path / "run" / "resolved.story").read_text()
    assert f"  trainedness: {hill['chosen']['Pip']:g}\n" in resolved.split("scene hill")[1]
    assert "trainedness auto: Pip α" in (tmp_path / "run" / "storyboard.html").read_text()


def test_auto_as_the_configuration_default_chooses_where_no_story_line_sets_a_number(
        tmp_path: Path):
    from engine.config import auto_trainedness, compose_config

    assert auto_trainedness(compose_config(["trainedness=auto"])).default
    assert not auto_trainedness(compose_config(["trainedness=0.7"])).default
    _, step = setup(tmp_path)
    plain = parse_text(STORY.replace("  trainedness: auto\n", ""), str(tmp_path / "fox.story"))[0]
    everywhere = stage.AutoTrainedness((0.2, 0.6, 1.0), 0.0, default=True)
    config_auto = stage.DrawSettings(32, 24, seed=None, trainedness=1.0, candidates=1,
                                     auto=everywhere)
    chosen, choices = auto.choose_trainedness(
        plain, stage.build_requests(plain, config_auto), config_auto, AlphaPainter(),
        KnownTaste(), step)
    # Pip (a `model:`) in hill and wood; beach's own `trainedness Pip: 0.3` stands; Owl has
    # no model: nothing to choose
    assert {sid: c.alphas for sid, c in choices.items()} == {"hill": {"Pip": 0.6},
                                                             "wood": {"Pip": 0.6}}
    assert [next(c.trainedness for c in r.characters if c.name == "Pip") for r in chosen] == [
        0.6, 0.6, 0.3]
    text = format_story(auto.with_chosen_trainedness(plain, choices))
    assert "0.6" in text.split("scene hill")[1].split("scene wood")[0]
    pinned = parse_text(STORY.replace("  trainedness: auto\n", "  trainedness: 0.9\n", 1),
                        str(tmp_path / "fox.story"))[0]  # the character's own number stands
    assert auto.choose_trainedness(pinned, stage.build_requests(pinned, config_auto),
                                   config_auto, AlphaPainter(), KnownTaste(), step)[1].keys() == {
        "hill"}
