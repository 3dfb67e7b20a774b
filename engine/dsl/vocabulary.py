"""The words the language knows: keys per block, voice categories, cameras and transitions."""

from __future__ import annotations

import re

HEADER_KEYS = ("title", "audience", "style", "language", "premise", "scenes", "music", "use",
               "seed")
"""Fields at the top of a file (outside every block)."""

VOICE_BACKEND_KEYS = ("espeak", "edge", "piper", "openai", "kokoro", "coqui", "elevenlabs")
"""Per-backend voice ids a `voice` block may carry (`edge: en-GB-SoniaNeural`)."""

VOICE_KEYS = ("category", "rate", "pitch") + VOICE_BACKEND_KEYS

CHARACTER_KEYS = ("description", "voice", "tags", "reference", "model", "token", "trainedness")

SCENE_KEYS = ("title", "setting", "image", "with", "trainedness", "camera", "transition",
              "duration", "seed", "music")
"""Keys that are settings inside a scene; any other `NAME: "text"` there is a dialogue line."""

PATH_KEYS = frozenset({"use", "reference", "model", "music"})
"""Keys whose value is a path, relative to the file that names it."""

VOICE_CATEGORIES = ("narrator", "child", "adult", "elder", "creature")
"""What a voice sounds like; a TTS backend maps each category to one of its own voices."""

CAMERAS = ("still", "slow zoom in", "slow zoom out", "pan left", "pan right")
"""How the picture moves while a scene plays (`camera:`); `still` when left out."""

TRANSITIONS = ("cut", "crossfade")
"""How a scene gives way to the next (`transition:`); `cut` when left out."""

RESERVED_NAMES = frozenset({"voice", "character", "scene"})
"""Words that open blocks: no character may be called one of them."""

RATE_RANGE = (0.25, 4.0)
"""`rate:` and `pitch:` are factors of a voice's normal speed and pitch."""

MAX_SCENES = 100

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters a story may not hold: C0 and C1 controls but tab and line ends, line and paragraph
separators, bidirectional embeddings, overrides and isolates. Printed, they drive the terminal;
spoken or captioned, they cut or reorder the text. (A carriage return may only end a line.)"""
