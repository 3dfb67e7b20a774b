"""`storyreel review --approve/--reject` and the publish gate: only exactly what was approved."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from engine.commands import publish as publish_command
from engine.commands import review as review_command
from engine.files import find_root
from engine.review.gate import publish_status
from tests.review_run import make_run, png, presented, sha, text_flag
from tests.test_render import ROOT, SMALL, storyreel


def review(run: Path, *args: str) -> int:
    return review_command.main([str(run), "--reviewer", "Ada", *args])


def publish(run: Path, to: Path) -> int:
    return publish_command.main([str(run), "--to", str(to)])


def decisions_file(run: Path) -> Path:
    return run.parent / "stories" / "tale.review.yaml"


def test_an_unreviewed_run_is_refused_item_by_item_and_nothing_is_copied(tmp_path, capsys):
    run = make_run(tmp_path)
    assert publish(run, tmp_path / "out") == 2
    err = capsys.readouterr().err.splitlines()
    assert err[1:] == ["  scene meadow: not reviewed", "  line meadow:1: not reviewed",
                       "  line meadow:2: not reviewed", "  scene O'Hare: not reviewed",
                       "  line O'Hare:1: not reviewed"]
    assert not (tmp_path / "out").exists()
    assert publish_status(run).startswith("not publishable yet: 5 of 5 scenes and lines")


def test_the_render_line_says_how_many_are_rejected(tmp_path, capsys):
    run = make_run(tmp_path)
    assert review(run, "--approve", "all", "--accept-flagged") == 0
    assert review(run, "--reject", "meadow:1", "--note", "too fast") == 0
    assert publish_status(run) == ("not publishable yet: 1 of 5 scenes and lines need review: "
                                   f"1 rejected (storyreel review {run})")


def test_an_approved_run_publishes_video_captions_and_its_record(tmp_path, capsys):
    run = make_run(tmp_path)
    assert review(run, "--approve", "all", "--note", "lovely") == 0
    assert "publishable: every scene and line is approved" in capsys.readouterr().out
    out = tmp_path / "published"
    assert publish(run, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["captions.srt", "captions.vtt",
                                                     "captions.words.vtt", "publish.json",
                                                     "video.mp4"]
    assert (out / "video.mp4").read_bytes() == (run / "video.mp4").read_bytes()
    record = json.loads((out / "publish.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert record["files"]["video.mp4"] == sha((run / "video.mp4").read_bytes())
    assert record["story"]["resolved_sha256"] == manifest["files"]["resolved.story"]
    # paths as the story repository names them (no one's home folder), outside it as they are
    root = find_root(manifest["story"])
    assert record["story"]["path"] == Path(manifest["story"]).relative_to(root).as_posix()
    assert record["run"] == (run.absolute().relative_to(root).as_posix()
                             if run.absolute().is_relative_to(root) else str(run.absolute()))
    assert record["tool"]["name"] == "storyreel" and record["tool"]["version"]
    meadow = next(i for i in record["items"] if i["item"] == "scene meadow")
    assert meadow["content"].partition("+")[0] == manifest["scenes"][0]["picture"]["sha256"]
    assert sorted(meadow["presented"]) == ["camera", "duration", "sound", "transition"]
    assert (meadow["decision"], meadow["note"], meadow["reviewer"]) == ("approved", "lovely", "Ada")
    assert len(record["items"]) == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_decisions_are_plain_yaml_keyed_by_the_hashes_of_what_was_seen(tmp_path):
    run = make_run(tmp_path)
    assert review(run, "--approve", "meadow:picture", "meadow:2") == 0
    text = decisions_file(run).read_text()
    data = yaml.safe_load(text)
    manifest = json.loads((run / "manifest.json").read_text())
    scene = manifest["scenes"][0]
    line = scene["lines"][1]
    assert data["scenes"]["meadow"][scene["picture"]["sha256"]]["decision"] == "approved"
    entry = data["lines"]["meadow:2"][line["text_sha256"]][line["audio"]["sha256"]]
    assert entry["text"] == "Look at the <b>sky</b>!" and entry["reviewer"] == "Ada"
    assert list(data) == ["lines", "scenes"] and "?" not in text  # sorted, simple keys
    assert "meadow:1" not in data["lines"]


def test_a_rejected_scene_is_refused_with_its_note(tmp_path, capsys):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    capsys.readouterr()
    assert review(run, "--reject", "meadow:picture", "--note", "Tom has three ears") == 0
    # the picture alone, named as the item names it (its lines stay approved)
    assert capsys.readouterr().out.splitlines()[0] == "rejected picture meadow"
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  scene meadow: rejected: Tom has three ears"]
    assert not (tmp_path / "out").exists()


def test_a_rejection_needs_a_note_and_a_known_scene(tmp_path, capsys):
    run = make_run(tmp_path)
    assert review(run, "--reject", "meadow") == 2
    assert review(run, "--approve", "medow") == 2
    assert review(run, "--approve", "meadow:7") == 2
    assert review(run, "--approve", "meadow:picturee") == 2
    err = capsys.readouterr().err
    assert "a rejection needs a reason" in err and "did you mean 'meadow'?" in err
    assert "scene meadow has lines 1 to 2" in err
    assert ("no 'picturee' in scene meadow: name its picture (meadow:picture), a line "
            "(meadow:N; it has lines 1 to 2) or the whole scene (meadow)") in err
    assert not decisions_file(run).exists()


def test_a_flagged_line_needs_accept_flagged_and_nothing_is_saved_without(tmp_path, capsys):
    run = make_run(tmp_path, flags=[text_flag("meadow", 1, "Look at the <b>sky</b>!")])
    assert review(run, "--approve", "all") == 2
    assert "line meadow:2: violence 0.91" in capsys.readouterr().err
    assert not decisions_file(run).exists()
    assert review(run, "--approve", "all", "--accept-flagged") == 0
    assert publish(run, tmp_path / "out") == 0
    record = json.loads((tmp_path / "out" / "publish.json").read_text())
    line = next(i for i in record["items"] if i["item"] == "line meadow:2")
    assert line["accepted_flags"] == line["flags"] and len(line["flags"]) == 1


def test_a_flagged_line_approved_with_its_flags_does_not_block_approving_the_rest(tmp_path,
                                                                                   capsys):
    run = make_run(tmp_path, flags=[text_flag("meadow", 1, "Look at the <b>sky</b>!")])
    assert review(run, "--approve", "meadow:2", "--accept-flagged") == 0
    capsys.readouterr()
    assert review(run, "--approve", "meadow") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["approved picture meadow", "approved line meadow:1",
                       "already approved line meadow:2: its flags accepted earlier"]
    assert review(run, "--approve", "all") == 0
    assert "publishable: every scene and line is approved" in capsys.readouterr().out
    assert publish(run, tmp_path / "out") == 0  # the acceptance was kept, not overwritten
    record = json.loads((tmp_path / "out" / "publish.json").read_text())
    line = next(i for i in record["items"] if i["item"] == "line meadow:2")
    assert line["accepted_flags"] == line["flags"] and len(line["flags"]) == 1


def test_approving_a_scene_leaves_a_rejected_line_rejected_unless_it_is_named(tmp_path, capsys):
    run = make_run(tmp_path)
    assert review(run, "--reject", "meadow:2", "--note", "too  loud") == 0
    assert review(run, "--reject", "O'Hare:picture", "--note", "dark") == 0
    capsys.readouterr()
    assert review(run, "--approve", "meadow") == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "approved picture meadow", "approved line meadow:1",
        "still rejected line meadow:2: too loud (to approve it, name it: --approve meadow:2)"]
    assert review(run, "--approve", "all") == 0
    assert "still rejected picture O'Hare: dark (to approve it, name it: --approve " \
           "O'Hare:picture)" in capsys.readouterr().out
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  line meadow:2: rejected: too loud", "  scene O'Hare: rejected: dark"]
    assert review(run, "--approve", "meadow:2", "O'Hare:picture") == 0
    assert capsys.readouterr().out.splitlines() == [
        "approved line meadow:2", "approved picture O'Hare",
        f"publishable: every scene and line is approved (storyreel publish {run} --to DIR)"]


def test_rejecting_a_scene_rejects_its_picture_and_keeps_its_lines_own_decisions(tmp_path,
                                                                                 capsys):
    run = make_run(tmp_path)
    assert review(run, "--approve", "all", "--note", "lovely") == 0
    assert review(run, "--reject", "meadow:1", "--note", "too fast") == 0
    capsys.readouterr()
    assert review(run, "--reject", "meadow", "--note", "wrong  place") == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "rejected picture meadow",
        ("still rejected line meadow:1: too fast (to reject it with this note instead, name it: "
         "--reject meadow:1)"),
        ("still approved line meadow:2: approved by Ada: lovely (to reject it, name it: "
         "--reject meadow:2)")]
    line = json.loads((run / "manifest.json").read_text())["scenes"][0]["lines"][1]
    entry = yaml.safe_load(decisions_file(run).read_text())["lines"]["meadow:2"][
        line["text_sha256"]][line["audio"]["sha256"]]
    assert (entry["decision"], entry["note"]) == ("approved", "lovely")
    assert publish(run, tmp_path / "out") == 2  # the rejected picture blocks it
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  scene meadow: rejected: wrong place", "  line meadow:1: rejected: too fast"]
    assert review(run, "--reject", "meadow", "meadow:2", "--note", "all of it") == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "rejected picture meadow", "rejected line meadow:2",
        ("still rejected line meadow:1: too fast (to reject it with this note instead, name it: "
         "--reject meadow:1)")]


def test_rejecting_all_rejects_only_what_has_no_decision_of_its_own(tmp_path, capsys):
    run = make_run(tmp_path)
    assert review(run, "--approve", "O'Hare") == 0
    capsys.readouterr()
    assert review(run, "--reject", "all", "--note", "redo") == 0
    assert capsys.readouterr().out.splitlines()[:5] == [
        "rejected picture meadow", "rejected line meadow:1", "rejected line meadow:2",
        ("still approved picture O'Hare: approved by Ada (to reject it, name it: "
         "--reject O'Hare:picture)"),
        ("still approved line O'Hare:1: approved by Ada (to reject it, name it: "
         "--reject O'Hare:1)")]
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  scene meadow: rejected: redo", "  line meadow:1: rejected: redo",
        "  line meadow:2: rejected: redo"]


def test_approving_all_keeps_who_approved_an_item_and_why(tmp_path, capsys):
    run = make_run(tmp_path)
    assert review(run, "--approve", "meadow:1", "--note", "just right") == 0
    capsys.readouterr()
    assert review_command.main([str(run), "--reviewer", "Bo", "--approve", "all",
                                "--accept-flagged"]) == 0
    assert ("already approved line meadow:1: approved by Ada: just right"
            in capsys.readouterr().out.splitlines())
    line = json.loads((run / "manifest.json").read_text())["scenes"][0]["lines"][0]
    entry = yaml.safe_load(decisions_file(run).read_text())["lines"]["meadow:1"][
        line["text_sha256"]][line["audio"]["sha256"]]
    assert (entry["reviewer"], entry["note"]) == ("Ada", "just right")
    assert publish(run, tmp_path / "out") == 0
    capsys.readouterr()
    assert review_command.main([str(run), "--reviewer", "Bo", "--approve", "meadow:1",
                                "--note", "again"]) == 0  # named: decided anew
    entry = yaml.safe_load(decisions_file(run).read_text())["lines"]["meadow:1"][
        line["text_sha256"]][line["audio"]["sha256"]]
    assert (entry["reviewer"], entry["note"]) == ("Bo", "again")


def test_rejecting_a_scene_rejects_a_line_whose_approval_no_longer_counts(tmp_path, capsys):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["flags"] = [text_flag("meadow", 1, "Look at the <b>sky</b>!")]  # found after it
    (run / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert review(run, "--reject", "meadow", "--note", "dark") == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "rejected picture meadow", "rejected line meadow:2",
        ("still approved line meadow:1: approved by Ada (to reject it, name it: "
         "--reject meadow:1)")]


def test_a_flagged_picture_needs_accept_flagged_too(tmp_path, capsys):
    flag = {**text_flag("O'Hare", None, "the picture"), "kind": "image", "field": "picture",
            "category": "nudity"}
    run = make_run(tmp_path, flags=[flag])
    assert review(run, "--approve", "O'Hare:picture") == 2
    assert "picture O'Hare: nudity 0.91" in capsys.readouterr().err
    assert review(run, "--approve", "all", "--accept-flagged") == 0
    assert publish(run, tmp_path / "out") == 0


def test_a_flag_about_nothing_in_the_run_keeps_it_unpublishable(tmp_path, capsys):
    run = make_run(tmp_path, flags=[text_flag("meadow", 5, "gone")])
    review(run, "--approve", "all", "--accept-flagged")
    assert publish(run, tmp_path / "out") == 2
    assert "flag violence 0.91 on meadow:5: about nothing in this run" in capsys.readouterr().err


def test_a_flag_found_after_the_approval_is_unresolved(tmp_path, capsys):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["flags"] = [text_flag("meadow", 1, "Look at the <b>sky</b>!")]
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  line meadow:2: flagged (violence 0.91) and approved without --accept-flagged"]
    assert not (tmp_path / "out").exists()


def test_a_picture_changed_in_the_run_folder_after_approval_is_refused(tmp_path, capsys):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    (run / "scenes" / "meadow.png").write_bytes(png((255, 0, 0)))
    assert publish(run, tmp_path / "out") == 2
    assert "scenes/meadow.png: changed since the render" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_new_render_with_another_picture_needs_a_new_review(tmp_path, capsys):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    redrawn = png((255, 0, 0))
    (run / "scenes" / "meadow.png").write_bytes(redrawn)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenes"][0]["picture"]["sha256"] = sha(redrawn)
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  scene meadow: its picture changed since it was reviewed; review it again"]
    assert review(run, "--approve", "meadow:picture") == 0
    assert publish(run, tmp_path / "out") == 0


def rerendered(run: Path, scene: int, shown: dict) -> None:
    """The run as a render after a story edit leaves it: the same pictures and clips, the
    scene's sound effects, transition, camera or duration as `shown` says."""
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenes"][scene]["presented"] = shown
    (run / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("shown, said", [
    (presented(sfx=((b"a 20 s tone", 12.0),)), "its sound changed"),
    (presented(transition="circle close"), "its transition changed"),
    ({**presented(sfx=((b"a 20 s tone", 12.0),)), "camera": "zoom in", "duration": 9.0},
     "its sound, camera and duration changed")])
def test_a_scene_whose_sound_or_transition_changed_after_approval_needs_a_new_review(
        tmp_path, capsys, shown, said):
    from engine.review import decisions
    from engine.review.page import state_text
    from engine.review.records import load_run

    run = make_run(tmp_path)
    review(run, "--approve", "all")
    rerendered(run, 0, shown)
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        f"  scene meadow: {said} since it was approved; review it again"]
    assert not (tmp_path / "out").exists()
    page = state_text(load_run(run).item("meadow"), decisions.load(decisions_file(run)))
    assert page == ("", f"{said} since it was approved; review it again")  # one rule
    assert review(run, "--approve", "meadow:picture") == 0
    assert publish(run, tmp_path / "out") == 0


