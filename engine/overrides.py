"""Hydra command-line words: values quoted to arrive literally, and overrides checked up front."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_INTERPOLATION = re.compile(r"(\\*)\$\{")
_ESCAPED_INTERPOLATION = re.compile(r"(\\*)\\\$\{")


def escape_interpolation(value: str) -> str:
    """`${` as OmegaConf reads it literally (`\\${`, backslashes before it doubled): a file named
    `a${oc.env:OPENAI_API_KEY}.story` must not read the environment."""
    return _INTERPOLATION.sub(lambda m: m.group(1) * 2 + "\\${", value)


def unescape_interpolation(value: str) -> str:
    """The inverse of escape_interpolation: the literal text an escaped value stands for."""
    return _ESCAPED_INTERPOLATION.sub(lambda m: m.group(1)[: len(m.group(1)) // 2] + "${", value)


def quoted(value: str) -> str:
    """A value as an override that reaches the config exactly as written: quoted (so `=`, `,`,
    spaces, brackets and quotes survive) and with interpolations escaped."""
    from hydra.core.override_parser.types import Quote, QuotedString

    return QuotedString(text=escape_interpolation(value), quote=Quote.single).with_quotes()


def literal_value(override: str) -> tuple[str, str]:
    """(key, the literal value) of one override as Hydra records it (`story='/x/a.story'`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    key, _, raw = override.partition("=")
    try:
        parsed = OverridesParser.create().parse_override(override)
    except HydraException:
        return key, raw
    value = parsed.value()
    return parsed.get_key_element(), unescape_interpolation(value) if isinstance(value, str) \
        else raw


def sweep_problem(words: Sequence[str]) -> str | None:
    """The first override that sweeps over several values (it needs -m), or None."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for word in words:
        try:
            if parser.parse_override(word).is_sweep_override():
                return word
        except HydraException:
            continue  # composition reports it
    return None


def nameless_override(words: Sequence[str]) -> str | None:
    """The first override with nothing before its `=` (`=3`, `+=1`), as one line, or None."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for word in words:
        try:
            nameless = parser.parse_override(word).key_or_group == ""
        except HydraException:
            continue  # composition reports it
        if nameless:
            return f"cannot read the override '{word}': a setting's name must come before " \
                   "the `=` (KEY=VALUE, e.g. seed=3)"
    return None


def composition_problem(config_dir: Path, overrides: Sequence[str]) -> str | None:
    """What is wrong with these overrides, in one line with a did-you-mean, or None when the
    configuration composes (a sweep is checked with its first value) and its run-wide settings
    (engine.config.SETTINGS_SCHEMA) are in range."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException

    from engine.config import check_settings
    from engine.errors import ConfigError

    nameless = nameless_override(overrides)
    if nameless:
        return nameless
    parsed = _parsed(overrides)
    swept = _swept_setting_problem(parsed)
    if swept:
        return swept
    words = _first_values(parsed)
    try:
        check_settings(_compose(config_dir, words))
    except ConfigError as error:
        return str(error)
    except MissingConfigException as error:
        return _missing_choice(error)
    except OverrideParseException as error:
        return f"cannot read the override '{error.override}': {error.message.splitlines()[0]}"
    except HydraException as error:
        text = str(error).strip()
        deleted = re.match(r"Could not delete from config\. '([^']+)' does not exist", text)
        if deleted and deleted.group(1) in _keys_besides(config_dir, words, deleted.group(1)):
            key = deleted.group(1)
            return f"cannot remove the setting '{key}' (~{key}): storyreel reads every " \
                   f"setting; give it a value instead ({key}=VALUE)"
        unknown = re.match(r"Could not override '([^']+)'", text) or deleted
        if unknown:
            return _unknown_setting(config_dir, words, unknown.group(1))
        return text.splitlines()[0] if text else type(error).__name__
    return None


def _keys_besides(config_dir: Path, words: list[str], key: str) -> set[str]:
    """The settings of the config the other overrides compose (the defaults' when they are
    themselves wrong: another mistake is reported on its own)."""
    from hydra.errors import HydraException

    others = [w for w in words if w.lstrip("~").partition("=")[0] != key]
    try:
        return set(_dotted_keys(_compose(config_dir, others)))
    except HydraException:
        return set(_dotted_keys(_compose(config_dir, [])))


def _parsed(overrides: Sequence[str]) -> list[tuple[str, Any]]:
    """Each override with Hydra's reading of it (None where it cannot be read: composing
    reports the syntax error)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    read: list[tuple[str, Any]] = []
    for word in overrides:
        try:
            read.append((word, parser.parse_override(word)))
        except HydraException:
            read.append((word, None))
    return read


