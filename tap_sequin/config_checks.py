"""Checks of the whole config (the SDK's own settings included), each a one-line error.

``settings`` checks what the tap itself reads; these cover the rest: names that are no
setting, values the SDK's JSON schema refuses, and ``TAP_SEQUIN_*`` variables that were
set for nothing. The SDK would log each schema problem and end with a bare "Config
validation failed", quoting values (a mistyped token is still a token).
"""

from __future__ import annotations

import difflib
import typing as t

from singer_sdk.plugin_base import JSONSchemaValidator

from tap_sequin import environment
from tap_sequin.errors import ConfigError


def refuse_unknown_settings(schema: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]) -> None:
    """Raise ``ConfigError`` for a config key that names no setting, with the closest one.

    A typo such as ``sync_id`` would otherwise silently extract every sync.
    """
    known = sorted(schema.get("properties", {}))
    for key in config:
        if key not in known and not key.startswith("_"):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see tap-sequin --about"
            raise ConfigError(key, f"is not a setting of tap-sequin; {hint}")


def refuse_schema_errors(schema: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]) -> None:
    """Raise ``ConfigError`` for the first value the JSON schema refuses, naming its path."""
    for error in JSONSchemaValidator(schema).iter_errors(dict(config)):
        path = [str(part) for part in error.absolute_path]
        top = schema.get("properties", {}).get(path[0] if path else "", {})
        secret = top.get("secret") or top.get("writeOnly")
        problem = "has the wrong type" if secret else f"{error.message:.200}"
        expected = f" (expected {top['type']})" if top.get("type") else ""
        raise ConfigError(".".join(path) or "config", f"{problem}{expected}")


def environment_warnings(
    schema: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any], *, reads_environment: bool
) -> list[str]:
    """Misspelt ``TAP_SEQUIN_*`` names, whatever the config source, and unread ones.

    Misspelt names are worth a word even without ``--config ENV``: under Meltano the
    variable reaches the tap's environment but not the config Meltano writes.
    """
    names = list(schema.get("properties", {}))
    lines = environment.unknown_variables(names)
    if not reads_environment:
        unread = environment.unread_variables(names, config)
        lines += [environment.unread_hint(unread)] if unread else []
    return lines
