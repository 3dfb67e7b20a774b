"""The offline writer: fills a story's holes from its own words through hash-chosen templates."""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Iterable

from engine.backends.llm import (LineBrief, Rejected, SceneBrief, WriteRequest, WriteResult,
                                 WrittenLine, WrittenScene)
from engine.backends.llm import offline_templates as templates
from engine.backends.llm.offline_picker import TemplatePicker, alone, digest
from engine.backends.llm.offline_words import (Premise, PremiseShape, Setting, Who, cap, join,
                                               quoted, strip_article, title_case,
                                               unique_scene_id, with_time_of_day)
from engine.backends.tts.delivery import visible_direction
from engine.dsl.directions import english_direction
from engine.errors import BackendError

log = logging.getLogger(__name__)

_WORRY = re.compile(r"\b(oh no|lost|afraid|scared|where|help|dear|worried|alone|dark)\b", re.I)
_JOY = re.compile(r"\b(hooray|yay|wonderful|happy|did it|love|best)\b", re.I)
_ACTIONS = {"worried": "looking worried", "sad": "looking sad", "happy": "smiling happily",
            "whisper": "smiling shyly", "sleepy": "yawning sleepily", "brave": "standing bravely",
            "curious": "looking curious", "grumpy": "frowning", "surprised": "looking amazed"}
_BEAT_ACTIONS = {"opening": "smiling", "problem": "looking worried", "attempt": "walking along",
                 "turning": "looking amazed", "ending": "smiling happily",
                 "scene": "looking around"}


class OfflineWriter:
    """A deterministic writer: the same request gives the same text, byte for byte."""

    def __init__(self, language: str = "en", max_dialogue: int = 3,
                 detail_from_age: int = 6) -> None:
        self.language = language
        self.max_dialogue = max(1, max_dialogue)
        self.detail_from_age = detail_from_age

    def identity(self) -> dict[str, Any]:
        return {"backend": "offline", "templates": templates.TEMPLATE_VERSION,
                "prompts": 2,  # 2: a scene with no setting and no one in it is drawn by its title
                "language": self.language,
                "max_dialogue": self.max_dialogue, "detail_from_age": self.detail_from_age}

    def write(self, request: WriteRequest) -> WriteResult:
        language = (request.language or self.language or "en").lower()
        if not language.startswith("en"):
            _refuse_lines_in(language, request)
            log.info("offline writer: image prompts in English for a %r story", language)
        job = _Job(request, self)
        if not request.scenes and request.scene_count > 0:
            return WriteResult(job.draft(request.scene_count))
        return WriteResult(tuple(job.complete(i, s) for i, s in enumerate(request.scenes)))


def _refuse_lines_in(language: str, request: WriteRequest) -> None:
    """The templates are English: a story in another language with lines to write is refused
    (image prompts, which the illustrator reads, are still written in English)."""
    if not request.scenes and request.scene_count > 0:
        where = "the premise"
    else:
        holes = [s.id for s in request.scenes if s.lines_to_write]
        if not holes:
            return
        where = f"scene {holes[0]}" + (f" (and {len(holes) - 1} more)" if len(holes) > 1 else "")
    raise BackendError("llm=offline", f"the offline writer writes English only, and this "
                       f"story (language: {language}) has lines for it to write",
                       where=where, hint="write those lines in the story, or choose a writer "
                       "that writes the language: llm=openai (any OpenAI-compatible server) or "
                       "llm=transformers")


