"""Property tests: generated stories survive `fmt`; no input bytes crash the parser or checker."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

import engine.dsl.parse as parse_module
from engine.dsl import vocabulary as vocab
from engine.dsl.check import check_story
from engine.dsl.format import _direction, can_be_bare, format_story, is_name
from engine.dsl.load import load_story, load_with_diagnostics
from engine.dsl.parse import parse_story, parse_text
from engine.dsl.source import decode
from engine.dsl.syntax import IndentProblem
from engine.dsl.unread import Unread
from engine.errors import Diagnostic, StoryError
from engine.ir import (
    NARRATOR,
    Character,
    Field,
    Line,
    Scene,
    Story,
    Value,
    Voice,
    without_spans,
)
from tests.dsl.shapes import shapes

STORIES = Path(__file__).resolve().parents[2] / "stories"
SAMPLES = [p.read_bytes() for p in sorted(STORIES.rglob("*.story"))]
RESERVED = vocab.RESERVED_NAMES | set(vocab.SCENE_KEYS) | {NARRATOR}

names = st.one_of(
    st.sampled_from(["Luna", "Zoë", "小龙", "O'Malley", "pip-2", "owl_1", "3rd"]),
    st.from_regex(r"[A-Za-zÀ-ÿ一-龥][\w'\-]{0,8}", fullmatch=True),
).filter(lambda n: is_name(n) and n not in RESERVED)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=25).filter(
    lambda t: not vocab.FORBIDDEN.search(t))  # no story holds them (format leaves them out)
values = st.builds(lambda t, q: Value(t, quoted=q or not can_be_bare(t)), texts, st.booleans())
directions = st.none() | texts.filter(lambda d: _direction(d) == d)


def fields(keys: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[Field, ...]]:
    return st.lists(st.builds(Field, keys, values), max_size=4).map(tuple)


scene_fields = st.lists(st.one_of(
    st.builds(Field, st.sampled_from(vocab.SCENE_KEYS), values),
    st.builds(lambda n, v: Field("trainedness", v, argument=n), names, values),
), max_size=4).map(tuple)
lines = st.lists(st.builds(Line, st.none() | names, st.none() | texts, direction=directions),
                 max_size=4).map(tuple)
stories = st.builds(
    Story, st.just("gen.story"),
    fields=fields(st.sampled_from(vocab.HEADER_KEYS) | names),
    voices=st.lists(st.builds(Voice, names, fields(st.sampled_from(vocab.VOICE_KEYS))),
                    max_size=2).map(tuple),
    characters=st.lists(st.builds(Character, names,
                                  fields(st.sampled_from(vocab.CHARACTER_KEYS))),
                        max_size=2).map(tuple),
    scenes=st.lists(st.builds(Scene, names, scene_fields, lines), max_size=3).map(tuple),
)
comment_texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"),
                        max_size=12).filter(lambda t: not vocab.FORBIDDEN.search(t)).map(
    lambda t: "#" + t)


def parse(text: str) -> Story:
    story, problems = parse_text(text, "gen.story")
    assert problems == (), (text, problems)
    return story


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories)
def test_generated_stories_round_trip(story: Story) -> None:
    text = format_story(story)
    again = parse(text)
    assert without_spans(again) == without_spans(story)
    assert format_story(again) == text
    assert all(isinstance(d, Diagnostic) for d in check_story(again))  # any values: no crash


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories, st.data())
def test_comments_survive_and_formatting_is_idempotent(story: Story, data: st.DataObject) -> None:
    source = format_story(story).split("\n")[:-1]
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(source)))
        indent = data.draw(st.sampled_from(["", "  ", "    "]))
        comment = data.draw(comment_texts)
        if source and data.draw(st.booleans()) and at < len(source) and source[at].strip():
            source[at] += "  " + comment
        else:
            source.insert(at, indent + comment)
    text = "\n".join(source) + "\n"
    parsed = parse(text)
    once = format_story(parsed)
    reparsed = parse(once)
    assert without_spans(reparsed) == without_spans(parsed)
    assert sorted(c.text for c in reparsed.comments) == sorted(c.text for c in parsed.comments)
    assert format_story(reparsed) == once


def assert_inside(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], text: str) -> None:
    lines = (text[1:] if text.startswith("\ufeff") else text).split("\n")
    for d in diagnostics:
        assert 1 <= d.span.line <= len(lines), d
        assert 1 <= d.span.column <= len(lines[d.span.line - 1]) + 1, d


def diagnose(data: bytes) -> None:
    text, problems = decode(data, "fuzz.story")
    parsed = parse_story(text, "fuzz.story")
    checked = check_story(parsed.story, names_known=not problems and parsed.complete,
                          unread=Unread.of(parsed.unread))
    assert_inside(problems + parsed.diagnostics + tuple(checked), text)


mutations = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["insert", "delete",
                                                                         "replace"]),
                               st.sampled_from([b'"', b":", b"#", b"\n", b" ", b"\t", b"(", b")",
                                                b"...", b"\\", b"\xff", b"\xc3", b"x", b"\r",
                                                b"\n  ", b"scene ", b"\xef\xbb\xbf"])),
                     min_size=1, max_size=6)


@settings(max_examples=250, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_give_only_diagnostics(data: bytes) -> None:
    diagnose(data)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(SAMPLES), mutations)
def test_mutated_stories_give_only_diagnostics(sample: bytes, edits: list) -> None:
    data = bytearray(sample)
    for position, kind, piece in edits:
        at = position % (len(data) + 1)
        if kind == "insert":
            data[at:at] = piece
        elif kind == "delete":
            del data[at:at + len(piece)]
        else:
            data[at:at + len(piece)] = piece
    diagnose(bytes(data))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SAMPLES), mutations)
def test_load_raises_only_story_errors(tmp_path: Path, sample: bytes, edits: list) -> None:
    data = bytearray(sample)
    for position, kind, piece in edits:
        at = position % (len(data) + 1)
        data[at:at] = piece if kind == "insert" else b""
    path = tmp_path / "fuzz.story"
    path.write_bytes(bytes(data))
    _, diagnostics = load_with_diagnostics(path)  # returns diagnostics; never raises
    text, _ = decode(bytes(data), str(path))
    assert_inside([d for d in diagnostics if d.span.file == str(path)], text)
    try:
        load_story(path)
    except StoryError as error:
        assert error.errors and error.diagnostics == diagnostics


CONTROLS = "\x00\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\u2028\u202e\u2067\r"
controlled = st.text(st.characters(exclude_categories=("Cs",)) | st.sampled_from(CONTROLS),
                     max_size=200)


@settings(max_examples=200, deadline=None)
@given(controlled | st.sampled_from(SAMPLES).map(bytes.decode).flatmap(
    lambda s: st.integers(0, len(s)).flatmap(
        lambda at: st.text(st.sampled_from(CONTROLS), min_size=1, max_size=3).map(
            lambda c: s[:at] + c + s[at:]))))
def test_control_characters_give_only_diagnostics(text: str) -> None:
    data = text.encode("utf-8")
    diagnose(data)
    story, problems = parse_text(text, "fuzz.story")
    if any(ch in text for ch in CONTROLS.replace("\r", "")):
        assert any(d.code in {"control-character", "bidi-control"} for d in problems)
    said = [line.text or "" for scene in story.scenes for line in scene.lines]
    values = [f.value.text for block in (story, *story.scenes, *story.characters, *story.voices)
              for f in block.fields]
    assert not any(vocab.FORBIDDEN.search(text) for text in said + values)  # none gets through


@pytest.mark.parametrize("shape", list(shapes(10)))
def test_pathological_shapes_give_only_diagnostics_in_bounded_memory(shape: str) -> None:
    text = shapes(50_000)[shape]
    tracemalloc.start()
    try:
        diagnose(text.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the IR itself costs ~27 bytes a character when every line is a scene (37 at this size);
    # the file's lines as a list cost 9 more (made only for errors and comments); a regex that
    # backtracks, or a copy per line, costs hundreds
    assert peak < 45 * len(text), f"{shape}: {peak / len(text):.1f} bytes per character"


def test_ten_thousand_scenes() -> None:
    text = "".join(f'scene s{i}\n  "line {i}"\n' for i in range(10_000))
    story, problems = parse_text(text, "many.story")
    assert problems == () and len(story.scenes) == 10_000
    assert story.scenes[-1].lines[0].span.line == 20_000


@pytest.mark.parametrize("shape", list(shapes(10)))
def test_no_line_is_parsed_more_than_twice(shape: str, monkeypatch) -> None:
    """Error recovery re-reads at most the part before a broken line: parsing stays linear.

    (Counted, not timed: the time per MB is measured by `benchmarks/parse.py --big`.)
    """
    parser, handed = parse_module._parser(), []

    class Counting:
        """Counts the characters each parse read: all of a piece, or up to its broken line."""

        def parse(self, source: str):
            try:
                items = parser.parse(source)
            except UnexpectedInput as error:
                handed.append(error.pos_in_stream or 0)
                raise
            except IndentProblem as error:
                handed.append(error.token.end_pos or 0)
                raise
            handed.append(len(source))
            return items

    monkeypatch.setattr(parse_module, "_parser", lambda: Counting())
    text = shapes(20_000)[shape]
    parse_text(text, "big.story")
    # a borrowed block line per piece comes on top of the file's own lines
    assert sum(handed) <= 2 * len(text) + 16 * len(handed), (shape, sum(handed), len(text))
