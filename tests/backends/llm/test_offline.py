"""The offline writer: deterministic, fills each hole from the story's words, keeps the author's."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backends.llm import CharacterBrief, LineBrief, SceneBrief, WriteRequest, WriteResult
from engine.backends.llm.offline import OfflineWriter
from engine.backends.llm.offline_templates import TEMPLATE_VERSION
from engine.backends.llm.offline_words import Premise, Setting
from engine.errors import BackendError

LUNA = CharacterBrief("Luna", "a small silver moon with rosy cheeks and a blue nightcap", "child",
                      ("moon", "silver", "rosy cheeks", "blue nightcap"))
OWL = CharacterBrief("Owl", "a wise old owl with round glasses", "elder", ("owl",))
SAM = CharacterBrief("Sam", "a tiny green snail with a yellow shell", "child")
FERN = CharacterBrief("Fern", "a friendly frog", "child")

AUTHORED = (
    SceneBrief("night-falls", "Night falls",
               "a quiet village at night, rooftops under bright stars", ("Luna", "Owl"),
               (LineBrief(None, "Every night, Luna lit up the sky above the village."),
                LineBrief("Luna", "Oh no! Where did my glow go?", "worried"),
                LineBrief("Owl", None)), None),
    SceneBrief("the-search", None, "a dark forest full of fireflies", (), (),
               "Luna peeking between tall pine trees"),
    SceneBrief("by-the-sea", "By the sea", "a sandy beach by the blue sea", ("Luna",),
               (LineBrief("Luna", None, "whispering"), LineBrief(None, None),
                LineBrief("Owl", None, "sleepy")), None),
    SceneBrief("home", None, None, (), (), None),
)

STORY = WriteRequest("The Moon Who Lost Her Glow", "3-6", "soft watercolor picture book", "en",
                     None, (LUNA, OWL), AUTHORED)
PREMISE = WriteRequest("The Brave Little Snail", "3-6", "bright crayon drawing", "en",
                       "a snail who is afraid of the rain learns to enjoy puddles", (SAM, FERN),
                       (), 5)


def texts(result: WriteResult) -> list[str]:
    return [s.title for s in result.scenes] + [s.image for s in result.scenes] + [
        line.text for s in result.scenes for line in s.lines]


def assert_plausible(result: WriteResult) -> None:
    for text in texts(result):
        assert text.strip(), "empty text"
        assert not re.search(r"[{}]", text), f"template slot left in {text!r}"
        assert "None" not in text, text
        assert "  " not in text, text


def test_same_request_same_text_byte_for_byte() -> None:
    for request in (STORY, PREMISE):
        first, second = OfflineWriter().write(request), OfflineWriter().write(request)
        assert repr(first) == repr(second)
        assert first.usage.requests == 0


def test_every_hole_is_filled_and_the_author_untouched() -> None:
    result = OfflineWriter().write(STORY)
    assert [s.id for s in result.scenes] == [s.id for s in AUTHORED]
    for asked, written in zip(AUTHORED, result.scenes):
        if asked.lines:
            assert len(written.lines) == len(asked.lines)
            for mine, theirs in zip(asked.lines, written.lines):
                assert theirs.speaker == mine.speaker
                assert theirs.direction == mine.direction
                if mine.text is not None:
                    assert theirs.text == mine.text
        else:
            assert 2 <= len(written.lines) <= 4
            assert written.lines[0].speaker is None
            speakers = {line.speaker for line in written.lines[1:]}
            assert speakers <= {"Luna", "Owl"}
        if asked.image is not None:
            assert written.image == asked.image
        assert (written.title == asked.title) if asked.title else written.title
    assert_plausible(result)


def test_lines_react_to_the_scene_and_the_line_before() -> None:
    night = OfflineWriter().write(STORY).scenes[0]
    reply = night.lines[2].text
    # Owl answers Luna's "where" question, by name, with a thing of the setting or an offer.
    assert "Luna" in reply
    assert re.search(r"rooftops|stars|look together", reply), reply


def test_direction_picks_the_mood() -> None:
    scene = OfflineWriter().write(STORY).scenes[2]
    whisper, sleepy = scene.lines[0].text, scene.lines[2].text
    from engine.backends.llm.offline_templates import LINES

    def made_from(text: str, mood: str) -> bool:
        return any(re.fullmatch(re.sub(r"\\\{\w+\\\}", ".+", re.escape(t)), text)
                   for t in LINES[mood])

    assert made_from(whisper, "whisper"), whisper
    assert made_from(sleepy, "sleepy"), sleepy


def test_image_prompts_name_the_setting_and_the_cast_not_their_looks_or_the_style() -> None:
    """The draw stage adds each character's look and the style as they are when it draws: a
    prompt kept in the story (`fill --write`) stays true when they are edited."""
    result = OfflineWriter().write(STORY)
    night = result.scenes[0]
    assert "a quiet village at night" in night.image.lower()
    assert "Luna" in night.image and "Owl" in night.image
    assert "blue nightcap" not in night.image and "watercolor" not in night.image
    home = result.scenes[3]
    assert "Luna" in home.image and "Owl" in home.image
    for scene in OfflineWriter().write(PREMISE).scenes:
        assert scene.setting.lower() in scene.image.lower()
        assert all(name in scene.image for name in scene.characters)


def test_a_scene_with_no_setting_and_no_one_in_it_is_drawn_by_its_title() -> None:
    bare = dataclasses.replace(STORY, characters=(), scenes=(
        SceneBrief("two", "The Big Sky", None, (), (LineBrief(None, "The end."),), None),
        SceneBrief("the-last-hill", None, None, (), (LineBrief(None, "Bye."),), None)))
    first, second = OfflineWriter().write(bare).scenes
    assert first.image == "The Big Sky. Picture book illustration."
    assert second.image == "The last hill. Picture book illustration."


def test_a_wordless_scene_gets_a_picture_and_no_lines_or_cast() -> None:
    sea = SceneBrief("sea", "The Sea", "the sea at night", (), (), None, wordless=True)
    [written] = OfflineWriter().write(dataclasses.replace(STORY, scenes=(sea,))).scenes
    assert written.lines == () and written.characters == ()
    assert written.image == "The sea at night. Picture book illustration."


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_premise_gives_exactly_n_scenes_with_unique_ids(count: int) -> None:
    result = OfflineWriter().write(dataclasses.replace(PREMISE, scene_count=count))
    ids = [s.id for s in result.scenes]
    assert len(ids) == count and len(set(ids)) == count
    assert all(re.fullmatch(r"[a-z][a-z0-9\-]*", i) for i in ids)
    for scene in result.scenes:
        assert scene.title and scene.setting and scene.lines
        assert set(scene.characters) <= {"Sam", "Fern"} and "Sam" in scene.characters
        for line in scene.lines:
            assert line.speaker in (None, *scene.characters)
    assert_plausible(result)


def test_premise_arc_opens_with_the_hero_and_ends() -> None:
    scenes = OfflineWriter().write(PREMISE).scenes
    opening = " ".join(l.text for l in scenes[0].lines)
    assert "Sam" in opening and "snail" in opening
    trouble = " ".join(l.text for s in scenes[1:3] for l in s.lines)
    assert "afraid of the rain" in trouble or "did not like: the rain" in trouble
    ending = " ".join(l.text for l in scenes[-1].lines)
    assert "enjoy puddles" in ending and ending.count("The end.") == 1
    assert "morning" in scenes[0].setting and "night" in scenes[-1].setting


def test_premise_without_characters_is_all_narration() -> None:
    request = dataclasses.replace(PREMISE, characters=(), scene_count=3)
    result = OfflineWriter().write(request)
    assert len(result.scenes) == 3
    assert all(line.speaker is None for s in result.scenes for line in s.lines)
    assert_plausible(result)


def test_young_audiences_hear_shorter_narration() -> None:
    young = OfflineWriter().write(PREMISE)
    older = OfflineWriter().write(dataclasses.replace(PREMISE, audience="8-10"))

    def words(result: WriteResult) -> int:
        return sum(len(l.text.split()) for s in result.scenes for l in s.lines if l.speaker is None)

    assert words(older) > words(young)


def test_a_story_in_another_language_with_lines_to_write_is_refused_naming_the_scene() -> None:
    with pytest.raises(BackendError) as caught:
        OfflineWriter().write(dataclasses.replace(STORY, language="fr"))
    message = str(caught.value)
    assert message.startswith("scene night-falls (and 3 more): llm=offline: the offline writer "
                              "writes English only, and this story (language: fr)")
    assert "llm=openai" in message
    with pytest.raises(BackendError, match="^the premise: llm=offline"):
        OfflineWriter().write(dataclasses.replace(STORY, language="zh", scenes=(),
                                                  scene_count=2))


def test_a_story_in_another_language_with_every_line_written_gets_english_image_prompts() -> None:
    lines = (LineBrief(None, "Il était une fois une petite lune."),
             LineBrief("Luna", "Où est ma lumière ?", "worried"))
    scene = SceneBrief("nuit", None, "un village la nuit", ("Luna",), lines, None)
    result = OfflineWriter().write(dataclasses.replace(STORY, language="fr", scenes=(scene,)))
    (written,) = result.scenes
    assert [line.text for line in written.lines] == [line.text for line in lines]
    assert "village" in written.image  # the prompt, from the setting, in English templates


def picture_of(language: str, direction: str | None) -> str:
    """The image prompt of a one-line scene whose line has `direction`."""
    lines = (LineBrief("Luna", "…", direction),)
    scene = SceneBrief("nuit", None, "a village at night", ("Luna",), lines, None)
    return OfflineWriter().write(dataclasses.replace(STORY, language=language,
                                                     scenes=(scene,))).scenes[0].image


@pytest.mark.parametrize(("language", "said", "english"), [
    ("fr", "timidement, un peu effrayé", "worried"), ("fr", "tremblant", "trembling"),
    ("fr", "effrayée", "scared"), ("es", "asustada", "scared"), ("de", "ängstlich", "afraid"),
    ("fr", "tristement", "sadly"), ("de", "traurige", "sad"), ("es", "riendo", "laughing"),
    ("zh", "伤心地", "sad")])
def test_a_direction_in_the_storys_language_draws_the_mood_it_draws_in_english(
        language: str, said: str, english: str) -> None:
    drawn = picture_of(language, said)
    assert drawn == picture_of("en", english) != picture_of(language, None)


def test_accented_direction_words_are_read_whole() -> None:
    assert ", looking worried." in picture_of("fr", "effrayé")
    assert ", looking worried." in picture_of("de", "ängstlich")
    assert ", looking worried." not in picture_of("fr", "un peu")


def test_variety_across_many_scenes() -> None:
    scenes = tuple(SceneBrief(f"s{i}", None, f"a {place}", ("Luna", "Owl"), (), None)
                   for i, place in enumerate(["forest", "beach", "garden at dawn", "snowy hill",
                                              "village at night", "cave", "meadow", "bedroom"]))
    result = OfflineWriter().write(dataclasses.replace(STORY, scenes=scenes))
    lines = [l.text for s in result.scenes for l in s.lines]
    assert len(set(lines)) >= 0.8 * len(lines)
    assert_plausible(result)


def test_identity_names_the_template_set() -> None:
    identity = OfflineWriter(max_dialogue=2).identity()
    assert identity["backend"] == "offline" and identity["templates"] == TEMPLATE_VERSION
    assert identity["max_dialogue"] == 2


def test_reading_settings_and_premises() -> None:
    village = Setting.read("a quiet village at night, rooftops under bright stars")
    assert (village.place, village.where, village.time) == (
        "the quiet village", "in the quiet village", "night")
    assert village.things == ("the rooftops", "the bright stars")
    assert Setting.read("under the sea").where == "under the sea"
    assert Setting.read("a round green hill").where == "on the round green hill"
    assert Setting.read(None).where == "here"
    assert Setting.read("the top of a snowy mountain").where == "on the top of the snowy mountain"
    assert Setting.read("inside a warm kitchen").where == "inside the warm kitchen"
    premise = Premise.read("a fox who lost his red hat and wants to find it", None)
    assert premise.lost == "his red hat" and premise.want == "find it" and premise.wished
    assert not Premise.read("a snail who learns to enjoy puddles").wished
    assert Premise.read(None, "Mia and the Lost Kite").lost is None  # "lost" is an adjective there


def test_a_character_calls_its_own_place_mine() -> None:
    mia = CharacterBrief("Mia", "a little girl", "child")
    scene = SceneBrief("home", None, "Mia's bedroom", ("Mia",), (LineBrief("Mia", None),), None)
    text = OfflineWriter().write(WriteRequest("Mia", "3-6", "", "en", None, (mia,), (scene,)))
    assert "Mia's" not in text.scenes[0].lines[0].text


def test_the_write_stage_accepts_every_answer_and_check_accepts_the_result() -> None:
    from engine.dsl.check import check_story
    from engine.dsl.format import format_story
    from engine.dsl.load import load_story
    from engine.dsl.parse import parse_text
    from engine.stages.write import build_request, merge

    stories = Path(__file__).resolve().parents[3] / "stories"
    for name in ("snail.story", "moon-glow.story"):
        story = load_story(stories / name)
        request = build_request(story)
        text = format_story(merge(story, request, OfflineWriter().write(request)))
        again, problems = parse_text(text, str(stories / name))
        assert not problems, problems
        # Re-parsed from text, `use:` files are not loaded: names they bring are not known then.
        errors = [d for d in check_story(again, names_known=name == "snail.story")
                  if d.severity == "error"]
        assert not errors, [d.message for d in errors]
        assert "..." not in text


def test_the_config_file_builds_it() -> None:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    conf = OmegaConf.load(Path(__file__).resolve().parents[3] / "conf/llm/offline.yaml")
    writer = instantiate(conf)
    assert isinstance(writer, OfflineWriter) and writer.identity()["language"] == conf.language


_NAMES = st.sampled_from(["Luna", "Owl", "Sam", "Zoë", "Grandma-Bear", "O'Malley"])
_LINES = st.builds(LineBrief, st.one_of(st.none(), _NAMES),
                   st.one_of(st.none(), st.text(min_size=1, max_size=30)),
                   st.one_of(st.none(), st.text(max_size=15)))
_SCENES = st.lists(st.builds(SceneBrief, st.from_regex(r"[a-z][a-z0-9\-]{0,8}", fullmatch=True),
                             st.one_of(st.none(), st.text(max_size=20)),
                             st.one_of(st.none(), st.text(max_size=60)),
                             st.lists(_NAMES, max_size=3, unique=True).map(tuple),
                             st.lists(_LINES, max_size=4).map(tuple),
                             st.one_of(st.none(), st.text(min_size=1, max_size=30))),
                   max_size=4, unique_by=lambda s: s.id).map(tuple)
_CAST = st.lists(st.builds(CharacterBrief, _NAMES, st.text(max_size=50), st.just("child"),
                           st.lists(st.text(max_size=10), max_size=3).map(tuple)),
                 max_size=3, unique_by=lambda c: c.name).map(tuple)


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=30), audience=st.text(max_size=8), premise=st.one_of(
    st.none(), st.text(max_size=80)), characters=_CAST, scenes=_SCENES,
       count=st.integers(0, 6))
def test_any_request_gets_a_complete_answer(title, audience, premise, characters, scenes,
                                            count) -> None:
    request = WriteRequest(title, audience, "", "en", premise, characters, scenes,
                           0 if scenes else count)
    result = OfflineWriter().write(request)
    if not scenes:
        assert len(result.scenes) == count
        assert len({s.id for s in result.scenes}) == count
    else:
        assert [s.id for s in result.scenes] == [s.id for s in scenes]
    for asked, written in zip(scenes, result.scenes):
        assert written.image == asked.image if asked.image is not None else written.image.strip()
        if asked.lines:
            assert [(l.speaker, l.direction) for l in written.lines] == [
                (l.speaker, l.direction) for l in asked.lines]
            for mine, theirs in zip(asked.lines, written.lines):
                assert theirs.text == mine.text if mine.text is not None else theirs.text.strip()
        else:
            assert written.lines and all(l.text.strip() for l in written.lines)
    # Braces may come from the author's own words (a setting "B{}"); never from a template.
    authored = " ".join([title, premise or "", *(f"{s.setting} {s.title}" for s in scenes),
                         *(f"{c.name} {c.description}" for c in characters)])
    for scene in result.scenes:
        for line in scene.lines:
            if line.text not in {l.text for s in scenes for l in s.lines}:
                slots = re.findall(r"\{\w*\}", line.text)
                assert all(slot in authored for slot in slots), line.text
    assert repr(result) == repr(OfflineWriter().write(request))


@pytest.mark.parametrize("premise, opening", [
    ("a hedgehog who is scared of the dark",
     "Once upon a time there was a little hedgehog who was scared of the dark."),
    ("a snail who fears rain", "Once upon a time there was a little snail who feared rain."),
    ("two friends lost in the woods", "Once upon a time there were two friends lost in the woods."),
    ("the moon loses her glow", "This is the story of how the moon lost her glow."),
    ("a snail who is afraid of the rain learns to enjoy puddles",
     "Once upon a time there was a little snail who was afraid of the rain. This is the story "
     "of how the snail learned to enjoy puddles."),
    ("an owl who cannot sleep", "Once upon a time there was a little owl who could not sleep."),
    ("a dog and a cat become friends", "This is the story of how a dog and a cat became friends."),
    ("Max loses his kite.", "This is the story of how Max lost his kite."),
    ("the little bear who tries to fly",
     "Once upon a time there was a little bear who tried to fly."),
    ("learning to share", "This is a story about learning to share."),
    ("The Moon Who Lost Her Glow", "Once upon a time there was a little moon who lost her glow."),
    ("Max Loses His Kite", "This is the story of how Max lost his kite."),
])
def test_a_premise_only_draft_opens_with_a_sentence(premise: str, opening: str) -> None:
    request = WriteRequest("T", "3-6", "crayon", "en", premise, (), (), 3)
    first = OfflineWriter().write(request).scenes[0].lines[0].text
    assert first.startswith(opening + " "), first


def test_with_a_cast_the_premise_is_told_whole_and_in_good_grammar() -> None:
    request = dataclasses.replace(PREMISE, premise="a hedgehog who is scared of the dark")
    opening = OfflineWriter().write(request).scenes[0].lines[0].text
    assert "This is the story of a hedgehog who is scared of the dark." in opening
    assert "story of how a hedgehog" not in opening


def test_without_characters_the_premise_hero_speaks_through_the_narrator() -> None:
    request = WriteRequest("T", "3-6", "crayon", "en", "a hedgehog who is scared of the dark",
                           (), (), 4)
    result = OfflineWriter().write(request)
    lines = [l for s in result.scenes for l in s.lines]
    assert all(l.speaker is None for l in lines) and all(not s.characters for s in result.scenes)
    said = [l.text for l in lines if "said Hedgehog" in l.text or "Hedgehog said," in l.text]
    assert len(said) >= len(result.scenes)  # every scene has at least one line from the hero
    assert all(re.search(r"“[^”]+”", text) for text in said)
    assert "Hedgehog did not like: the dark" in " ".join(l.text for l in lines) or (
        "Hedgehog was afraid of the dark" in " ".join(l.text for l in lines))
    assert all("a little hedgehog" in s.image.lower() for s in result.scenes)
    assert_plausible(result)
    # A crowd gets no one voice: "two friends" stay in the narration.
    crowd = OfflineWriter().write(dataclasses.replace(request,
                                                      premise="two friends lost in the woods"))
    assert not any("said" in l.text for s in crowd.scenes for l in s.lines)


def test_a_premise_only_story_with_no_cast_checks_clean(tmp_path: Path) -> None:
    from engine.dsl.check import check_story
    from engine.dsl.format import format_story
    from engine.dsl.parse import parse_text
    from engine.stages.write import build_request, merge

    source = ('title: A Hedgehog Who Is Scared of the Dark\naudience: 3-6\nstyle: crayon\n'
              'premise: a hedgehog who is scared of the dark\nscenes: 4\n')
    story, problems = parse_text(source, str(tmp_path / "h.story"))
    assert not problems
    request = build_request(story)
    text = format_story(merge(story, request, OfflineWriter().write(request)))
    again, problems = parse_text(text, str(tmp_path / "h.story"))
    assert not problems
    assert "Hedgehog said, “" in text or "” said Hedgehog." in text
    assert not [d.message for d in check_story(again) if d.severity == "error"]


def test_past_tense_and_title_case() -> None:
    from engine.backends.llm.offline_words import past
    from engine.commands.new import title_from

    assert [past(w) for w in ("is", "fears", "tries", "hopes", "misses", "loses", "rain")] == [
        "was", "feared", "tried", "hoped", "missed", "lost", "rain"]
    assert title_from("a hedgehog who is scared of the dark") == (
        "A Hedgehog Who Is Scared of the Dark")
    assert title_from("the moon loses her glow.") == "The Moon Loses Her Glow"
    assert title_from("two friends lost in the woods") == "Two Friends Lost in the Woods"


def test_a_voice_direction_stays_with_the_line_not_the_picture() -> None:
    sea = OfflineWriter().write(STORY).scenes[2]
    assert sea.lines[0].direction == "whispering"
    assert "whisper" not in sea.image.lower() and "Luna" in sea.image


TURTLE = WriteRequest("A Turtle Who Wants to Win a Race", "3-6", "crayon", "en",
                      "a turtle who wants to win a race",
                      (CharacterBrief("Turtle", "a turtle who wants to win a race", "child"),),
                      (), 3)


def test_a_cast_hero_the_premise_names_is_introduced_by_the_premise() -> None:
    scenes = OfflineWriter().write(TURTLE).scenes
    opening = scenes[0].lines[0].text
    assert opening.startswith("Once upon a time there was a little turtle who wanted to win a "
                              "race. "), opening
    assert "called Turtle" not in opening and "at home" not in opening
    # a cast the premise does not name is still introduced by name (whichever template says it)
    sam = OfflineWriter().write(PREMISE).scenes[0].lines[0].text
    assert "Sam" in sam and not sam.startswith("Once upon a time there was a little snail"), sam


def test_a_wish_ends_in_a_lesson_and_the_race_has_its_place() -> None:
    scenes = OfflineWriter().write(TURTLE).scenes
    ending = scenes[-1].lines[0].text
    assert "learned that" in ending and "you can win a race" in ending, ending
    assert "learned to win a race" not in ending
    assert "racing track" in scenes[-1].setting
    assert scenes[-1].title != "Home Again"  # the race is not at home
    learns = OfflineWriter().write(dataclasses.replace(PREMISE, scene_count=3)).scenes
    assert "learned to enjoy puddles" in learns[-1].lines[0].text


def test_one_alone_never_says_we_and_invented_lines_say_how() -> None:
    from engine.dsl.directions import direction_word

    for count in (1, 3, 5, 8):
        scenes = OfflineWriter().write(dataclasses.replace(TURTLE, scene_count=count)).scenes
        lines = [line for s in scenes for line in s.lines]
        said = [line for line in lines if line.speaker]
        assert said and all(line.speaker == "Turtle" for line in said)
        assert not [l.text for l in lines if re.search(r"\b(we|us|they all)\b", l.text, re.I)]
        assert not [l.text for l in lines if "“" in l.text]
        directions = [line.direction for line in said if line.direction]
        assert all(direction_word(d) for d in directions), directions
    assert directions  # eight scenes of feelings have some
