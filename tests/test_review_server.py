"""The review server refuses a wrong token, a foreign Host or Origin, and paths out of the run."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from engine.review.server import ReviewServer
from tests.review_run import make_run, presented, serving, text_flag


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ReviewServer]:
    with serving(make_run(tmp_path, flags=[text_flag("meadow", 1, "Look at the <b>sky</b>!")])
                 ) as server:
        yield server


def ask(server: ReviewServer, method: str, path: str, headers: dict[str, str] | None = None,
        body: bytes | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    """A raw request: the path goes out exactly as written (`..` is not tidied away)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in {"Host": f"127.0.0.1:{server.port}", **(headers or {})}.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body or b"")))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data, response


def decide(server: ReviewServer, body: dict, **headers: str) -> tuple[int, dict]:
    status, data, _ = ask(server, "POST", "/decide", {
        "Content-Type": "application/json", "X-Storyreel-Token": server.token, **headers},
        json.dumps(body).encode())
    return status, json.loads(data)


def test_binds_loopback_only_with_a_long_random_token(served: ReviewServer):
    assert served.server_address[0] == "127.0.0.1"
    assert len(served.token) >= 40 and served.url.endswith(f"/?token={served.token}")
    assert ReviewServer(served.run_dir, "Ada").token != served.token


def test_the_page_needs_the_token(served: ReviewServer):
    assert ask(served, "GET", "/")[0] == 403
    assert ask(served, "GET", "/?token=wrong")[0] == 403
    assert ask(served, "GET", "/run/video.mp4")[0] == 403
    status, page, response = ask(served, "GET", f"/?token={served.token}")
    assert status == 200 and b"data-item='meadow:2'" in page
    assert "SameSite=Strict" in response.getheader("Set-Cookie")
    assert "script-src 'nonce-" in response.getheader("Content-Security-Policy")
    cookie = {"Cookie": f"{served.cookie}={served.token}"}
    assert ask(served, "GET", "/run/video.mp4", cookie)[1] == b"not really a video"


def test_the_video_can_seek(served: ReviewServer):
    cookie = {"Cookie": f"{served.cookie}={served.token}"}
    status, data, response = ask(served, "GET", "/run/video.mp4", {**cookie, "Range": "bytes=4-9"})
    assert (status, data) == (206, b"really")
    assert response.getheader("Content-Range") == "bytes 4-9/18"
    assert ask(served, "GET", "/run/video.mp4", {**cookie, "Range": "bytes=-5"})[1] == b"video"
    assert ask(served, "GET", "/run/video.mp4", {**cookie, "Range": "bytes=99-"})[0] == 416


