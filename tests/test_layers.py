"""Imports point down the layers of docs/architecture.md, and every module has a layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("engine.cli", "engine.__main__", "engine.commands"),
    ("engine.render", "engine.config", "engine.overrides", "engine.sweep", "engine.output_folder",
     "engine.run_folder", "engine.storyboard", "engine.progress", "engine.highlight",
     "engine.review", "engine.auto_trainedness", "engine.worker_signals", "engine.cut_scenes"),
    ("engine.dsl",),
    ("engine.stages",),
    ("engine.steps", "engine.manifest", "engine.cache", "engine.timeline", "engine.mix", "engine.voices",
     "engine.peaks",
     "engine.loudness", "engine.narration", "engine.effects", "engine.aac_pieces"),
    ("engine.backends",),
    ("engine.ir", "engine.errors", "engine.dsl.vocabulary", "engine.dsl.directions",
     "engine.captions", "engine.caption_fit", "engine.language_codes", "engine.feedback", "engine.words",
     "engine.canonical"),
    ("engine", "engine.files", "engine.resources", "engine.secrets", "engine.locks",
     "engine.leases", "engine.fingerprints"),
)
"""Top to bottom: a module imports from its own layer or the ones below it, never above."""

APART = (("engine.dsl", "engine.backends"), ("engine.backends", "engine.dsl"))
"""The language front end and the backends never import each other (the language's word tables,
engine.dsl.vocabulary, sit in a lower layer and serve both)."""


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def layer_of(module: str) -> int | None:
    """The layer of the longest prefix that names the module (`engine` names only itself)."""
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            named = module == prefix or (prefix != "engine" and module.startswith(prefix + "."))
            if named and (
                    best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return best[0] if best else None


def within(module: str, prefix: str) -> bool:
    return (module == prefix or module.startswith(prefix + ".")) and layer_of(module) == layer_of(
        prefix)


def engine_imports(path: Path) -> set[str]:
    """Every engine module the file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("engine"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("engine"))
    return found


def edges() -> list[tuple[str, str]]:
    return [(module_name(path), target) for path in sorted((ROOT / "engine").rglob("*.py"))
            for target in sorted(engine_imports(path))]


def test_every_module_has_a_layer():
    unplaced = sorted({m for edge in edges() for m in edge if layer_of(m) is None})
    assert unplaced == [], "give these a layer in LAYERS and docs/architecture.md"


def test_imports_point_down():
    upward = [f"{source} imports {target}" for source, target in edges()
              if layer_of(target) is not None and layer_of(source) is not None
              and layer_of(target) < layer_of(source)]
    assert upward == []


def test_a_stage_never_imports_another_stage():
    across = [f"{source} imports {target}" for source, target in edges()
              if source.startswith("engine.stages.") and target.startswith("engine.stages.")
              and source != target]
    assert across == []


def test_the_front_end_and_the_backends_stay_apart():
    crossing = [f"{source} imports {target}" for source, target in edges()
                for one, other in APART if within(source, one) and within(target, other)]
    assert crossing == []


def test_the_rules_see_a_violation():
    assert layer_of("engine.somewhere_new") is None
    assert layer_of("engine.cache") > layer_of("engine.dsl.load")
    assert layer_of("engine.dsl.vocabulary") > layer_of("engine.backends.tts.delivery")
    assert within("engine.dsl.check", "engine.dsl") and not within("engine.dsl.vocabulary",
                                                                  "engine.dsl")
