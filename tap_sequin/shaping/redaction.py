"""Keeping credential secrets out of rows.

A sync carries its credential, and the API is not documented to mask every kind's secrets
(``stripe_key`` arrives as ``"***********"``; an ``airtable_oauth2`` refresh token may not).
Redaction therefore goes by key name, not by whether a value looks masked, and works the same
for credential kinds this tap has never seen.

The rule: inside a sync's ``credential`` -- at any depth, through ``properties``, ``metadata``,
``oauth_app`` and any nested object or list -- a key whose name, lower-cased and stripped of
everything but letters and digits, contains one of ``SECRET_WORDS`` (also so stripped) has its
value replaced by ``REDACTED``. So ``refresh_token``, ``clientSecret``, ``Private-Key``,
``X-Api-Key``, ``jwt``, ``database_url`` and ``totp_seed`` are all caught. So is a name that
ends in one of ``SECRET_SUFFIXES`` (``key`` or ``keys``: ``client_key``, ``access_key``,
``ssh_key``; ``dsn``: ``sentry_dsn``; ``pem``: ``cert_pem``), and a name that is
exactly one of ``SECRET_KEY_NAMES`` (``pass``, ``pin``, ``auth`` as in ``"Basic ..."``,
``credentials``): those are too short or too common to match inside other names (``oauth_app``,
and a health object's ``credential`` part, are no secrets). The key stays, so analysts can
see that a secret exists; a null value stays null (there is nothing to hide). Objects nested
deeper than ``MAX_DEPTH`` are replaced whole by ``REDACTED``.

Keys meant to be public are kept: a name ending in one of ``PUBLIC_SUFFIXES``
(``stripe_publishable_key``, ``public_key``) is not redacted by the ``key`` suffix (it still is
if it contains a secret word). Over-redaction is the accepted cost elsewhere: a boolean
``is_session_based`` is hidden too, and so is a ``monkey``. Identifiers are not secrets and
stay: ``oauth_app_id``, ``key_id``, ``installation_id``, ``hub_id``, ``account_login`` (a
key's id names the key; it does not open anything by itself).

Whatever its key, a string holding a URL with credentials (``postgres://user:pw@host/db``,
``https://token@github.com``) or a ``password=``/``pwd=`` setting (connection strings) is
redacted too.

The same rule is applied to health objects (a sync's ``health``, a credential's ``health``):
a secret-named key in them is redacted too, in every column and stream that carries one.

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
    "passcode",
    "signing_key",
    "authorization",
    "cookie",
    "session",
    "bearer",
    "jwt",
    "connection_string",
    "connstr",
    "database_url",
    "db_url",
    "key_material",
    "seed",
    "creds",
    "mnemonic",
    "recovery_phrase",
    "backup_code",
    "keystore",
    "service_account",
)

# Matched at the end of the folded name, a plural ``s`` removed: ``sentry_dsn``, ``cert_pem``.
SECRET_SUFFIXES: tuple[str, ...] = ("key", "dsn", "pem", "pass")

# Keys meant to be published (Stripe's ``stripe_publishable_key``, any ``public_key``).
PUBLIC_SUFFIXES: tuple[str, ...] = ("publickey", "publishablekey")

SECRET_KEY_NAMES: tuple[str, ...] = ("pass", "pin", "auth", "credentials")

MAX_DEPTH = 32

# A URL's authority after "://", read anchored and bounded, so the check stays linear.
_AUTHORITY = re.compile(r"[^/\s?#]{0,1024}")
# key=value secrets inside connection strings ("Server=db;Password=...", "password=... ").
_ASSIGNED_SECRET = ("password=", "pwd=", "passwd=")


def _holds_secret(text: str) -> bool:
    """Whether a string carries a URL with credentials (``postgres://user:pw@host``,
    ``https://token@host``) or a ``password=`` setting, whatever key it is under."""
    start = text.find("://")
    while start != -1:
        userinfo, at, _ = _AUTHORITY.match(text, start + 3).group().rpartition("@")  # type: ignore[union-attr]
        if at and userinfo:
            return True
        start = text.find("://", start + 3)
    if "=" in text:
        folded = text.lower()
        return any(word in folded for word in _ASSIGNED_SECRET)
    return False


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
        secret = (
            folded in SECRET_KEY_NAMES
            or (
                (
                    (stem := folded.removesuffix("s")).endswith(SECRET_SUFFIXES)
                    or folded.endswith(SECRET_SUFFIXES)
                )
                and not stem.endswith(PUBLIC_SUFFIXES)
            )
            or _SECRET_PATTERN.search(folded) is not None
        )
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
            elif isinstance(item, str) and _holds_secret(item):
                copy[key] = REDACTED
            else:
                copy[key] = item
        return copy
    if isinstance(value, list):
        return [
            redact(item, depth + 1)
            if isinstance(item, (dict, list))
            else REDACTED
            if isinstance(item, str) and _holds_secret(item)
            else item
            for item in value
        ]
    return value


# Sequin's self-hosted server obfuscates a secret by keeping at most its first three and its
# last character around a run of stars (``abc********z``; short ones are all stars).
_OBFUSCATED = re.compile(r".{0,3}\*{3,}.?", re.DOTALL)


def looks_obfuscated(text: str) -> bool:
    """Whether ``text`` has the shape of a secret the self-hosted server obfuscated."""
    return _OBFUSCATED.fullmatch(text) is not None


def without_secrets(value: Any, extra_names: frozenset[str] = frozenset(), depth: int = 0) -> Any:
    """A copy of ``value`` with every secret *removed*, key and all.

    Removed: a key ``is_secret_key`` names, one of ``extra_names`` (fields a server marks
    secret although their names do not say so), a value with the shape of an obfuscated
    secret, and a string holding credentials (``_holds_secret``). Where ``redact`` keeps
    the key to show a secret exists, this is for objects whose secrets arrive obfuscated or
    in clear depending on the server: neither form may be loaded, and a stand-in would only
    vary by destination type.
    """
    if depth >= MAX_DEPTH and isinstance(value, (dict, list)):
        return REDACTED
    if isinstance(value, dict):
        kept: dict[Any, Any] = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            if name in extra_names or is_secret_key(name):
                continue
            if isinstance(item, str) and (looks_obfuscated(item) or _holds_secret(item)):
                continue
            kept[key] = (
                without_secrets(item, extra_names, depth + 1)
                if isinstance(item, (dict, list))
                else item
            )
        return kept
    if isinstance(value, list):
        return [
            without_secrets(item, extra_names, depth + 1)
            for item in value
            if not (isinstance(item, str) and (looks_obfuscated(item) or _holds_secret(item)))
        ]
    return value