def test_a_foreign_host_or_origin_is_refused(served: ReviewServer):
    token = f"/?token={served.token}"
    assert ask(served, "GET", token, {"Host": f"evil.example:{served.port}"})[0] == 403
    assert ask(served, "GET", token, {"Host": "127.0.0.1:1"})[0] == 403
    assert ask(served, "GET", token, {"Host": f"localhost:{served.port}"})[0] == 200
    body = {"item": "meadow", "decision": "approved", "note": "", "content": "x"}
    assert decide(served, body, Origin="http://evil.example")[0] == 403
    assert decide(served, body, **{"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert not (served.run_dir.parent / "stories" / "tale.review.yaml").exists()


def test_a_post_needs_the_token_in_its_header_not_the_cookie(served: ReviewServer):
    status, _, _ = ask(served, "POST", "/decide", {
        "Content-Type": "application/json", "Cookie": f"{served.cookie}={served.token}"},
        b"{}")
    assert status == 403


@pytest.mark.parametrize(("length", "status"), [(None, "411"), ("abc", "400"), ("-5", "400"),
                                               ("0", "400"), ("\u00b2", "400"), ("1\u00b9", "400"),
                                               ("99999999", "413")])
def test_a_post_whose_length_is_no_length_is_answered_not_crashed(served: ReviewServer, capfd,
                                                                   length: str | None,
                                                                   status: str):
    import socket

    head = (f"POST /decide HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
            f"Content-Type: application/json\r\nX-Storyreel-Token: {served.token}\r\n"
            + (f"Content-Length: {length}\r\n" if length is not None else "") + "\r\n")
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw:
        raw.sendall(head.encode("latin-1") + b"{}")  # as a header's bytes travel
        answer = raw.makefile("rb").read().decode("latin-1")
    assert answer.split()[1] == status
    assert "Traceback" not in capfd.readouterr().err
    assert decide(served, {"item": "nothing", "decision": "approved"})[0] != 500  # still serving


@pytest.mark.parametrize("path", ["/run/../manifest.json", "/run/../../stories/tale.story",
                                  "/run/%2e%2e/stories/tale.story", "/run//etc/passwd",
                                  "/run/scenes/../../stories/tale.story", "/run/.hydra/config.yaml",
                                  "/run/scenes/escape.png", "/run/nothing.png"])
def test_only_files_inside_the_run_folder_are_served(served: ReviewServer, path: str):
    hydra = served.run_dir / ".hydra"
    hydra.mkdir()
    (hydra / "config.yaml").write_text("secret: no")
    os.symlink(served.run_dir.parent / "stories" / "tale.story",
               served.run_dir / "scenes" / "escape.png")
    status, data, _ = ask(served, "GET", path, {"Cookie": f"{served.cookie}={served.token}"})
    assert status == 404 and b"Tale" not in data and b"secret" not in data


def test_everything_from_the_run_is_escaped(served: ReviewServer):
    page = ask(served, "GET", f"/?token={served.token}")[1].decode()
    assert "Tom &amp; &lt;Jerry&gt; ran." in page and "<b>sky</b>" not in page
    assert "a &lt;i&gt;meadow&lt;/i&gt;" in page and "data-item='O&#x27;Hare'" in page
    assert "/run/scenes/O%27Hare.png" in page


def test_approving_a_flagged_line_needs_the_confirmation(served: ReviewServer):
    from engine.review.records import load_run

    item = load_run(served.run_dir).item("meadow:2")
    body = {"item": "meadow:2", "decision": "approved", "note": "", "content": item.content}
    status, answer = decide(served, body)
    assert status == 409 and "approve it anyway" in answer["error"]
    status, answer = decide(served, {**body, "accept_flagged": True, "note": "fine, it is a sky"})
    assert status == 200 and answer["decision"] == "approved"
    data = yaml.safe_load((served.run_dir.parent / "stories" / "tale.review.yaml").read_text())
    text_sha, audio_sha = item.content.split("+")
    entry = data["lines"]["meadow:2"][text_sha][audio_sha]
    assert entry["note"] == "fine, it is a sky" and entry["accepted_flags"] == sorted(item.flag_ids)


def test_a_decision_about_what_the_page_no_longer_shows_is_refused(served: ReviewServer):
    status, answer = decide(served, {"item": "meadow", "decision": "approved", "note": "",
                                     "content": "0" * 64})
    assert status == 409 and "reload the page" in answer["error"]
    assert decide(served, {"item": "nowhere", "decision": "approved"})[0] == 400


def test_a_rejection_without_a_note_is_refused_as_on_the_command_line(served: ReviewServer):
    from engine.review.records import load_run

    body = {"item": "meadow:1", "decision": "rejected",
            "content": load_run(served.run_dir).item("meadow:1").content}
    for note in ("", "  \n "):
        status, answer = decide(served, {**body, "note": note})
        assert (status, answer) == (400, {"error": "not saved: a rejection needs a reason; "
                                                   "write it in the note"})
    assert not (served.run_dir.parent / "stories" / "tale.review.yaml").exists()
    status, answer = decide(served, {**body, "note": " too quiet "})
    assert status == 200 and answer["decision"] == "rejected"
    data = yaml.safe_load((served.run_dir.parent / "stories" / "tale.review.yaml").read_text())
    text_sha, audio_sha = body["content"].split("+")
    assert data["lines"]["meadow:1"][text_sha][audio_sha]["note"] == "too quiet"


def test_rejecting_a_scene_on_the_page_rejects_its_picture_alone(served: ReviewServer):
    from engine.review.records import load_run

    run = load_run(served.run_dir)
    line, scene = run.item("meadow:1"), run.item("meadow")
    assert decide(served, {"item": "meadow:1", "decision": "approved", "note": "",
                           "content": line.content})[0] == 200
    status, answer = decide(served, {"item": "meadow", "decision": "rejected",
                                     "note": "wrong place", "content": scene.content})
    assert status == 200 and answer["decision"] == "rejected"
    data = yaml.safe_load((served.run_dir.parent / "stories" / "tale.review.yaml").read_text())
    text_sha, audio_sha = line.content.split("+")
    assert data["lines"]["meadow:1"][text_sha][audio_sha]["decision"] == "approved"
    assert data["scenes"]["meadow"][scene.content.partition("+")[0]]["decision"] == "rejected"
    assert "meadow:2" not in data["lines"]


def test_the_page_marks_a_rejected_candidate_and_says_what_a_scene_approval_covers(
        tmp_path: Path):
    from engine.review.page import build_page
    from engine.review.records import load_run

    run = make_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    meadow = manifest["scenes"][0]
    meadow["candidates"] = [{"path": "scenes/meadow-0.png", "sha256": "0" * 64, "score": 1.0,
                             "chosen": False, "rejected": True},
                            {"path": "scenes/meadow-1.png", "sha256": "1" * 64, "score": 0.0,
                             "chosen": True, "rejected": False}]
    meadow["presented"] = presented(sfx=((b"tone", 12.0),), transition="circle <open>")
    (run / "manifest.json").write_text(json.dumps(manifest))
    page = build_page(load_run(run), {"scenes": {}, "lines": {}}, "token", "nonce")
    assert ("<figure class=rejected><img src='/run/scenes/meadow-0.png' alt='candidate 0'>"
            "<figcaption>rejected by a reviewer</figcaption></figure>") in page
    assert "<figcaption>0.000</figcaption>" in page and "1.000" not in page
    assert ("<p class=presented>Approving the scene approves its picture and, as the video "
            "plays them: sound: 1 effect · begins with circle &lt;open&gt;</p>") in page