def test_an_approval_from_before_scenes_covered_their_sound_needs_a_new_review(tmp_path,
                                                                              capsys):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    data = yaml.safe_load(decisions_file(run).read_text())
    for entries in data["scenes"].values():  # as the file was written before `presented`
        for entry in entries.values():
            del entry["presented"]
    decisions_file(run).write_text(yaml.safe_dump(data))
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        f"  scene {scene}: it was approved before a scene's approval covered its sound, "
        "transition, camera and duration; review it again" for scene in ("meadow", "O'Hare")]
    assert review(run, "--approve", "all") == 0  # a group approval takes them again
    assert publish(run, tmp_path / "out") == 0


def test_a_run_rendered_before_scenes_recorded_their_sound_is_rendered_again(tmp_path, capsys):
    run = make_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    for scene in manifest["scenes"]:
        del scene["presented"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    review(run, "--approve", "all")
    assert publish(run, tmp_path / "out") == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        f"  scene {scene}: rendered before a scene's approval covered its sound, transition and "
        "camera (manifest.json has no `presented`); render it again"
        for scene in ("meadow", "O'Hare")]


@pytest.mark.parametrize("earlier", ["publish", "other"])
def test_a_folder_that_holds_other_files_is_left_alone(tmp_path, capsys, earlier):
    run = make_run(tmp_path)
    review(run, "--approve", "all")
    out = tmp_path / "out"
    out.mkdir()
    (out / ("publish.json" if earlier == "publish" else "notes.txt")).write_text("old")
    status = publish(run, out)
    if earlier == "publish":  # an earlier publish is replaced as a whole
        assert status == 0 and json.loads((out / "publish.json").read_text())["items"]
    else:
        assert status == 2 and "holds other files" in capsys.readouterr().err
        assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path, capsys):
    assert review_command.main([str(tmp_path)]) == 2
    assert publish(tmp_path, tmp_path / "out") == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("is not a run folder (no manifest.json)" in e for e in err)


