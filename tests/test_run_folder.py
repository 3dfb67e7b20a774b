"""A run folder's commit: a Ctrl-C during it waits until the run is whole in the folder."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from engine import run_folder
from engine.run_folder import MANIFEST, RunFolder


def test_a_ctrl_c_during_the_commit_waits_until_the_run_is_in_place(tmp_path: Path,
                                                                     monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "old.txt").write_text("the previous run's")
    (folder / MANIFEST).write_text(json.dumps({"outputs": ["old.txt"]}))
    real = os.replace
    pressed = []

    def replace_then_ctrl_c(source, target):
        real(source, target)
        if not pressed:  # Ctrl-C after the first output is in place
            pressed.append(target)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(run_folder.os, "replace", replace_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        with RunFolder(folder) as run:
            for name in ("a.txt", "b.txt", "scenes/c.txt"):
                (run.staging / name).parent.mkdir(parents=True, exist_ok=True)
                (run.staging / name).write_text(name)
            run.commit(lambda path, outputs: path.write_text(json.dumps({"outputs": outputs})))
    assert pressed
    assert json.loads((folder / MANIFEST).read_text())["outputs"] == ["a.txt", "b.txt",
                                                                       "scenes/c.txt"]
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) \
        == ["a.txt", "b.txt", MANIFEST, "scenes/c.txt"]  # whole: the old output gone, no staging
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
