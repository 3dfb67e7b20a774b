"""storyboard.html: quotes, ampersands and brackets in names stay text and still link files."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from engine.dsl.load import load_story
from engine.stages.draw import Drawn
from engine.stages.speak import Spoken
from engine.storyboard import link, write_storyboard

STORY = """title: Tom & <Jerry>

scene O'Malley
  title: O'Malley's "yard"
  image: a cat & a <dog>
  "Hello & <goodbye>."
"""


class Links(HTMLParser):
    """Every tag's attributes, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_link_quotes_for_urls_then_escapes_for_html():
    assert link(Path("scenes") / "O'Malley & co.png") == "scenes/O%27Malley%20%26%20co.png"
    assert link("a<b>\"c\".wav") == "a%3Cb%3E%22c%22.wav"


def test_every_picture_and_clip_is_found_from_its_page(tmp_path: Path):
    (tmp_path / "tom.story").write_text(STORY, encoding="utf-8")
    story = load_story(tmp_path / "tom.story")
    made = tmp_path / "made"
    made.mkdir()
    for name in ("main.png", "c0.png", "c1.png", "line.wav"):
        (made / name).write_bytes(name.encode())
    drawn = [Drawn("O'Malley", made / "main.png", (made / "c0.png", made / "c1.png"),
                   (0.25, 0.75), 1)]
    spoken = [Spoken("O'Malley", 0, None, "Hello & <goodbye>.", made / "line.wav")]
    run = tmp_path / "run"

    def place(source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    page = write_storyboard(run, story, drawn, spoken, place).read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    sources = [attrs["src"] for tag, attrs in parser.tags if tag in ("img", "audio")]
    assert [(run / unquote(str(s))).read_bytes() for s in sources] == \
        [b"main.png", b"c0.png", b"c1.png", b"line.wav"]
    [scene] = [attrs for tag, attrs in parser.tags if tag == "section"]
    assert scene["id"] == "O'Malley"
    [main] = [attrs for tag, attrs in parser.tags if attrs.get("class") == "main"]
    assert main["alt"] == "O'Malley's \"yard\""
    assert "<title>Tom &amp; &lt;Jerry&gt;</title>" in page
    assert "Hello &amp; &lt;goodbye&gt;." in page and "a cat &amp; a &lt;dog&gt;" in page


def test_a_picture_steered_by_references_says_whose_and_how_strongly(tmp_path: Path):
    (tmp_path / "tom.story").write_text(STORY, encoding="utf-8")
    story = load_story(tmp_path / "tom.story")
    (tmp_path / "main.png").write_bytes(b"png")
    reference = {"mode": "ip_adapter", "characters": ["Tom", "Jerry"], "steering": 0.45}
    drawn = [Drawn("O'Malley", tmp_path / "main.png", (tmp_path / "main.png",), (1.0,), 0,
                   drawings=({"prompt": "a cat", "size": [512, 512], "reference": reference},))]
    page = write_storyboard(tmp_path / "run", story, drawn, [],
                            lambda source, target: None).read_text(encoding="utf-8")
    assert "<dt>steered by</dt><dd>the references of Tom, Jerry (ip_adapter, 0.45)</dd>" in page


def test_a_candidate_a_reviewer_rejected_is_marked_so_not_shown_as_the_best(tmp_path: Path):
    (tmp_path / "tom.story").write_text(STORY, encoding="utf-8")
    story = load_story(tmp_path / "tom.story")
    for name in ("c0.png", "c1.png"):
        (tmp_path / name).write_bytes(name.encode())
    drawn = [Drawn("O'Malley", tmp_path / "c1.png", (tmp_path / "c0.png", tmp_path / "c1.png"),
                   (1.0, 0.0), 1, rejected=(0,))]
    page = write_storyboard(tmp_path / "run", story, drawn, [],
                            lambda source, target: None).read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    figures = [attrs.get("class") for tag, attrs in parser.tags if tag == "figure"]
    assert figures == ["rejected", "chosen"]
    assert "<figcaption>rejected by a reviewer</figcaption>" in page
    assert "1.000" not in page and "<figcaption>0.000</figcaption>" in page
