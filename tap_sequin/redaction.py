"""Keeping credential secrets out of rows.

A sync carries its credential, and the API is not documented to mask every kind's secrets
(``stripe_key`` arrives as ``"***********"``; an ``airtable_oauth2`` refresh token may not).
Redaction therefore goes by key name, not by whether a value looks masked, and works the same
for credential kinds this tap has never seen.

The rule: inside a sync's ``credential`` -- at any depth, through ``properties``, ``metadata``,
``oauth_app`` and any nested object or list -- a key whose name, lower-cased and stripped of
everything but letters and digits, contains one of ``SECRET_WORDS`` (also so stripped) has its
value replaced by ``REDACTED``. So ``refresh_token``, ``clientSecret``, ``Private-Key`` and
``X-Api-Key`` are all caught. The key stays, so analysts can see that a secret exists; a null
value stays null (there is nothing to hide). A key named exactly one of ``SECRET_KEY_NAMES``
(``key``, ``pass``, ``pin``) is redacted too: those are too short to match inside other names.
Objects nested deeper than ``MAX_DEPTH`` are replaced whole by ``REDACTED``.

Over-redaction is the accepted cost: a boolean ``is_session_based`` is hidden too.

Not redacted: the sync's own top-level ``metadata``. It is the user's data, written by the user
through the API, and the tap passes it through untouched. Unknown top-level fields never reach
a row at all (the shaper drops them), so a secret the API might add there is dropped, not leaked.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"

SECRET_WORDS: tuple[str, ...] = (
    "secret",
    "password",
    "passwd",
    "pwd",
    "token",
    "api_key",
    "apikey",
    "client_secret",
    "private_key",
    "passphrase",
    "signing_key",
    "authorization",
    "cookie",
    "session",
    "bearer",
)

SECRET_KEY_NAMES: tuple[str, ...] = ("key", "pass", "pin")

MAX_DEPTH = 32

_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
_SECRET_PATTERN = re.compile(
    "|".join(sorted({_NOT_ALPHANUMERIC.sub("", word) for word in SECRET_WORDS}))
)


_MAX_CACHED_NAMES = 4096
_secret_by_name: dict[str, bool] = {}


def is_secret_key(name: str) -> bool:
    """True when a value stored under the key ``name`` must be redacted."""
    secret = _secret_by_name.get(name)
    if secret is None:
        folded = _NOT_ALPHANUMERIC.sub("", name.lower())
        secret = folded in SECRET_KEY_NAMES or _SECRET_PATTERN.search(folded) is not None
        # Key names repeat across syncs; the bound only matters if they do not.
        if len(_secret_by_name) >= _MAX_CACHED_NAMES:
            _secret_by_name.clear()
        _secret_by_name[name] = secret
    return secret


def redact(value: Any, depth: int = 0) -> Any:
    """Return a copy of ``value`` with the value of every secret-named key replaced.

    ``value`` itself is never modified.
    """
    if depth >= MAX_DEPTH and isinstance(value, (dict, list)):
        return REDACTED
    if isinstance(value, dict):
        copy: dict[Any, Any] = {}
        for key, item in value.items():
            if item is None:
                copy[key] = None
            elif is_secret_key(key if isinstance(key, str) else str(key)):
                copy[key] = REDACTED
            elif isinstance(item, (dict, list)):
                copy[key] = redact(item, depth + 1)
            else:
                copy[key] = item
        return copy
    if isinstance(value, list):
        return [
            redact(item, depth + 1) if isinstance(item, (dict, list)) else item for item in value
        ]
    return value
