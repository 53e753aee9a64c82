"""Secrets as Sequin's server sends them: obfuscated by default, in clear on request.

The server wraps every secret field in a `SensitiveValue` and, when it writes JSON, either
writes the value or `Sequin.String.obfuscate/1` of it (`lib/sequin/transforms/transforms.ex`,
`lib/sequin/string.ex`). The world keeps secrets as `Sensitive` values; `render` turns a
stored object into what goes on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tap_sequin.sandbox.data import SECRET_MARKER

_MARKED = re.compile(re.escape(SECRET_MARKER) + r"(?:-[0-9a-z]+)*")


@dataclass(frozen=True)
class Sensitive:
    """A secret field's value (None: the field is unset, sent as JSON null)."""

    value: str | None


def obfuscate(secret: str) -> str:
    """Sequin's rule: up to 5 characters all stars; 6 to 9 keep the first and last; 10 or
    more keep the first three and the last, with at most 20 stars between."""
    length = len(secret)
    if length <= 5:
        return "*" * length
    if length <= 9:
        return secret[0] + "*" * (length - 2) + secret[-1]
    return secret[:3] + "*" * min(length - 4, 20) + secret[-1]


def render(value: Any, show_sensitive: bool) -> Any:
    """`value` with every `Sensitive` replaced by its clear or obfuscated text."""
    if isinstance(value, Sensitive):
        if value.value is None or show_sensitive:
            return value.value
        return obfuscate(value.value)
    if isinstance(value, dict):
        return {key: render(item, show_sensitive) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, show_sensitive) for item in value]
    return value


def secrets_in(value: Any) -> list[str]:
    """Every non-empty `Sensitive` value inside `value`, in clear."""
    if isinstance(value, Sensitive):
        return [value.value] if value.value else []
    if isinstance(value, dict):
        return [s for item in value.values() for s in secrets_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in secrets_in(item)]
    return []


def marked(value: Any) -> list[str]:
    """Every run of text inside `value` (secret or not) that carries `SECRET_MARKER`."""
    if isinstance(value, Sensitive):
        return marked(value.value)
    if isinstance(value, str):
        return _MARKED.findall(value)
    if isinstance(value, dict):
        return [s for item in value.values() for s in marked(item)]
    if isinstance(value, list):
        return [s for item in value for s in marked(item)]
    return []
