"""The review page in a real headless Chromium: approve and reject by clicking, read the YAML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from engine.review.records import load_run
from engine.review.server import ReviewServer
from tests.review_run import make_run, serving, text_flag

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.slow  # a real browser: seconds per test

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (scripts/setup.sh --dev)")
expect = playwright_api.expect
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium: `apt-get install chromium` (scripts/setup.sh --dev does "
                "it when run as root)", allow_module_level=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ReviewServer]:
    with serving(make_run(tmp_path, flags=[text_flag("meadow", 1, "Look at the <b>sky</b>!")])
                 ) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


def decisions(server: ReviewServer) -> dict:
    return yaml.safe_load((server.run_dir.parent / "stories" / "tale.review.yaml").read_text())


def test_clicking_approve_and_reject_saves_the_yaml(served: ReviewServer, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.goto(served.url)
    assert page.locator("section.scene").count() == 2
    widths = page.locator("img.main").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert widths == [64, 64]  # the pictures arrived
    assert page.locator("audio").count() == 3 and page.locator("video").count() == 1
    assert page.locator("[data-item='meadow:1'] .text").inner_text() == "Tom & <Jerry> ran."

    scene = page.locator("section[data-item='meadow'] > .decide")
    scene.locator(".note").fill("soft colours")
    scene.locator("button.approve").click()
    expect(scene.locator(".state")).to_have_text(re.compile("^approved by Ada"))
    line = page.locator("[data-item=\"O'Hare:1\"] .decide")
    line.locator(".note").fill("say it slower")
    line.locator("button.reject").click()
    expect(line.locator(".state")).to_have_text(re.compile("^rejected by Ada"))
    run = load_run(served.run_dir)
    data = decisions(served)
    picture = run.item("meadow").content.partition("+")[0]
    assert data["scenes"]["meadow"][picture]["note"] == "soft colours"
    text, audio = run.item("O'Hare:1").content.split("+")
    assert data["lines"]["O'Hare:1"][text][audio] | {"at": ""} == {
        "decision": "rejected", "note": "say it slower", "reviewer": "Ada", "at": "",
        "text": "The end."}
    assert not [e for e in errors if "Content Security Policy" in e]
    page.close()


def test_a_flagged_line_is_approved_only_with_the_box_ticked(served: ReviewServer, browser):
    page = browser.new_page()
    page.goto(served.url)
    flagged = page.locator("[data-item='meadow:2']")
    assert "violence 0.91" in flagged.locator(".flags").inner_text()
    flagged.locator("button.approve").click()
    state = flagged.locator(".state")
    expect(state).to_have_class(re.compile(r"\berror\b"))
    assert "approve it anyway" in state.inner_text()
    assert not (served.run_dir.parent / "stories" / "tale.review.yaml").exists()
    flagged.locator("input.accept").check()
    flagged.locator("button.approve").click()
    expect(state).to_have_class(re.compile(r"\bapproved\b"))
    text, audio = load_run(served.run_dir).item("meadow:2").content.split("+")
    assert decisions(served)["lines"]["meadow:2"][text][audio]["accepted_flags"]
    page.reload()  # the saved decision is shown on a fresh page
    assert page.locator("[data-item='meadow:2'] .state").inner_text().startswith("approved by Ada")
    page.close()


def test_rejecting_without_a_note_is_refused_on_the_page(served: ReviewServer, browser):
    page = browser.new_page()
    page.goto(served.url)
    line = page.locator("[data-item='meadow:1'] .decide")
    assert line.locator(".note").get_attribute("placeholder") == "note (needed to reject)"
    line.locator("button.reject").click()
    state = line.locator(".state")
    expect(state).to_have_class(re.compile(r"\berror\b"))
    assert state.inner_text() == "not saved: a rejection needs a reason; write it in the note"
    assert not (served.run_dir.parent / "stories" / "tale.review.yaml").exists()
    line.locator(".note").fill("too quiet")
    line.locator("button.reject").click()
    expect(state).to_have_text(re.compile("^rejected by Ada"))
    text, audio = load_run(served.run_dir).item("meadow:1").content.split("+")
    assert decisions(served)["lines"]["meadow:1"][text][audio]["note"] == "too quiet"
    page.close()
