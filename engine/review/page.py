"""The review page: every scene's picture and candidates, every line with its audio, the flags,
the video, and approve/reject controls; everything from the run is escaped."""

from __future__ import annotations

import html
from typing import Any

from engine.review import decisions
from engine.review.gate import flags_text, item_problem
from engine.review.records import Item, Run
from engine.storyboard import candidate_html, link

_STYLE = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:72rem;
color:#222;background:#faf7f2}video{width:100%;max-height:60vh;background:#000}
.scene{margin:2rem 0;padding:1rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}
.scene img.main{width:36rem;max-width:100%;border-radius:8px}.cands{display:flex;gap:.4rem}
.cands figure{margin:0;font-size:.7rem;text-align:center}.cands img{width:7rem}
.chosen img{outline:3px solid #3a7}.rejected img{outline:3px solid #c33;opacity:.5}
.line{margin:.8rem 0;padding:.4rem;border-top:1px solid #eee}
.who{font-weight:600}.by{font-size:.75rem;padding:.1rem .4rem;border-radius:6px}
.author{background:#e3f1e3}.writer{background:#fde8c8}.flags{color:#a00;font-size:.85rem}
.prompt,.presented{color:#666;font-size:.85rem}.decide{margin:.4rem 0}.note{width:20rem}
.state{margin-left:.6rem;font-size:.85rem}.approved{color:#180}.rejected{color:#a00}
.error{color:#a00;font-weight:600}audio{height:2rem;vertical-align:middle}
"""

_SCRIPT = """
const token = document.querySelector('meta[name=token]').content;
for (const button of document.querySelectorAll('.decide button')) {
  button.addEventListener('click', async () => {
    const box = button.closest('[data-item]'), form = button.closest('.decide');
    const accept = form.querySelector('.accept'), state = form.querySelector('.state');
    const body = {item: box.dataset.item, content: box.dataset.content, decision: button.value,
                  note: form.querySelector('.note').value,
                  accept_flagged: accept ? accept.checked : false};
    state.textContent = 'saving…';
    try {
      const reply = await fetch('/decide', {method: 'POST', body: JSON.stringify(body),
        headers: {'Content-Type': 'application/json', 'X-Storyreel-Token': token}});
      const answer = await reply.json();
      state.textContent = reply.ok ? answer.state : answer.error;
      state.className = 'state ' + (reply.ok ? answer.decision : 'error');
    } catch (error) {
      state.textContent = 'not saved: the review server is not running';
      state.className = 'state error';
    }
  });
}
"""


def file_url(rel: str) -> str:
    """A run file's address on the review server, ready for an attribute."""
    return "/run/" + link(rel)


def state_text(item: Item, data: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, str]:
    """(css class, words) for where an item stands."""
    decision = decisions.decision_for(data, item)
    problem = item_problem(item, decision, decisions.what_changed(data, item))
    if decision is None:
        return "", problem or ""
    words = f"{decision.decision} by {decision.reviewer} at {decision.at}"
    if decision.note:
        words += f": {decision.note}"
    if problem and decision.approved:  # approved, but flags it did not accept
        return "error", problem
    return decision.decision, words


def build_page(run: Run, data: dict[str, dict[str, dict[str, Any]]], token: str,
               nonce: str) -> str:
    esc = html.escape
    name = run.story.name
    head = (f"<!doctype html><meta charset=utf-8><meta name=token content='{esc(token)}'>"
            f"<meta name=referrer content=no-referrer><title>Review: {esc(name)}</title>"
            f"<style>{_STYLE}</style><h1>Review: {esc(name)}</h1>"
            f"<p>Decisions are saved to {esc(str(decisions.decisions_path(run.story)))}.</p>"
            f"<video controls preload=metadata src='{file_url('video.mp4')}'>"
            f"<track kind=captions default src='{file_url('captions.vtt')}'></video>")
    parts = [head, *(_scene_html(run, scene, data) for scene in run.scenes)]
    parts.append(f"<script nonce='{esc(nonce)}'>{_SCRIPT}</script>")
    return "\n".join(parts)


def _scene_html(run: Run, scene: dict[str, Any], data: dict[str, dict[str, dict[str, Any]]]) -> str:
    esc = html.escape
    item = run.item(scene["id"])
    assert item is not None
    cands = "".join(candidate_html(file_url(c["path"]), n, float(c.get("score") or 0),
                                   bool(c.get("chosen")), bool(c.get("rejected")))
                    for n, c in enumerate(scene.get("candidates") or []))
    review = (f"<p class=flags>the image safety check: {esc(scene['review'])}</p>"
              if scene.get("review") else "")
    lines = "".join(_line_html(run.item(f"{scene['id']}:{line['index'] + 1}"), line, data)
                    for line in scene["lines"])
    return (f"<section class=scene {_item_attrs(item)}><h2>{esc(scene.get('title') or item.key)}"
            f"</h2><img class=main src='{file_url(scene['picture']['path'])}' "
            f"alt='{esc(item.key)}'><div class=cands>{cands}</div>"
            f"<p class=prompt>{esc(scene.get('image_prompt') or '')}</p>{review}"
            f"{_presented_html(scene.get('presented'))}"
            f"{_flags_html(item)}{_decide_html(item, data)}{lines}</section>")


def _presented_html(shown: dict[str, Any] | None) -> str:
    """What the scene's approval covers besides its picture (heard and seen in the video):
    `sound: 2 effects, music · begins with circle open · camera zoom in · at least 4 s`."""
    if not shown:
        return ""
    sound = shown.get("sound") or {}
    effects = len(sound.get("sfx") or [])
    heard = [f"{effects} effect{'' if effects == 1 else 's'}" if effects else "",
             "music" if sound.get("music") else ""]
    parts = [("sound: " + ", ".join(h for h in heard if h)) if any(heard) else "",
             f"begins with {shown['transition']}" if shown.get("transition") else "",
             f"camera {shown['camera']}" if shown.get("camera") else "",
             f"at least {shown['duration']:g} s" if shown.get("duration") else ""]
    said = " · ".join(p for p in parts if p)
    return (f"<p class=presented>Approving the scene approves its picture and, as the video "
            f"plays them: {html.escape(said)}</p>" if said else "")


def _line_html(item: Item | None, line: dict[str, Any],
               data: dict[str, dict[str, dict[str, Any]]]) -> str:
    assert item is not None
    esc = html.escape
    audio = line.get("audio")
    player = (f"<audio controls preload=none src='{file_url(audio['path'])}'></audio>"
              if audio else "")
    direction = f" <i>({esc(line['direction'])})</i>" if line.get("direction") else ""
    by = "writer" if line.get("by") == "writer" else "author"
    who = esc(line.get("speaker") or "narrator")
    text = esc(line.get("text") or "")
    return (f"<div class=line {_item_attrs(item)}><span class=who>{who}</span>{direction}: "
            f"<span class=text>{text}</span> "
            f"<span class='by {by}'>{by}</span> {player}{_flags_html(item)}"
            f"{_decide_html(item, data)}</div>")


def _item_attrs(item: Item) -> str:
    esc = html.escape
    return (f"data-item='{esc(item.key)}' data-content='{esc(item.content)}'"
            + (" data-flagged=1" if item.flags else ""))


def _flags_html(item: Item) -> str:
    esc = html.escape
    rows = "".join(
        f"<li>{esc(str(f.get('kind', '')))} {esc(str(f.get('field', '')))} by "
        f"{esc(str(f.get('source', '')))}: {esc(flags_text([f]))} "
        f"({esc(str(f.get('checker', '')))})"
        f"{': ' + esc(str(f['text'])) if f.get('text') else ''}</li>" for f in item.flags)
    return f"<ul class=flags>{rows}</ul>" if rows else ""


def _decide_html(item: Item, data: dict[str, dict[str, dict[str, Any]]]) -> str:
    css, words = state_text(item, data)
    accept = ("<label><input type=checkbox class=accept> I have looked at the flagged content "
              "and approve it anyway</label> " if item.flags else "")
    return (f"<div class=decide><input class=note placeholder='note (needed to reject)'> {accept}"
            "<button value=approved class=approve>Approve</button> "
            "<button value=rejected class=reject>Reject</button>"
            f"<span class='state {css}'>{html.escape(words)}</span></div>")