def _swept_setting_problem(parsed: list[tuple[str, Any]]) -> str | None:
    """The first value of a swept run-wide setting (`seed=1,abc`) out of its range: composing
    checks only a sweep's first value, and a job would fail on this one after others ran."""
    from hydra.errors import HydraException

    from engine.config import SETTINGS_SCHEMA

    for _, override in parsed:
        if override is None or not override.is_sweep_override():
            continue
        key = override.get_key_element()
        try:
            values = list(override.sweep_string_iterator()) if key in SETTINGS_SCHEMA else []
        except HydraException:
            continue  # composing reports it
        for value in values:
            problem = SETTINGS_SCHEMA[key].problem(key, None if value == "null" else value)
            if problem:
                return problem
    return None


def _first_values(parsed: list[tuple[str, Any]]) -> list[str]:
    """Each choice sweep (`tts=espeak,edge`) as its first choice; other sweeps left out."""
    from hydra.core.override_parser.types import ChoiceSweep

    words: list[str] = []
    for word, override in parsed:
        if override is None or not override.is_sweep_override():
            words.append(word)
        elif isinstance(override.value(), ChoiceSweep):
            first = next(iter(override.sweep_string_iterator()))
            words.append(f"{override.get_key_element()}={first}")
    return words


def _compose(config_dir: Path, words: Sequence[str]) -> Any:
    from hydra import compose, initialize_config_dir

    from engine.config import register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose("config", overrides=list(words), return_hydra_config=True)


LAUNCHER_EXTRAS = {"submitit_slurm": "submitit", "submitit_local": "submitit", "ray": "ray",
                   "ray_aws": "ray"}
"""Hydra launcher plugins by choice name, and the storyreel extra that installs each."""


def _missing_choice(error: Any) -> str:
    group, _, name = str(getattr(error, "missing_cfg_file", "") or "").rpartition("/")
    options = [str(o) for o in getattr(error, "options", None) or []]
    if group == "hydra/launcher" and name in LAUNCHER_EXTRAS:
        extra = LAUNCHER_EXTRAS[name]
        return (f"hydra/launcher={name} needs its Hydra plugin: pip install "
                f"'storyreel[{extra}]'" + (" in an environment of its own (docs/cluster.md)"
                                           if extra == "ray" else ""))
    if not group or not options:
        return str(error).strip().splitlines()[0]
    close = difflib.get_close_matches(name, options, n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return f"no {group} choice '{name}' ({guess}choices: {', '.join(options)})"


def _unknown_setting(config_dir: Path, words: Sequence[str], key: str) -> str:
    from hydra.errors import HydraException

    others = [w for w in words if w.lstrip("+~").partition("=")[0] != key]
    try:
        known = _dotted_keys(_compose(config_dir, others))
    except HydraException:
        known = []
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    guess = f" (did you mean '{close[0]}'?)" if close else \
        "; `--cfg job` shows every setting, `+KEY=VALUE` adds a new one"
    return f"no setting '{key}'{guess}"


def _dotted_keys(cfg: Any) -> list[str]:
    from omegaconf import OmegaConf

    plain = OmegaConf.to_container(cfg, resolve=False)
    keys: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                keys.append(f"{prefix}{name}")
                walk(child, f"{prefix}{name}.")

    walk(plain, "")
    return keys
