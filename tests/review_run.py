"""A small run folder as `storyreel render` leaves it, made directly for the review tests."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.backends.tts.audio import wav_bytes
from engine.review.records import PUBLISHED_FILES

SCENES = {"meadow": ["Tom & <Jerry> ran.", "Look at the <b>sky</b>!"],
          "O'Hare": ["The end."]}
"""Scene ids and their lines; names and text with HTML in them, which must stay text."""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 36), color).save(out, format="PNG")
    return out.getvalue()


def wav(frames: int) -> bytes:
    return wav_bytes(np.zeros(frames), 8000)


def make_run(root: Path, flags: list[dict[str, Any]] | None = None) -> Path:
    """`root/stories/tale.story` and its run `root/run`; returns the run folder."""
    story = root / "stories" / "tale.story"
    story.parent.mkdir(parents=True, exist_ok=True)
    story.write_text("title: Tale\n", encoding="utf-8")
    run = root / "run"
    files: dict[str, bytes] = {"video.mp4": b"not really a video",
                               "resolved.story": b"title: Tale\n",
                               "captions.srt": b"1\n00:00:00,000 --> 00:00:01,000\nHi\n",
                               "captions.vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n",
                               "captions.words.vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\n"
                                                     b"<00:00.000>Hi\n"}
    scenes = []
    for n, (scene, lines) in enumerate(SCENES.items()):
        picture = f"scenes/{scene}.png"
        files[picture] = png((40 * n, 120, 200))
        records = []
        for i, text in enumerate(lines):
            audio = f"audio/{scene}-{i + 1:02d}.wav"
            files[audio] = wav(800 + 100 * i + 10 * n)
            records.append({"index": i, "speaker": "Tom" if i else None, "direction": None,
                            "text": text, "text_sha256": sha(text.encode()),
                            "by": "writer" if i else "author",
                            "audio": {"path": audio, "sha256": sha(files[audio])}})
        scenes.append({"id": scene, "title": scene, "image_prompt": f"a <i>{scene}</i>",
                       "picture": {"path": picture, "sha256": sha(files[picture])},
                       "candidates": [], "review": None, "lines": records,
                       "presented": presented()})
    for rel, data in files.items():
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_bytes(data)
    manifest = {"story": str(story), "scenes": scenes,
                "files": {name: sha(files[name]) for name in
                          (*PUBLISHED_FILES, "resolved.story")}}
    if flags is not None:
        manifest["flags"] = flags
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run


def presented(sfx: tuple[tuple[bytes, float], ...] = (), transition: str | None = None
              ) -> dict[str, Any]:
    """A scene's `presented` as render records it: its sound effects (each file's bytes and
    level), no music, its transition; no camera or duration."""
    return {"sound": {"music": None, "sfx": [{"sha256": sha(data), "seconds": 0.0, "line": None,
                                              "level": level} for data, level in sfx]},
            "transition": transition, "camera": None, "duration": None}


def text_flag(scene: str, line: int | None, text: str,
              category: str = "violence") -> dict[str, Any]:
    """A flag as the text safety check writes it (`line` counts from 0)."""
    return {"kind": "text", "scene": scene, "line": line,
            "field": "line" if line is not None else "image_prompt", "source": "writer",
            "checker": "wordlist", "category": category, "score": 0.91, "span": [0, 3],
            "text": text, "sha256": sha(text.encode())}


@contextmanager
def serving(run: Path, reviewer: str = "Ada") -> Iterator[Any]:
    """The review server on this run folder, answering on a thread until the block ends."""
    from engine.review.server import ReviewServer

    server = ReviewServer(run, reviewer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
