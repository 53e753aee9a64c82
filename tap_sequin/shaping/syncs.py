"""Shaping: one raw sync (parsed JSON from the API) becomes one row matching ``SYNC_SCHEMA``.

Pure functions of the input, no HTTP. What the shaper does to a sync:

- flattens ``health`` into ``health_status``, ``health_sync_id``, ``health_credential_status``,
  ``health_provider_status``, ``health_notes`` and keeps the whole object in ``health`` (see
  ``tap_sequin.shaping.health``); flattens ``rate_limit`` into ``rate_limit_allowed_requests``,
  ``rate_limit_interval``, ``rate_limit_max_concurrent_requests``;
- normalises timestamps (top-level and the credential's) to RFC 3339 in UTC
  (see ``tap_sequin.shaping.timestamps``);
- redacts the secrets of the credential and of the health (see ``tap_sequin.shaping.redaction``);
  the top-level ``metadata`` is the user's own data and passes through unredacted;
- replaces U+0000 by U+FFFD in every string, keys included, at any depth (see ``nul``);
- drops fields the schema does not know, with a warning, so nothing disappears silently;
- turns a known field of the wrong type or shape into null, with a warning.

A sync without an object shape or a usable ``id`` raises ``MalformedSync``: no row can be keyed.

Each warning is logged once per run per field and problem (a shaper lives for one run), so
10,000 bad syncs do not flood the log; ``problem_counts`` counts them all and ``log_summary()``
reports the totals. Warnings name fields, sync ids and value types, never credential values.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.health import SYNC_HEALTH_COLUMNS, sync_health
from tap_sequin.shaping.objects import Malformed, ObjectShaper
from tap_sequin.shaping.redaction import redact

_RATE_LIMIT_KEYS = frozenset({"allowed_requests", "interval", "max_concurrent_requests"})
_RATE_LIMIT_COLUMNS = (
    "rate_limit_allowed_requests",
    "rate_limit_interval",
    "rate_limit_max_concurrent_requests",
)
_CREDENTIAL_STRINGS = ("id", "provider", "oauth_app_id")
_CREDENTIAL_OBJECTS = ("properties", "oauth_app", "metadata")
_CREDENTIAL_TIMESTAMPS = ("created_at", "updated_at")

KNOWN_FIELDS = frozenset(
    {
        "id",
        "provider",
        "stream_id",
        "name",
        "status",
        "org_id",
        "external_id",
        "collection_ids",
        "credential_id",
        "credential",
        "max_age_days",
        "sync_frequency",
        "initial_backfill_completed_at",
        "created_at",
        "updated_at",
        "metadata",
        "health",
        "rate_limit",
    }
)


class MalformedSync(Malformed):
    """A sync that cannot become a row: not a JSON object, or no usable ``id``."""


class SyncShaper(ObjectShaper):
    """Turns raw syncs into rows; remembers which problems it has already warned about.

    Use one shaper per run.
    """

    noun = "sync"
    known_fields = KNOWN_FIELDS
    malformed = MalformedSync

    @property
    def problem_counts(self) -> Any:
        """How many syncs had each (field, problem) this run, warned about or not."""
        return self.problems.counts

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one sync; raise ``MalformedSync`` if it cannot be keyed."""
        raw, sync_id = self.keyed(raw)

        get = raw.get
        read = self._read
        string, integer, timestamp = read.string, read.integer, read.timestamp
        health = sync_health(get("health"), sync_id, read)
        limit = self._rate_limit(get("rate_limit"), sync_id)
        # In SYNC_SCHEMA's column order.
        row = {
            "id": sync_id,
            "provider": string(get("provider"), "provider", sync_id),
            "stream_id": string(get("stream_id"), "stream_id", sync_id),
            "name": string(get("name"), "name", sync_id),
            "status": string(get("status"), "status", sync_id),
            "org_id": string(get("org_id"), "org_id", sync_id),
            "external_id": string(get("external_id"), "external_id", sync_id),
            "collection_ids": read.strings(get("collection_ids"), "collection_ids", sync_id),
            "credential_id": string(get("credential_id"), "credential_id", sync_id),
            "credential": self._credential(get("credential"), sync_id),
            "max_age_days": integer(get("max_age_days"), "max_age_days", sync_id),
            "sync_frequency": string(get("sync_frequency"), "sync_frequency", sync_id),
            "initial_backfill_completed_at": timestamp(
                get("initial_backfill_completed_at"), "initial_backfill_completed_at", sync_id
            ),
            "created_at": timestamp(get("created_at"), "created_at", sync_id),
            "updated_at": timestamp(get("updated_at"), "updated_at", sync_id),
            # The user's own data: the one object no redaction pass has capped.
            "metadata": read.object(get("metadata"), "metadata", sync_id, check_nesting=True),
            **dict(zip(SYNC_HEALTH_COLUMNS, health, strict=True)),
            "rate_limit_allowed_requests": integer(
                limit.get("allowed_requests"), "rate_limit.allowed_requests", sync_id
            ),
            "rate_limit_interval": integer(limit.get("interval"), "rate_limit.interval", sync_id),
            "rate_limit_max_concurrent_requests": integer(
                limit.get("max_concurrent_requests"), "rate_limit.max_concurrent_requests", sync_id
            ),
        }
        return read.without_nul(row, sync_id)

    def _credential(self, value: Any, sync_id: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problems.wrong_type("credential", sync_id, value, "an object")
            return None
        read = self._read
        credential: dict[str, Any] = redact(value)
        for key in _CREDENTIAL_STRINGS:
            if key in credential:
                credential[key] = read.string(credential[key], f"credential.{key}", sync_id)
        for key in _CREDENTIAL_OBJECTS:
            if key in credential:
                credential[key] = read.object(credential[key], f"credential.{key}", sync_id)
        for key in _CREDENTIAL_TIMESTAMPS:
            if key in credential:
                credential[key] = read.timestamp(
                    credential[key], f"credential.{key}", sync_id, show_value=False
                )
        return credential

    def _rate_limit(self, value: Any, sync_id: str) -> dict[str, Any]:
        """The ``rate_limit`` object to flatten; {} if it is unusable."""
        if isinstance(value, dict):
            if not _RATE_LIMIT_KEYS.issuperset(value):
                self.problems.unknown_keys(value, _RATE_LIMIT_KEYS, sync_id, "rate_limit.")
            return value
        if value is None:
            outcome = f"writing null to {', '.join(_RATE_LIMIT_COLUMNS)}"
            self.problems.problem("rate_limit", "missing or null", sync_id, outcome=outcome)
        else:
            self.problems.wrong_type("rate_limit", sync_id, value, "an object")
        return {}
