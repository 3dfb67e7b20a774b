"""An OpenAI-compatible server on 127.0.0.1 (chat completions, moderations, speech) that plays a
script of answers and faults."""

from __future__ import annotations

import io
import json
import math
import socket
import struct
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], bytes]
Behaviour = Callable[[dict[str, Any]], Answer]
"""Gets the request's JSON body, with its headers (lower-case names) added under `_headers`."""


def completion_body(content: str, prompt_tokens: int = 120, completion_tokens: int = 80) -> bytes:
    return json.dumps({
        "id": "chatcmpl-loopback", "object": "chat.completion", "created": 1700000000,
        "model": "loopback-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }).encode()


JSON = {"Content-Type": "application/json"}
ROUTES = ("/v1/chat/completions", "/v1/moderations", "/v1/audio/speech")
"""What the server answers (`LoopbackServer.paths` records which was asked)."""


def reply(content: str | dict[str, Any], prompt_tokens: int = 120,
          completion_tokens: int = 80) -> Behaviour:
    """A 200 chat completion whose message is `content` (a dict is sent as its JSON text)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return lambda request: (200, JSON, completion_body(text, prompt_tokens, completion_tokens))


def moderation(scores: dict[str, float], flagged: bool = False) -> Behaviour:
    """A 200 moderation result with these `category_scores` (as `omni-moderation-latest` sends)."""
    body = json.dumps({"id": "modr-loopback", "model": "omni-moderation-latest", "results": [{
        "flagged": flagged, "categories": {name: score >= 0.5 for name, score in scores.items()},
        "category_scores": scores,
        "category_applied_input_types": {name: ["text"] for name in scores}}]}).encode()
    return lambda request: (200, JSON, body)


def status(code: int, headers: dict[str, str] | None = None,
           message: str = "loopback says no") -> Behaviour:
    body = json.dumps({"error": {"message": message, "type": "loopback", "code": code}}).encode()
    return lambda request: (code, JSON | (headers or {}), body)


def echoing_key(content: str | dict[str, Any] = "{authorization}") -> Behaviour:
    """A 200 completion whose message repeats the request's Authorization header (`Bearer KEY`)
    wherever `content` (a dict is sent as its JSON text) says `{authorization}`: a server that
    echoes the key back, as some proxies do in their error pages."""
    text = content if isinstance(content, str) else json.dumps(content)

    def behave(request: dict[str, Any]) -> Answer:
        said = request["_headers"].get("authorization", "")
        return 200, JSON, completion_body(text.replace("{authorization}", said))
    return behave


def hang(seconds: float) -> Behaviour:
    """Answers only after `seconds`: past the client's timeout."""
    def behave(request: dict[str, Any]) -> Answer:
        time.sleep(seconds)
        return 200, JSON, completion_body("{}")
    return behave


def garbage() -> Behaviour:
    return lambda request: (200, JSON, b"<html><body>502 Bad Gateway (but as a 200)</body></html>")


def truncated(content: str | dict[str, Any]) -> Behaviour:
    """A completion body cut in half: the connection delivers it all, the JSON is incomplete."""
    full = completion_body(content if isinstance(content, str) else json.dumps(content))
    return lambda request: (200, JSON, full[: len(full) // 2])


def rejecting_json_schema(then: Behaviour) -> Behaviour:
    """Like servers without structured output: 400 for `json_schema`, else behave as `then`."""
    def behave(request: dict[str, Any]) -> Answer:
        if (request.get("response_format") or {}).get("type") == "json_schema":
            return status(400, message="response_format json_schema is not supported")(request)
        return then(request)
    return behave


def rejecting_max_tokens(then: Behaviour) -> Behaviour:
    """Like OpenAI's newer models: 400 for `max_tokens`, else behave as `then`."""
    def behave(request: dict[str, Any]) -> Answer:
        if "max_tokens" in request:
            return status(400, message="Unsupported parameter: 'max_tokens' is not supported "
                                       "with this model. Use 'max_completion_tokens' instead.")(
                request)
        return then(request)
    return behave


def wav_body(seconds: float = 0.6, rate: int = 24_000, hz: float = 220.0) -> bytes:
    """A mono 16-bit WAV of a tone, as /v1/audio/speech sends with response_format=wav."""
    samples = [round(12000 * math.sin(2 * math.pi * hz * i / rate))
               for i in range(round(seconds * rate))]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


def speech(seconds: float = 0.6, hz: float = 220.0) -> Behaviour:
    """A 200 speech answer: a WAV tone `seconds` long."""
    return lambda request: (200, {"Content-Type": "audio/wav"}, wav_body(seconds, hz=hz))


def not_audio() -> Behaviour:
    """A 200 speech answer whose body is no audio at all."""
    return lambda request: (200, {"Content-Type": "audio/wav"}, b"RIFF, but not really")


class LoopbackServer:
    """Serves ROUTES from a queue of behaviours; records every request it gets."""

    def __init__(self, *behaviours: Behaviour, default: Behaviour | None = None):
        self.script: deque[Behaviour] = deque(behaviours)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") not in ROUTES:
                    self._send(*status(404, message=f"no route {self.path}")({}))
                    return
                request = json.loads(raw or b"{}")
                with server._lock:
                    server.paths.append(self.path.rstrip("/"))
                headers = {k.lower(): v for k, v in self.headers.items()}
                behaviour = server._next(request, headers)
                self._send(*behaviour(request | {"_headers": headers}))

            def _send(self, code: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(code)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _next(self, request: dict[str, Any], headers: dict[str, str]) -> Behaviour:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            if self.script:
                return self.script.popleft()
        if self.default is not None:
            return self.default
        return status(500, message="the loopback script is exhausted")

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def refused_url() -> str:
    """A 127.0.0.1 URL where nothing listens: the port was bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
