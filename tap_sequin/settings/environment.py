"""Settings from ``TAP_SEQUIN_*`` environment variables, and what a user gets wrong with them.

The SDK reads the environment only with ``--config ENV``, silently ignores names it
does not know, and turns integer settings into numbers with a bare ``int()`` (a
traceback for ``TAP_SEQUIN_MAX_RETRIES=3.0``). Here numbers stay text until
``settings`` parses them with a one-line error, a variable that is set but not read
is pointed out, and a misspelt name gets the closest setting name.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import typing as t
from pathlib import Path

import dotenv

from tap_sequin.errors import ConfigError
from tap_sequin.sdk_internals import parse_environment_config

PREFIX = "TAP_SEQUIN_"
# Variables of this prefix that the SDK itself reads, though they name no setting.
SDK_VARIABLES = frozenset({"TAP_SEQUIN_LOGLEVEL"})


def env_name(setting: str) -> str:
    """The environment variable of a setting: ``sync_ids`` -> ``TAP_SEQUIN_SYNC_IDS``."""
    return PREFIX + setting.upper().replace("-", "_")


def _is_meltano_extra(name: str) -> bool:
    # Meltano's own plugin extras are TAP_SEQUIN__SELECT, TAP_SEQUIN__METADATA, ...
    return name.startswith(PREFIX + "_")


def read_environment(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """The settings found in ``TAP_SEQUIN_*`` variables (``--config ENV``).

    A ``.env`` file in the working directory is read first; a variable already set in
    the environment wins over the same name in the file.

    Numbers are returned as the text given (``settings`` parses and checks them);
    arrays and objects are JSON; raises ``ConfigError`` naming the variable when
    a value cannot be read.
    """
    _load_working_directory_dotenv()
    textual = copy.deepcopy(schema)
    for prop in textual.get("properties", {}).values():
        types = prop.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if {"integer", "number"} & set(types):
            prop["type"] = ["string", "null"]
    for name, prop in list(textual.get("properties", {}).items()):
        value = os.environ.get(env_name(name))
        types = prop.get("type")
        types = {types} if isinstance(types, str) else set(types or [])
        if value is not None and not value.strip() and {"array", "object"} & types:
            # An empty list or object variable (`TAP_SEQUIN_SYNC_IDS=` in .env) means unset.
            del textual["properties"][name]
    # The SDK would read TAP_SEQUIN_SYNC_IDS=abc as the one id "abc" (or "a,b" as two).
    bad = _first_unreadable(textual)
    if bad:
        example = '\'["c906b4a4-...", "..."]\'' if bad == "sync_ids" else "a JSON value"
        raise ConfigError(bad, f"{env_name(bad)} is not JSON; write it as {example}")
    try:
        # os.devnull: the SDK would otherwise look for a .env from its own installed
        # folder upwards, whatever the working directory.
        return parse_environment_config(textual, PREFIX, dotenv_path=os.devnull)
    except ValueError as exc:  # JSON of an array or object setting
        bad = _first_unreadable(textual)
        raise ConfigError(
            bad or "environment", f"{env_name(bad) if bad else 'a variable'} is not JSON: {exc}"
        ) from None


def _load_working_directory_dotenv() -> None:
    """Set the variables of ``./.env`` that the environment does not set already."""
    path = Path.cwd() / ".env"
    if path.is_file():
        dotenv.load_dotenv(path, override=False)


def _first_unreadable(schema: dict[str, t.Any]) -> str | None:
    for name, prop in schema.get("properties", {}).items():
        value = os.environ.get(env_name(name))
        types = prop.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if value is not None and {"array", "object"} & set(types):
            try:
                json.loads(value)
            except ValueError:
                return str(name)
    return None


def unknown_variables(settings: t.Iterable[str]) -> list[str]:
    """One warning per ``TAP_SEQUIN_<NAME>`` that names no setting, with the closest one."""
    known = {env_name(name): name for name in settings}
    lines = []
    for name in sorted(os.environ):
        if (
            not name.startswith(PREFIX)
            or name in known
            or name in SDK_VARIABLES
            or _is_meltano_extra(name)
        ):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = (
            f"did you mean {close[0]} (setting '{known[close[0]]}')?"
            if close
            else "see tap-sequin --about for the settings"
        )
        lines.append(f"{name} is set but is not a setting of tap-sequin, so it is ignored; {hint}")
    return lines


def unread_variables(settings: t.Iterable[str], config: t.Mapping[str, t.Any]) -> list[str]:
    """``TAP_SEQUIN_*`` variables of settings the config does not set, without ``--config ENV``.

    Under Meltano the variables are set *and* their values are in the config file it
    writes, so only settings missing from the config are worth a word.
    """
    return [
        env_name(name)
        for name in settings
        if env_name(name) in os.environ and config.get(name) is None
    ]


def unread_hint(names: list[str]) -> str:
    """The sentence that says how to read ``names`` from the environment."""
    listed = ", ".join(names)
    verb = "is" if len(names) == 1 else "are"
    return (
        f"{listed} {verb} set but not read: tap-sequin reads the environment only with "
        "--config ENV (e.g. tap-sequin --config ENV, or --config config.json --config ENV); "
        "under Meltano, declare the setting in meltano.yml"
    )