class _Job:
    """One write: the story's words, the template picker, and the scene-by-scene work."""

    def __init__(self, request: WriteRequest, writer: OfflineWriter) -> None:
        self.request = request
        self.max_dialogue = writer.max_dialogue
        ages = [int(n) for n in re.findall(r"\d+", request.audience or "")]
        youngest = min(ages) if ages else 4
        self.young = youngest < writer.detail_from_age
        self.briefs = {c.name: c for c in request.characters}
        self.cast = [c.name for c in request.characters]
        self.shape = PremiseShape.read(request.premise)
        # With no characters, the one the premise is about speaks, though only through the
        # narrator: a WrittenScene may only name characters the story declares.
        self.voice = None if self.cast or not self.shape else self.shape.protagonist()
        self.hero = self.cast[0] if self.cast else self.voice
        # The premise tells who its hero is ("a turtle who..."): then it opens the story, not
        # "a turtle called Turtle" (a cast the premise does not name is introduced by the cast).
        self.premise_hero = bool(self.shape and self.hero
                                 and self.hero == self.shape.protagonist())
        self.premise = Premise.read(request.premise, request.title)
        self.told: set[str] = set()  # scenes whose hero already spoke the premise
        self.picker = TemplatePicker(str(digest(templates.TEMPLATE_VERSION, request.title,
                                          request.premise, request.style, request.audience,
                                          *self.cast)))

    def who(self, name: str) -> Who:
        if name == self.voice and self.shape and name not in self.briefs:
            head = self.shape.head.lower()
            kind = head if head in templates.KINDS else None
            return Who(name, "" if name != cap(head) else f"a little {head}", kind, ())
        return Who.of(self.briefs.get(name), name)

    def beat(self, index: int, count: int) -> str:
        if count == 1:
            return "scene"
        if index == 0:
            return "opening"
        if index == count - 1:
            return "ending"
        if index == 1 and count >= 3:
            return "problem"
        if index == count - 2 and count >= 4:
            return "turning"
        return "attempt"

    def slots(self, setting: Setting, present: list[str], speaker: str | None = None,
              prev: str | None = None) -> dict[str, str | None]:
        hero = speaker or (present[0] if present else self.hero)
        others = [n for n in present if n != speaker]
        who = self.who(hero) if hero else None
        time = setting.time
        p = self.premise
        return {
            "name": speaker, "hero": hero, "prev": prev,
            "friend": others[0] if others else None,
            "names": join(present), "intro": who.intro(self.young) if who else None,
            "kind": who.kind if who else None,
            "sound": templates.SOUNDS.get(who.kind or "") if who else None,
            "place": setting.place, "where": setting.where, "where_cap": cap(setting.where),
            "thing": setting.things[0], "thing_plain": strip_article(setting.things[0]),
            "time": time, "time_cap": cap(time),
            "today": "tonight" if time in ("night", "evening") else "today",
            "premise": (self.request.premise or "").strip().rstrip(".") or None,
            "fear": p.fear, "want": p.want,
            "lost": p.lost,
            "lost_mine": re.sub(r"^(her|his|its|their)\b", "my", p.lost) if p.lost else None,
        }

    # -- dialogue and narration ----------------------------------------------------------------

    def dialogue(self, scene_key: str, index: int | str, speaker: str, direction: str | None,
                 previous: WrittenLine | None, beat: str, setting: Setting,
                 present: list[str]) -> str:
        """A line in character: its direction first, else a reaction to the line before it."""
        prev = previous.speaker if previous and previous.speaker not in (None, speaker) else None
        slots = self.slots(setting, present, speaker, prev)
        own = f"{speaker}'s "
        for slot in ("where", "thing", "thing_plain"):
            slots[slot] = (slots[slot] or "").replace(own, "my ") or None
        mood = _mood(direction)
        is_hero = speaker == self.hero
        lines = templates.LINES
        told = scene_key in self.told
        if mood:
            pools = [lines[mood]]
        elif prev and previous is not None and previous.text.rstrip().endswith("?"):
            where = re.search(r"\bwhere\b", previous.text, re.I)
            pools = [lines["answer_where" if where else "answer"]]
        elif prev and previous is not None and _WORRY.search(previous.text):
            pools = [lines["comfort"]]
        elif prev and previous is not None and _JOY.search(previous.text):
            pools = [lines["cheer"] + lines["happy"]]
        elif beat == "problem" and is_hero and not told:
            pools = [lines["fear"] + lines["lost"], lines["worried"]]
        elif beat == "attempt":
            pools = [lines["want"] if is_hero and not told else (),
                     lines["brave"] + lines["curious"]]
        elif beat == "turning":
            pools = [lines["surprised"]]
        elif beat == "ending":
            pools = [lines["learned"] if is_hero and not told else (),
                     lines["happy"] + (lines["sleepy"] if setting.time == "night" else ())]
        else:
            pools = [lines["neutral"] + lines["curious"]]
        # Some templates speak of what the hero lost in the first person.
        slots["lost"] = slots["lost_mine"]
        pools = [*pools, lines["neutral"]]
        text = self.picker.pick([*(pools if slots["friend"] else alone(pools)), ("Oh!",)],
                                slots, scene_key, index, speaker)
        if any(self.picker.last in lines[k] for k in ("fear", "lost", "want", "learned")):
            self.told.add(scene_key)
        return text

    def _said_as(self) -> str | None:
        """How the line just written is said: the direction of its template's mood."""
        mood = next((k for k, pool in templates.LINES.items() if self.picker.last in pool), None)
        return templates.SAID_AS.get(mood or "")

    def narration(self, scene_key: str, index: int | str, beat: str, setting: Setting,
                  present: list[str], first_scene: bool) -> str:
        slots = self.slots(setting, present)
        story = templates.NARRATION
        pools = {"problem": [story["fear"] + story["lost"], story["problem"]],
                 "ending": [story["wished" if self.premise.wished else "learned"],
                            story["ending"]]}.get(beat, [story.get(beat, ())])
        if len(present) < 2:
            pools = alone(pools)
        quiet = ("It was a quiet {time} {where}.",)
        if first_scene and slots["premise"] and (self.premise_hero or not self.cast):
            # The premise introduces its hero (or there is no one to): it opens the story, then
            # the place.
            opening = self.shape.opening() if self.shape else self.picker.pick(
                [story["premise"]], slots, scene_key, "premise")
            text = opening + " " + self.picker.pick([story["home"], quiet], slots, scene_key,
                                                    index, "home")
        else:
            text = self.picker.pick([*pools, story["scene"], quiet], slots, scene_key, index,
                                    "narration")
            if first_scene and slots["premise"]:
                text += " " + (self.shape.story_of() if self.shape else self.picker.pick(
                    [story["premise"]], slots, scene_key, "premise"))
        if not self.young:
            text += " " + self.picker.pick([templates.DETAIL, ("There was so much to see.",)],
                                           slots, scene_key, index, "detail")
        return text

    def image_prompt(self, setting: Setting, present: list[str], lines: Iterable[WrittenLine],
                     beat: str, title: str) -> str:
        """What to draw: the setting and who is in it, doing what; the scene's `title` when it
        has neither."""
        moods = {}
        for line in lines:
            if line.speaker and line.speaker not in moods:
                # a picture shows a face and a pose, not a voice: `whispering` draws nothing
                moods[line.speaker] = _mood(visible_direction(line.direction))
        # The present characters by name and what they do: the draw stage adds each one's look
        # (description, tags) and the story's style as they are when it draws, so a prompt
        # `fill --write` kept in the story does not go stale when either is edited.
        acting = _BEAT_ACTIONS.get(beat, "smiling")
        parts = [f"{name}, {_ACTIONS.get(moods.get(name) or '', acting)}" for name in present]
        if not present and self.voice:
            who = self.who(self.voice)
            parts.append(f"{cap(who.description or self.voice)}, {acting}")
        scene = [cap(setting.text)] if setting.text else [] if parts else [cap(title)]
        return ". ".join([*scene, *parts]) + ". Picture book illustration."

    # -- whole scenes ---------------------------------------------------------------------------

    def complete(self, index: int, scene: SceneBrief) -> WrittenScene:
        """An authored scene with its holes filled; the author's lines pass through unchanged."""
        count = len(self.request.scenes)
        beat = self.beat(index, count)
        setting = Setting.read(scene.setting)
        present = list(scene.characters)
        lines: list[WrittenLine] = []
        if scene.lines:
            for number, line in enumerate(scene.lines):
                lines.append(self._fill(scene.id, number, line, lines, beat, setting, present))
        elif not scene.wordless:
            present = present or self._pair(index)
            lines = self._invent(scene.id, beat, setting, present, first_scene=index == 0,
                                 rejected=scene.rejected_lines)
        title = scene.title or cap(scene.id.replace("-", " ").replace("_", " "))
        # The author's lines set the mood; a guessed beat would only contradict them.
        image = scene.image or self.image_prompt(setting, present, lines,
                                                 "opening" if scene.lines else beat, title)
        return WrittenScene(scene.id, title, scene.setting or "", tuple(present), image,
                            tuple(lines))

    def _pair(self, index: int) -> list[str]:
        """Who is in a scene the author left empty: the hero and a friend, turn about."""
        if len(self.cast) <= 2:
            return list(self.cast)
        return [self.cast[0], self.cast[1 + index % (len(self.cast) - 1)]]

    def _fill(self, scene_id: str, number: int, line: LineBrief, before: list[WrittenLine],
              beat: str, setting: Setting, present: list[str]) -> WrittenLine:
        if line.text is not None:
            return WrittenLine(line.speaker, line.text, line.direction)
        if line.speaker is None:
            def write(key: int | str) -> str:
                return self.narration(scene_id, key, beat, setting, present, first_scene=False)
        else:
            def write(key: int | str) -> str:
                return self.dialogue(scene_id, key, str(line.speaker), line.direction,
                                     before[-1] if before else None, beat, setting,
                                     present or [str(line.speaker)])
        return WrittenLine(line.speaker, self._avoiding(line.rejected, write, number),
                           line.direction)

    def _invent(self, key: str, beat: str, setting: Setting, present: list[str],
                first_scene: bool, rejected: tuple[Rejected, ...] = ()) -> list[WrittenLine]:
        lines = [WrittenLine(None, self._avoiding(rejected, lambda n: self.narration(
            key, n, beat, setting, present, first_scene), 0))]
        if not present and self.voice:
            voice = self.voice
            for number in range(1 + digest(self.picker.root, key, "count") % 2):
                turn = digest(self.picker.root, key, number, "said")
                lines.append(WrittenLine(None, self._avoiding(
                    rejected, lambda n, turn=turn: quoted(
                        self.dialogue(key, n, voice, None, lines[-1], beat, setting, [voice]),
                        voice, turn), number + 1)))
            return lines
        if not present:
            return lines
        most = self.max_dialogue if len(present) > 1 else min(2, self.max_dialogue)
        count = 1 + digest(self.picker.root, key, "count") % most
        for number in range(count):
            speaker = present[number % len(present)]
            text = self._avoiding(rejected, lambda n, speaker=speaker: self.dialogue(
                key, n, speaker, None, lines[-1], beat, setting, present), number + 1)
            lines.append(WrittenLine(speaker, text, self._said_as()))
        return lines

    def _avoiding(self, rejected: tuple[Rejected, ...], write: Callable[[int | str], str],
                  number: int) -> str:
        """`write(number)`, unless a reviewer rejected that very text: then a line chosen again
        with the notes in the choice, until one is none of the rejected texts (the same notes
        give the same line; a discarded try leaves no trace in what later lines choose)."""
        texts = {r.text.strip() for r in rejected}
        used, told = set(self.picker.used), set(self.told)
        text = write(number)
        if text.strip() not in texts:
            return text
        notes = digest(*(f"{r.text}\x1e{r.note}" for r in rejected))
        self.picker.avoid = frozenset(texts)
        try:
            for attempt in range(len(texts) + 8):
                self.picker.used, self.told = set(used), set(told)
                text = write(f"{number}/{notes}/{attempt}")
                if text.strip() not in texts:
                    break
        finally:
            self.picker.avoid = frozenset()
        return text

    def draft(self, count: int) -> tuple[WrittenScene, ...]:
        """`count` scenes around the premise: an opening, a problem, tries, a turn, an ending."""
        settings = self._arc_settings(count)
        scenes: list[WrittenScene] = []
        ids: set[str] = set()
        for index in range(count):
            beat = self.beat(index, count) if count > 1 else "opening"
            present = self._arc_cast(beat, index)
            setting = Setting.read(settings[index])
            slots = self.slots(setting, present)
            titles = templates.TITLES.get(beat, templates.TITLES["attempt"])
            if index and setting.place != Setting.read(settings[0]).place:
                titles = tuple(t for t in titles if "Home" not in t)  # not home: not "Home Again"
            title = title_case(self.picker.pick([titles, ("A New Day",)], slots, "title", index))
            scene_id = unique_scene_id(title, index, ids)
            lines = self._invent(scene_id, beat, setting, present, first_scene=index == 0)
            if index == count - 1:
                lines[0] = WrittenLine(None, lines[0].text + " The end.")
            image = self.image_prompt(setting, present, lines, beat, title)
            scenes.append(WrittenScene(scene_id, title, setting.text, tuple(present), image,
                                       tuple(lines)))
        return tuple(scenes)

    def _arc_cast(self, beat: str, index: int) -> list[str]:
        if not self.cast:
            return []
        friends = self.cast[1:]
        if beat in ("opening", "problem") or not friends:
            return [self.hero]
        if beat == "ending":
            return self.cast[:3]
        return [self.hero, friends[index % len(friends)]]

    def _arc_settings(self, count: int) -> list[str]:
        """Places the premise names (else the hero's home and the road), time moving forward."""
        words = f"{self.request.premise or ''} {self.request.title}".lower()
        named = [place for word, place in templates.PLACES.items()
                 if re.search(rf"\b{word}", words)]
        kind = self.who(self.hero).kind if self.hero else None
        home = templates.HOMES.get(kind or "", "a sunny meadow by a little house")
        road = [p for p in named if p != home] or list(templates.ROAD)
        start = digest(self.picker.root, "road") % len(road)
        settings = []
        for index in range(count):
            if index == 0 or index == count - 1:
                place = home if not named or index == 0 else named[0]
            else:
                place = road[(start + index) % len(road)]
            settings.append(with_time_of_day(place, index, count))
        return settings


def _mood(direction: str | None) -> str | None:
    """The mood a direction's words show, in any language the direction table knows
    (`effrayé` and `asustada` → `scared` → worried)."""
    words = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", (direction or "").lower())
    meant = set(words) | {english_direction(w) for w in words} - {None}
    return next((mood for mood, keys in _MOOD_WORDS.items() if meant & keys), None)


_MOOD_WORDS = {mood: frozenset(keys) | {english_direction(k) for k in keys} - {None}
               for mood, keys in templates.MOODS.items()}
"""Each mood's words and the English entries of the direction table they mean (`crying` →
`cry`), which any language's direction words translate to."""
