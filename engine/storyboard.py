"""storyboard.html: a static page with every scene's picture, candidates, lines and audio."""

from __future__ import annotations

import html
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Callable, Sequence
from urllib.parse import quote

from engine.files import write_atomically

if TYPE_CHECKING:  # annotations only: the sweep page imports `link` without the stages
    from engine.ir import Story
    from engine.stages.draw import Drawn
    from engine.stages.speak import Spoken

_STYLE = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:72rem;
color:#222;background:#faf7f2}
h1{font-weight:600}.scene{display:flex;gap:1.5rem;margin:2rem 0;padding:1rem;background:#fff;
border-radius:12px;box-shadow:0 1px 4px #0002}.scene img.main{width:36rem;border-radius:8px}
.lines{flex:1}.line{margin:.6rem 0}.who{font-weight:600}.by{font-size:.75rem;padding:.1rem .4rem;
border-radius:6px;margin-left:.4rem}.author{background:#e3f1e3}.writer{background:#fde8c8}.review{background:#f8c8c8}
.cands{display:flex;gap:.4rem;margin-top:.5rem}.cands figure{margin:0;font-size:.7rem;
text-align:center}.cands img{width:7rem;border-radius:4px}.chosen img{outline:3px solid #3a7}
.rejected img{outline:3px solid #c33;opacity:.5}.rejected figcaption{color:#a00}.drawn tr.chosen{font-weight:bold}
audio{height:2rem;vertical-align:middle}.prompt{color:#666;font-size:.85rem}
.drawn{color:#666;font-size:.75rem}.drawn dd{margin:0 0 .3rem 1rem}
"""


def link(path: PurePath | str) -> str:
    """A relative path as an attribute value (src, href): URL-quoted, then HTML-escaped, so a
    scene called `O'Malley` or `a&b` still names its file."""
    return html.escape(quote(PurePath(path).as_posix()), quote=True)


def picture_path(scene_id: str) -> PurePath:
    """Where a scene's chosen picture sits in the run folder."""
    return PurePath("scenes") / f"{scene_id}.png"


def candidate_path(scene_id: str, n: int) -> PurePath:
    return PurePath("scenes") / f"{scene_id}-{n}.png"


def audio_path(scene_id: str, index: int) -> PurePath:
    """Where the clip of a scene's line (`index` from 0) sits in the run folder."""
    return PurePath("audio") / f"{scene_id}-{index + 1:02d}.wav"


def write_storyboard(run_dir: Path, story: Story, drawn: Sequence[Drawn],
                     spoken: Sequence[Spoken], place: Callable[[Path, Path], None]) -> Path:
    """Write the page and put the images and clips it shows beside it (scenes/, audio/)."""
    esc = html.escape  # quote=True by default: safe inside quoted attributes too
    clips = {(s.scene_id, s.index): s for s in spoken}
    parts = [f"<!doctype html><meta charset=utf-8><title>{esc(story.text('title') or story.name)}"
             f"</title><style>{_STYLE}</style><h1>{esc(story.text('title') or story.name)}</h1>",
             '<p><a href="video.mp4">video.mp4</a> · <a href="resolved.story">resolved.story</a>'
             ' · <a href="captions.srt">captions.srt</a> · <a href="captions.vtt">captions.vtt</a>'
             ' · <a href="captions.words.vtt">captions.words.vtt</a></p>']
    for scene, picture in zip(story.scenes, drawn):
        main = picture_path(scene.id)
        place(picture.image, run_dir / main)
        cands = []
        if len(picture.candidates) > 1:
            for n, (path, score) in enumerate(zip(picture.candidates, picture.scores)):
                rel = candidate_path(scene.id, n)
                place(path, run_dir / rel)
                cands.append(candidate_html(link(rel), n, score, n == picture.chosen,
                                            n in picture.rejected))
        lines = []
        for i, line in enumerate(scene.lines):
            clip = clips.get((scene.id, i))
            audio = ""
            if clip is not None:
                rel = audio_path(scene.id, i)
                place(clip.audio, run_dir / rel)
                audio = f"<audio controls preload=none src='{link(rel)}'></audio>"
            who = line.speaker or "narrator"
            direction = f" <i>({esc(line.direction)})</i>" if line.direction else ""
            by = "writer" if line.written_by == "llm" else "author"  # as the review page says
            lines.append(f"<div class=line><span class=who>{esc(who)}</span>{direction}: "
                         f"{esc(line.text or '')} <span class='by {by}'>{by}</span> {audio}</div>")
        title = esc(scene.text("title") or scene.id)
        badge = (f" <span class='by review'>needs review: {esc(picture.review)}</span>"
                 if picture.review else "")
        parts.append(
            f"<section class=scene id='{esc(scene.id)}'><div><img class=main src='{link(main)}' "
            f"alt='{title}'><div class=cands>{''.join(cands)}</div></div><div class=lines>"
            f"<h2>{title}{badge}</h2><p class=prompt>{esc(scene.text('image') or '')}</p>"
            f"{_auto_html(picture)}{_drawing_html(picture.drawing)}{''.join(lines)}</div>"
            "</section>")
    page = run_dir / "storyboard.html"
    write_atomically(page, "\n".join(parts).encode())
    return page


def candidate_html(src: str, n: int, score: float, chosen: bool, rejected: bool) -> str:
    """Candidate `n` (`src` ready for an attribute) with its score, or, when a reviewer rejected
    it, saying so instead (its score made it the selector's best once; it is never chosen
    again); the storyboard's and the review page's."""
    css = " class=chosen" if chosen else " class=rejected" if rejected else ""
    caption = "rejected by a reviewer" if rejected else f"{score:.3f}"
    return (f"<figure{css}><img src='{src}' alt='candidate {n}'><figcaption>{caption}"
            "</figcaption></figure>")


def _steering(reference: dict | None) -> str:
    """Whose reference images steered a picture, how and how strongly (`image.reference_mode`)."""
    if not reference or not reference.get("characters"):
        return ""
    return (f"the references of {', '.join(reference['characters'])} "
            f"({reference['mode']}, {reference['steering']:.2f})")


def _auto_html(picture: Drawn) -> str:
    """How `trainedness: auto` chose each character's α: per character, each α with its prompt
    and identity scores, the chosen one in bold."""
    choice = picture.trainedness
    if choice is None:
        return ""

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    rows = "".join(
        f"<tr{' class=chosen' if alpha == c.alpha else ''}><td>{html.escape(c.name)}</td>"
        f"<td>{alpha:g}</td><td>{cell(prompt)}</td><td>{cell(identity)}</td>"
        f"<td>{score:.3f}</td></tr>"
        for c in choice.characters for alpha, prompt, identity, score in c.tried)
    chosen = html.escape(", ".join(f"{c.name} α {c.alpha:g}" for c in choice.characters))
    return (f"<details class=drawn><summary>trainedness auto: {chosen}</summary><table><tr>"
            f"<th>character</th><th>α</th><th>prompt</th><th>identity</th><th>score "
            f"(identity weight {choice.identity_weight:g})</th></tr>{rows}</table></details>")


def _drawing_html(drawing: dict | None) -> str:
    """What the model was handed for the chosen picture: prompts, tokens per encoder, size; or,
    from the procedural illustrator, the words it understood and not, and what it drew."""
    if not drawing:
        return ""
    esc = html.escape
    tokens = ", ".join(f"{name} {n}" for name, n in drawing.get("tokens", {}).items())
    rows = [("prompt", f"{drawing.get('prompt', '')} ({tokens} tokens)" if tokens
             else drawing.get("prompt", "")),
            ("negative prompt", drawing.get("negative_prompt", "")),
            ("left out", "; ".join([*drawing.get("dropped", []),
                                    *drawing.get("negative_dropped", [])])),
            ("drawn at", "×".join(str(side) for side in drawing.get("size", ()))),
            ("understood", ", ".join(drawing.get("understood", ()))),
            ("not understood", ", ".join(drawing.get("not_understood", ()))),
            ("drew", ", ".join(drawing.get("elements", ()))),
            ("poses", ", ".join(f"{who} {pose}" for who, pose in drawing.get("poses", {}).items())),
            ("steered by", _steering(drawing.get("reference")))]
    items = "".join(f"<dt>{esc(name)}</dt><dd>{esc(str(value))}</dd>" for name, value in rows
                    if value)
    return f"<details class=drawn><summary>as drawn</summary><dl>{items}</dl></details>"
