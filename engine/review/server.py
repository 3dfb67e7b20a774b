"""The review page's server: 127.0.0.1 only, a per-session token, this run's files only."""

from __future__ import annotations

import hmac
import json
import mimetypes
import os
import re
import secrets
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from engine.review import decisions
from engine.review.page import build_page, state_text
from engine.review.records import RunError, load_run

MAX_BODY = 64 * 1024
_DIGITS = re.compile(r"[0-9]+")
"""A Content-Length: ASCII digits only (`int` would take other scripts' digits too)."""
MAX_NOTE = 2000
_TYPES = {".wav": "audio/wav", ".mp4": "video/mp4", ".vtt": "text/vtt; charset=utf-8",
          ".srt": "text/plain; charset=utf-8", ".story": "text/plain; charset=utf-8",
          ".png": "image/png"}


class ReviewServer(ThreadingHTTPServer):
    """Serves one run's review page until shut down; every request re-reads the run."""

    daemon_threads = True

    def __init__(self, run_dir: Path, reviewer: str, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.run_dir = run_dir.resolve()
        self.reviewer = reviewer
        self.token = secrets.token_urlsafe(32)
        load_run(self.run_dir)  # not a run: say so before serving anything

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    @property
    def cookie(self) -> str:
        return f"storyreel_review_{self.port}"

    def hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a request line holds the token."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if not self._allowed(parse_qs(url.query).get("token", [""])[0] or self._cookie_token()):
            return
        if url.path == "/":
            self._page()
        elif url.path.startswith("/run/"):
            self._file(url.path[len("/run/"):])
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")

    def do_POST(self) -> None:
        if not self._allowed(self.headers.get("X-Storyreel-Token", "")):
            return
        if urlsplit(self.path).path != "/decide":
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")
            return
        if self.headers.get_content_type() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
            return
        said = self.headers.get("Content-Length")
        length = int(said) if said is not None and _DIGITS.fullmatch(said) else None
        if not length or length > MAX_BODY:  # what follows is not read: the connection closes
            self.close_connection = True
            status, error = ((HTTPStatus.LENGTH_REQUIRED, "send the body's length") if said is None
                             else (HTTPStatus.BAD_REQUEST, "send a body and its length")
                             if not length else (HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                                 "body too large"))
            self._json(status, {"error": error})
            return
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "not JSON"})
            return
        status, answer = self._decide(body if isinstance(body, dict) else {})
        self._json(status, answer)

    # ---- guards -------------------------------------------------------------------------------

    def _allowed(self, token: str) -> bool:
        """The Host is ours (no DNS rebinding), a cross-site request is refused, and the token
        is this session's; otherwise 403."""
        origin = self.headers.get("Origin")
        if self.headers.get("Host") not in self.server.hosts():
            reason = "foreign Host"
        elif origin is not None and origin not in {f"http://{h}" for h in self.server.hosts()}:
            reason = "foreign Origin"
        elif self.headers.get("Sec-Fetch-Site") == "cross-site":
            reason = "cross-site request"
        elif not hmac.compare_digest(token.encode(), self.server.token.encode()):
            reason = "wrong or missing token"
        else:
            return True
        self.close_connection = True  # a POST's unread body must not become the next request
        if self.command == "POST":  # the page's script reads JSON
            self._json(HTTPStatus.FORBIDDEN, {"error": f"forbidden: {reason}"})
        else:
            self._send(HTTPStatus.FORBIDDEN, f"forbidden: {reason}\n".encode())
        return False

    def _cookie_token(self) -> str:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie") or "")
        except CookieError:  # a malformed Cookie header is simply no token
            return ""
        morsel = cookie.get(self.server.cookie)
        return morsel.value if morsel is not None else ""

    # ---- answers ------------------------------------------------------------------------------

    def _page(self) -> None:
        try:
            run = load_run(self.server.run_dir)
        except RunError as error:  # the run folder went away or was replaced by something else
            self._send(HTTPStatus.CONFLICT, f"{error}\n".encode())
            return
        data = decisions.load(decisions.decisions_path(run.story))
        nonce = secrets.token_urlsafe(16)
        page = build_page(run, data, self.server.token, nonce).encode()
        csp = (f"default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
               f"script-src 'nonce-{nonce}'; connect-src 'self'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
        self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", {
            "Content-Security-Policy": csp,
            "Set-Cookie": f"{self.server.cookie}={self.server.token}; HttpOnly; "
                          "SameSite=Strict; Path=/"})

    def _file(self, quoted: str) -> None:
        path = self._inside_run(unquote(quoted))
        if path is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")
            return
        kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or \
            "application/octet-stream"
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            wanted = _byte_range(self.headers.get("Range"), size)
            if wanted is None:
                self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"",
                           extra={"Content-Range": f"bytes */{size}"})
                return
            start, end = wanted
            partial = (start, end) != (0, size - 1) and size > 0
            extra = {"Accept-Ranges": "bytes"}
            if partial:
                extra["Content-Range"] = f"bytes {start}-{end}/{size}"
            self._head(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK, kind,
                       end - start + 1 if size else 0, extra)
            handle.seek(start)
            try:
                _copy(handle, self.wfile, end - start + 1 if size else 0)
            except ConnectionError:  # the browser stopped reading (seeking, closing the tab)
                self.close_connection = True

    def _inside_run(self, rel: str) -> Path | None:
        """The run's regular file `rel` names; None for anything outside it (`..`, absolute
        paths, symlinks leading out) or hidden (Hydra's record, staging, locks)."""
        parts = PurePosixPath(rel).parts
        if not rel or rel.startswith("/") or "\\" in rel or "\0" in rel or any(
                part in ("", ".", "..") or part.startswith(".") for part in parts):
            return None
        path = (self.server.run_dir / rel).resolve()
        if self.server.run_dir not in path.parents or not path.is_file():
            return None
        return path

    def _decide(self, body: dict[str, Any]) -> tuple[HTTPStatus, dict[str, str]]:
        try:
            run = load_run(self.server.run_dir)
        except RunError as error:
            return HTTPStatus.CONFLICT, {"error": f"not saved: {error}"}
        item = run.item(str(body.get("item", "")))
        decision, note = body.get("decision"), body.get("note", "")
        if item is None or decision not in decisions.DECISIONS or not isinstance(note, str) \
                or len(note) > MAX_NOTE:
            return HTTPStatus.BAD_REQUEST, {"error": "not a decision about this run"}
        if body.get("content") != item.content:
            return HTTPStatus.CONFLICT, {"error": "not saved: this changed since the page was "
                                                  "loaded (a new render?); reload the page"}
        path = decisions.decisions_path(run.story)
        try:
            decisions.decide(path, [item], decision, note, self.server.reviewer,
                             body.get("accept_flagged") is True)
        except decisions.NeedsNote:
            return HTTPStatus.BAD_REQUEST, {"error": "not saved: a rejection needs a reason; "
                                                     "write it in the note"}
        except decisions.NeedsAcceptFlagged:
            return HTTPStatus.CONFLICT, {"error": "not saved: this is flagged; tick “approve it "
                                                  "anyway” to approve it"}
        css, words = state_text(item, decisions.load(path))
        return HTTPStatus.OK, {"decision": css or decision, "state": words}

    def _json(self, status: HTTPStatus, answer: dict[str, str]) -> None:
        self._send(status, json.dumps(answer).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, kind: str = "text/plain; charset=utf-8",
              extra: dict[str, str] | None = None) -> None:
        self._head(status, kind, len(body), extra or {})
        self.wfile.write(body)

    def _head(self, status: HTTPStatus, kind: str, length: int, extra: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(length),
                            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                            "Referrer-Policy": "no-referrer", **extra}.items():
            self.send_header(name, value)
        self.end_headers()


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a `Range: bytes=a-b` request (the whole file without one, so the
    video can seek); None when it asks for bytes the file does not have."""
    whole = (0, max(size - 1, 0))
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if match is None or match.groups() == ("", ""):
        return whole
    first, last = match.groups()
    if not first:  # the last N bytes
        return (max(size - int(last), 0), size - 1) if size and int(last) else None
    start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


def _copy(source: BinaryIO, target: BinaryIO, count: int) -> None:
    while count > 0:
        chunk = source.read(min(count, 1 << 16))
        if not chunk:
            break
        target.write(chunk)
        count -= len(chunk)
