"""Write story.tmLanguage.json beside this script from engine.highlight (run after a new key)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.highlight import textmate_grammar

TARGET = Path(__file__).resolve().with_name("story.tmLanguage.json")


def main() -> None:
    TARGET.write_text(json.dumps(textmate_grammar(), indent=2, ensure_ascii=False) + "\n",
                      encoding="utf-8")


if __name__ == "__main__":
    main()