def test_a_run_folder_that_does_not_exist_is_named_so(tmp_path, capsys):
    gone = tmp_path / "renders" / "owl"
    assert review_command.main([str(gone)]) == 2
    assert publish(gone, tmp_path / "out") == 2
    err = capsys.readouterr().err.splitlines()
    said = (f"error: {gone} does not exist; name a run folder (where `storyreel render` put "
            "video.mp4 and manifest.json)")
    assert err == [f"storyreel review: {said}", f"storyreel publish: {said}"]
    assert not (tmp_path / "out").exists()


def test_a_busy_port_is_named_with_what_to_do(tmp_path, capsys):
    run = make_run(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert review(run, "--port", str(port)) == 2
    said = (f"storyreel review: error: port {port} on 127.0.0.1 is already in use (another "
            "review page, or another program); choose another with --port N, or leave --port "
            "out (or --port 0) for a free one")
    assert capsys.readouterr().err.splitlines() == [said]


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_that_is_no_port_is_refused_with_what_to_give(tmp_path, capsys, port):
    run = make_run(tmp_path)
    with pytest.raises(SystemExit) as refused:
        review(run, "--port", port)
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert (f"storyreel review: error: argument --port: '{port}' is not a port: give 1 to "
            "65535, or 0 (or leave --port out) for a free one") in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_real_render_is_reviewed_and_published_end_to_end(tmp_path):
    """render (not publishable), review --approve all, publish; render again: publishable."""
    story = tmp_path / "stories" / "first-snow.story"
    story.parent.mkdir()
    shutil.copyfile(ROOT / "stories" / "first-snow.story", story)
    run = tmp_path / "run"
    render = ["render", str(story), *SMALL, f"hydra.run.dir={run}",
              f"cache.dir={tmp_path / 'cache'}"]
    done = storyreel(*render)
    assert done.returncode == 0, done.stderr
    assert f"not publishable yet: 9 of 9 scenes and lines need review (storyreel review {run})" \
        in done.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    for scene in manifest["scenes"]:
        assert sha((run / scene["picture"]["path"]).read_bytes()) == scene["picture"]["sha256"]
        for line in scene["lines"]:
            assert sha((run / line["audio"]["path"]).read_bytes()) == line["audio"]["sha256"]
            assert line["by"] == "author"
    assert storyreel("review", str(run), "--approve", "all").returncode == 0
    assert (tmp_path / "stories" / "first-snow.review.yaml").is_file()
    done = storyreel(*render)
    assert "publishable: every scene and line is approved" in done.stderr
    done = storyreel("publish", str(run), "--to", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "video.mp4").read_bytes() == (run / "video.mp4").read_bytes()
    # what the scene adds to the video besides its picture is part of its approval
    story.write_text(story.read_text().replace("transition: crossfade", "transition: wipe left"))
    done = storyreel(*render)
    assert ("not publishable yet: 1 of 9 scenes and lines need review: scene warm-den: its "
            "transition changed since it was approved (storyreel review") in done.stderr
    done = storyreel("publish", str(run), "--to", str(tmp_path / "again"))
    assert done.returncode == 2 and done.stderr.splitlines()[1:] == [
        "  scene warm-den: its transition changed since it was approved; review it again"]
