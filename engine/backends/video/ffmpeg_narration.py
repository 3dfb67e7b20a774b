"""`video=ffmpeg`'s narration as AAC when the request brings none: a background ffmpeg, kept."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import tempfile
from pathlib import Path

from engine.backends.video.ffmpeg_tool import AAC_CODER, BITEXACT, ffmpeg_exe, ffmpeg_version
from engine.errors import BackendError
from engine.files import reserve_beside

log = logging.getLogger(__name__)

NARRATION_VERSION = 2  # 2: AAC_CODER
"""Bumped when the narration's AAC is made differently."""


class NarrationEncode:
    """The narration as AAC-LC 48 kHz in `workdir`: reused when there, else a background ffmpeg."""

    def __init__(self, wav: Path, workdir: Path, bitrate: str):
        with open(wav, "rb") as handle:
            sound = hashlib.file_digest(handle, "sha256").hexdigest()
        key = {"version": NARRATION_VERSION, "ffmpeg": ffmpeg_version(), "codec": "aac",
               "bitrate": bitrate, "rate": 48000, "wav": sound}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        self.path = workdir / f"aac-{digest[:32]}.m4a"
        self.process: subprocess.Popen | None = None
        self.temp: Path | None = None
        if self.path.exists():
            os.utime(self.path)  # last use, for whoever cleans the workdir
            return
        command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                   "-i", str(wav), "-map", "0:a:0", "-c:a", "aac", "-aac_coder", AAC_CODER,
                   "-b:a", bitrate, "-ar", "48000", *BITEXACT, "-f", "mp4"]
        self.temp, self.errors = reserve_beside(self.path), tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen([*command, str(self.temp)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=self.errors)
        except BaseException:
            self.abandon()
            raise

    def finish(self) -> Path:
        """The AAC file, once ffmpeg has written it (BackendError when it failed)."""
        if self.process is not None:
            code = self.process.wait()
            if code != 0:
                self.errors.seek(0)
                message = self.errors.read().decode(errors="replace").strip()[-800:]
                self.abandon()
                raise BackendError("video=ffmpeg", f"encoding the narration failed "
                                   f"(ffmpeg exit {code}): {message}")
            os.replace(self.temp, self.path)
            self.abandon()  # it has exited: this only closes its error log
            log.debug("encoded the narration → %s", self.path.name)
        return self.path

    def abandon(self) -> None:
        """Stop the encode if it still runs (another step failed); remove its partial file."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.temp is not None:
            self.errors.close()
            self.temp.unlink(missing_ok=True)
        self.process = self.temp = None
