"""Shaping: one raw sync (parsed JSON from the API) becomes one row matching ``SYNC_SCHEMA``.

Pure functions of the input, no HTTP. What the shaper does to a sync:

- flattens ``health`` into ``health_status``, ``health_sync_id`` and ``rate_limit`` into
  ``rate_limit_allowed_requests``, ``rate_limit_interval``, ``rate_limit_max_concurrent_requests``;
- normalises timestamps (top-level and the credential's) to RFC 3339 in UTC
  (see ``tap_sequin.timestamps``);
- redacts the credential's secrets (see ``tap_sequin.redaction``); the top-level ``metadata`` is
  the user's own data and passes through unredacted;
- drops fields the schema does not know, with a warning, so nothing disappears silently;
- turns a known field of the wrong type or shape into null, with a warning.

A sync without an object shape or a usable ``id`` raises ``MalformedSync``: no row can be keyed.

Each warning is logged once per run per field and problem (a shaper lives for one run), so
10,000 bad syncs do not flood the log; ``problem_counts`` counts them all and ``log_summary()``
reports the totals. Warnings name fields, sync ids and value types, never credential values.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Container
from typing import Any

from tap_sequin.redaction import redact
from tap_sequin.timestamps import to_utc_rfc3339

_STRING_FIELDS = (
    "provider",
    "stream_id",
    "name",
    "status",
    "org_id",
    "credential_id",
    "sync_frequency",
)
_TIMESTAMP_FIELDS = ("initial_backfill_completed_at", "created_at", "updated_at")
_HEALTH_COLUMNS = {"status": "health_status", "sync_id": "health_sync_id"}
_RATE_LIMIT_COLUMNS = {
    "allowed_requests": "rate_limit_allowed_requests",
    "interval": "rate_limit_interval",
    "max_concurrent_requests": "rate_limit_max_concurrent_requests",
}
_CREDENTIAL_STRINGS = ("id", "provider", "oauth_app_id")
_CREDENTIAL_OBJECTS = ("properties", "oauth_app", "metadata")
_CREDENTIAL_TIMESTAMPS = ("created_at", "updated_at")

KNOWN_FIELDS = frozenset(
    {
        "id",
        *_STRING_FIELDS,
        *_TIMESTAMP_FIELDS,
        "collection_ids",
        "credential",
        "max_age_days",
        "metadata",
        "health",
        "rate_limit",
    }
)

# Integers land in PostgreSQL BIGINT columns.
_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_MAX_QUOTED = 80


class MalformedSync(ValueError):
    """A sync that cannot become a row: not a JSON object, or no usable ``id``."""


class SyncShaper:
    """Turns raw syncs into rows; remembers which problems it has already warned about.

    Use one shaper per run.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._warned: set[tuple[str, str]] = set()
        # How many syncs had each (field, problem), logged or not.
        self.problem_counts: Counter[tuple[str, str]] = Counter()

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one sync; raise ``MalformedSync`` if it cannot be keyed."""
        if not isinstance(raw, dict):
            raise MalformedSync(f"Expected a sync to be a JSON object, got {_json_type(raw)}.")
        sync_id = raw.get("id")
        if not isinstance(sync_id, str) or not sync_id.strip():
            got = "a blank string" if isinstance(sync_id, str) else _json_type(sync_id)
            raise MalformedSync(
                f"A sync has no usable 'id' (expected a non-empty string, got {got}), "
                "so it cannot be keyed."
            )
        if not KNOWN_FIELDS.issuperset(raw):
            self._drop_unknown(raw, sync_id)

        get = raw.get
        string, integer, timestamp = self._string, self._integer, self._timestamp
        health = self._sub_object(get("health"), "health", _HEALTH_COLUMNS, sync_id)
        limit = self._sub_object(get("rate_limit"), "rate_limit", _RATE_LIMIT_COLUMNS, sync_id)
        # In SYNC_SCHEMA's column order.
        return {
            "id": sync_id,
            "provider": string(get("provider"), "provider", sync_id),
            "stream_id": string(get("stream_id"), "stream_id", sync_id),
            "name": string(get("name"), "name", sync_id),
            "status": string(get("status"), "status", sync_id),
            "org_id": string(get("org_id"), "org_id", sync_id),
            "collection_ids": self._collection_ids(get("collection_ids"), sync_id),
            "credential_id": string(get("credential_id"), "credential_id", sync_id),
            "credential": self._credential(get("credential"), sync_id),
            "max_age_days": integer(get("max_age_days"), "max_age_days", sync_id),
            "sync_frequency": string(get("sync_frequency"), "sync_frequency", sync_id),
            "initial_backfill_completed_at": timestamp(
                get("initial_backfill_completed_at"), "initial_backfill_completed_at", sync_id
            ),
            "created_at": timestamp(get("created_at"), "created_at", sync_id),
            "updated_at": timestamp(get("updated_at"), "updated_at", sync_id),
            "metadata": self._object(get("metadata"), "metadata", sync_id),
            "health_status": string(health.get("status"), "health.status", sync_id),
            "health_sync_id": string(health.get("sync_id"), "health.sync_id", sync_id),
            "rate_limit_allowed_requests": integer(
                limit.get("allowed_requests"), "rate_limit.allowed_requests", sync_id
            ),
            "rate_limit_interval": integer(limit.get("interval"), "rate_limit.interval", sync_id),
            "rate_limit_max_concurrent_requests": integer(
                limit.get("max_concurrent_requests"), "rate_limit.max_concurrent_requests", sync_id
            ),
        }

    def log_summary(self) -> None:
        """Log how many syncs had each problem that occurred more than once."""
        for (field, problem), count in sorted(self.problem_counts.items()):
            if count > 1:
                self._logger.warning(
                    "%d syncs in this run: field %s is %s.", count, _quote(field), problem
                )

    # -- one method per kind of column ---------------------------------------------------

    def _string(self, value: Any, field: str, sync_id: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self._wrong_type(field, sync_id, value, "a string")
        return None

    def _integer(self, value: Any, field: str, sync_id: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        # bool is a subclass of int, and true is not a number of days.
        if not isinstance(value, int) or isinstance(value, bool):
            self._wrong_type(field, sync_id, value, "an integer")
            return None
        if not _INT_MIN <= value <= _INT_MAX:
            self._problem(field, "outside the 64-bit integer range", sync_id)
            return None
        return value

    def _object(self, value: Any, field: str, sync_id: str) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        self._wrong_type(field, sync_id, value, "an object")
        return None

    def _timestamp(
        self, value: Any, field: str, sync_id: str, *, show_value: bool = True
    ) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self._wrong_type(field, sync_id, value, "a date-time string")
            return None
        normalised = to_utc_rfc3339(value)
        if normalised is None:
            shown = f" ({_quote(value)})" if show_value else ""
            self._problem(field, "not a valid date-time", sync_id, shown)
        return normalised

    def _collection_ids(self, value: Any, sync_id: str) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self._wrong_type("collection_ids", sync_id, value, "an array")
            return None
        if all(isinstance(item, str) for item in value):
            return value
        self._problem(
            "collection_ids",
            "an array with non-string elements",
            sync_id,
            outcome="dropping those elements",
        )
        return [item for item in value if isinstance(item, str)]

    def _credential(self, value: Any, sync_id: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong_type("credential", sync_id, value, "an object")
            return None
        credential: dict[str, Any] = redact(value)
        for key in _CREDENTIAL_STRINGS:
            if key in credential:
                credential[key] = self._string(credential[key], f"credential.{key}", sync_id)
        for key in _CREDENTIAL_OBJECTS:
            if key in credential:
                credential[key] = self._object(credential[key], f"credential.{key}", sync_id)
        for key in _CREDENTIAL_TIMESTAMPS:
            if key in credential:
                credential[key] = self._timestamp(
                    credential[key], f"credential.{key}", sync_id, show_value=False
                )
        return credential

    def _sub_object(
        self, value: Any, field: str, columns: dict[str, str], sync_id: str
    ) -> dict[str, Any]:
        """Return the object ``value`` to be flattened into ``columns``; {} if it is unusable."""
        if isinstance(value, dict):
            if not columns.keys() >= value.keys():
                self._drop_unknown(value, sync_id, known=columns.keys(), parent=f"{field}.")
            return value
        if value is None:
            outcome = f"writing null to {', '.join(columns.values())}"
            self._problem(field, "missing or null", sync_id, outcome=outcome)
        else:
            self._wrong_type(field, sync_id, value, "an object")
        return {}

    # -- warnings ------------------------------------------------------------------------

    def _drop_unknown(
        self,
        raw: dict[Any, Any],
        sync_id: str,
        known: Container[str] = KNOWN_FIELDS,
        parent: str = "",
    ) -> None:
        for key in raw:
            if key not in known:
                name = f"{parent}{key}"
                self.problem_counts[(name, "not in the schema")] += 1
                if (name, "not in the schema") not in self._warned:
                    self._warned.add((name, "not in the schema"))
                    self._logger.warning(
                        "Sync field %s is not in the schema; dropping it from every row "
                        "(first seen on sync %s, warned once per run).",
                        _quote(name),
                        _quote(sync_id),
                    )

    def _wrong_type(self, field: str, sync_id: str, value: Any, expected: str) -> None:
        self._problem(field, f"not {expected}", sync_id, f" (got {_json_type(value)})")

    def _problem(
        self,
        field: str,
        problem: str,
        sync_id: str,
        detail: str = "",
        outcome: str = "writing null",
    ) -> None:
        key = (field, problem)
        self.problem_counts[key] += 1
        if key in self._warned:
            return
        self._warned.add(key)
        self._logger.warning(
            "Sync %s: field %s is %s%s; %s. Warned once per run for this field and problem.",
            _quote(sync_id),
            _quote(field),
            problem,
            detail,
            outcome,
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _quote(text: str) -> str:
    """Quote text for a one-line log message, cut short if long."""
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 3] + "..."
    return repr(text)
