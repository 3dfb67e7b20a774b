"""safety_text=wordlist: whole-word hits with spans and categories, the repository's allow and deny
lists, glin-profanity's lists and the starter list shipped in the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from engine.backends.safety_text import TextCheckRequest
from engine.backends.safety_text.wordlist import STARTER, WordlistChecker, parse_list
from engine.errors import ConfigError
from tests.configured import configured


def hits(checker: WordlistChecker, text: str, language: str = "en") -> list[tuple[str, str]]:
    """(category, the flagged characters) for every flag."""
    return [(f.category, text[f.span[0]:f.span[1]])
            for f in checker.check(TextCheckRequest(text, language))]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_starter_words_are_flagged_with_category_span_and_full_score(repo: Path):
    checker = WordlistChecker(root=str(repo))
    text = "The hunter raised his GUN. Blood on the snow!"
    flags = checker.check(TextCheckRequest(text))
    assert [(f.category, f.score, f.span) for f in flags] == [
        ("weapons", 1.0, (22, 25)), ("violence", 1.0, (27, 32))]


def test_whole_words_only_and_endings_only_where_the_list_says(repo: Path):
    checker = WordlistChecker(root=str(repo))
    assert hits(checker, "The gunny sack, a bloodhound and a knifelike wind") == []
    assert hits(checker, "They killed it. Killing is wrong.") == [
        ("violence", "killed"), ("violence", "Killing")]
    assert hits(checker, "a knife-thrower") == [("weapons", "knife")]


def test_children_story_words_are_left_alone(repo: Path):
    checker = WordlistChecker(root=str(repo))
    text = ("Owl was scared of the dark forest, where a friendly monster hid from the storm; "
            "the ghost story made the cubs shiver.")
    assert checker.check(TextCheckRequest(text)) == ()


def test_mild_insults_swearing_and_threats_are_flagged_for_a_reviewer(repo: Path):
    """What an author's test found unflagged: each is worth a person's look in a children's
    story (a flag asks for review; it bans nothing)."""
    checker = WordlistChecker(root=str(repo), profanity=False)
    assert hits(checker, "Damn it! Go to hell.") == [("swearing", "Damn"), ("swearing", "hell")]
    assert hits(checker, "You are stupid. I will punch you.") == [
        ("insults", "stupid"), ("violence", "punch you")]
    assert hits(checker, "Hello, shell! A damning dumbbell.") == []  # whole words only


def test_unicode_text_keeps_character_spans(repo: Path):
    checker = WordlistChecker(root=str(repo))
    text = "Ça alors ! Le garçon a un «gun» — un KNIFE."
    assert hits(checker, text, "fr") == [("weapons", "gun"), ("weapons", "KNIFE")]
    # a word inside a longer Unicode word is no hit: `\w` knows letters beyond ASCII
    assert hits(checker, "guné knifeß") == []


def test_phrases_match_across_any_white_space(repo: Path):
    checker = WordlistChecker(root=str(repo))
    assert hits(checker, "She said: shut\n  up!") == [("insults", "shut\n  up")]


def test_glin_profanity_lists_follow_the_story_language(repo: Path):
    checker = WordlistChecker(root=str(repo))
    assert hits(checker, "What a bitch.") == [("profanity", "bitch")]
    assert hits(checker, "Quel connard !", "fr") == [("profanity", "connard")]
    assert hits(checker, "Quel connard !", "en") == []
    off = WordlistChecker(root=str(repo), profanity=False)
    assert hits(off, "What a bitch.") == []


def test_the_repositorys_allow_list_overrides_a_denied_word(repo: Path):
    (repo / "safety").mkdir()
    (repo / "safety" / "allow.txt").write_text("# our pirates carry them\nknife\nkiller whale\n")
    checker = WordlistChecker(root=str(repo))
    assert hits(checker, "A knife and a gun.") == [("weapons", "gun")]
    # an allowed phrase covers the hits inside it, and only there
    assert hits(checker, "The Killer  Whale sang. The killer ran.") == [("violence", "killer")]


def test_the_repositorys_deny_list_adds_words_with_categories(repo: Path):
    (repo / "safety").mkdir()
    (repo / "safety" / "deny.txt").write_text(
        "spooky  # ours, above any [category]\n[brand]\nsuper cola\nfizz*\n")
    checker = WordlistChecker(root=str(repo))
    assert hits(checker, "A spooky Super Cola, fizzing.") == [
        ("deny", "spooky"), ("brand", "Super Cola"), ("brand", "fizzing")]


def test_lists_shape_the_identity(repo: Path):
    before = WordlistChecker(root=str(repo)).identity()
    (repo / "safety").mkdir()
    (repo / "safety" / "deny.txt").write_text("spooky\n")
    after = WordlistChecker(root=str(repo)).identity()
    assert before["backend"] == after["backend"] == "wordlist"
    assert before["lists"] != after["lists"]
    assert WordlistChecker(root=str(repo), starter=False).identity() != after


def test_the_starter_list_ships_in_the_package_and_can_be_turned_off(repo: Path):
    text = (resources.files("engine.backends.safety_text") / STARTER).read_text("utf-8")
    entries = parse_list(text, "deny", STARTER)
    categories = {e.category for e in entries}
    assert {"violence", "weapons", "fear", "adult"} <= categories
    assert "deny" not in categories  # every shipped entry sits under a category
    assert {"scared", "dark", "monster"}.isdisjoint(e.pattern for e in entries)
    off = WordlistChecker(root=str(repo), starter=False)
    assert hits(off, "a gun") == []


def test_a_list_path_may_be_absolute_and_a_missing_list_is_empty(tmp_path: Path):
    own = tmp_path / "elsewhere.txt"
    own.write_text("[fruit]\nbanana\n")
    checker = WordlistChecker(root=str(tmp_path / "nowhere"), deny=str(own), allow=None)
    assert hits(checker, "A banana!") == [("fruit", "banana")]


def test_an_unreadable_list_is_a_config_error(repo: Path):
    (repo / "safety").mkdir()
    (repo / "safety" / "deny.txt").write_bytes(b"\xff\xfe broken")
    with pytest.raises(ConfigError, match=r"^safety_text.deny: cannot read .*deny.txt"):
        WordlistChecker(root=str(repo))


def test_an_empty_category_names_its_line(repo: Path):
    (repo / "safety").mkdir()
    (repo / "safety" / "deny.txt").write_text("ok\n[ ]\n")
    with pytest.raises(ConfigError, match=r"safety/deny.txt:2: an empty \[category\]"):
        WordlistChecker(root=str(repo))


def test_the_default_config_reads_the_lists_of_the_storys_repository(repo: Path):
    (repo / "tales").mkdir()
    (repo / "safety").mkdir()
    (repo / "safety" / "deny.txt").write_text("spooky\n")
    checker = configured("safety_text", "wordlist", f"story={repo / 'tales' / 'a.story'}")
    assert checker.root == repo
    assert hits(checker, "spooky") == [("deny", "spooky")]
