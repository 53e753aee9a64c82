"""The JSON schemas of the three streams: ``syncs``, ``sync_health_history``, ``credentials``.

Declared with the SDK's ``th.PropertiesList`` as SDK taps do; the column order here is the
order of every row the shapers build. Every column except the primary key is nullable.

Object columns allow any key (``additionalProperties: true``): the Singer SDK drops keys of a
nested object that are neither declared nor allowed, and target-postgres loads any object as
``jsonb``. Integer columns declare the 64-bit range, so targets that size columns from the
schema (pipelinewise-target-postgres, target-duckdb) make them ``bigint``, not ``numeric`` or
``HUGEINT``; the shapers write null (with a warning) for any integer outside it.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

from tap_sequin.shaping.fields import INT64_MAX, INT64_MIN
from tap_sequin.shaping.health import SYNC_HEALTH_COLUMNS, SYNC_HISTORY_HEALTH_COLUMNS


def _integer() -> th.IntegerType:
    return th.IntegerType(minimum=INT64_MIN, maximum=INT64_MAX)


def _object(*properties: th.Property[Any]) -> th.ObjectType:
    return th.ObjectType(*properties, additional_properties=True)


_STRINGS = th.ArrayType(th.StringType)

# The credential embedded in a sync; ``credentials`` rows carry the same keys as columns.
_SYNC_CREDENTIAL = _object(
    th.Property("id", th.StringType),
    th.Property("provider", th.StringType),
    th.Property("properties", _object()),
    th.Property("oauth_app_id", th.StringType),
    th.Property("oauth_app", _object()),
    th.Property("metadata", _object()),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
)

# The health columns of ``syncs`` and ``sync_health_history``, by name.
_SYNC_HEALTH = {
    p.name: p
    for p in (
        th.Property(
            "health_status",
            th.StringType,
            description="health.status: healthy, ok, warn, error (no complete list exists).",
        ),
        th.Property(
            "health_credential_status",
            th.StringType,
            description="health.credential.status (older health shape; else null).",
        ),
        th.Property(
            "health_provider_status",
            th.StringType,
            description="health.provider.status (older health shape; else null).",
        ),
        th.Property(
            "health_notes",
            _STRINGS,
            description="Every note of health.credential.notes, then of health.provider.notes.",
        ),
        th.Property("health_sync_id", th.StringType),
        th.Property("health", _object(), description="Sequin's whole health object, as served."),
    )
}

SYNC_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("provider", th.StringType),
    th.Property("stream_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("status", th.StringType, description="active or disabled."),
    th.Property("org_id", th.StringType),
    th.Property("external_id", th.StringType, description="The customer's own key, if set."),
    th.Property("collection_ids", _STRINGS),
    th.Property("credential_id", th.StringType),
    th.Property(
        "credential",
        _SYNC_CREDENTIAL,
        description="The sync's credential; values of secret-named keys are '[REDACTED]'.",
    ),
    th.Property("max_age_days", _integer()),
    th.Property("sync_frequency", th.StringType),
    th.Property("initial_backfill_completed_at", th.DateTimeType),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
    th.Property("metadata", _object(), description="The user's own metadata, as is."),
    *(_SYNC_HEALTH[name] for name in SYNC_HEALTH_COLUMNS),
    th.Property("rate_limit_allowed_requests", _integer()),
    th.Property("rate_limit_interval", _integer(), description="Unit not stated by Sequin."),
    th.Property("rate_limit_max_concurrent_requests", _integer()),
).to_dict()

SYNC_HEALTH_HISTORY_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("sync_id", th.StringType, required=True),
    th.Property(
        "observed_at",
        th.DateTimeType,
        required=True,
        description="When this run read the syncs; the same for every row of one run.",
    ),
    th.Property("status", th.StringType, description="The sync's status: active or disabled."),
    *(_SYNC_HEALTH[name] for name in SYNC_HISTORY_HEALTH_COLUMNS),
).to_dict()

CREDENTIAL_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("kind", th.StringType, description="properties.kind (else a top-level kind)."),
    th.Property("provider", th.StringType),
    th.Property("oauth_app_id", th.StringType),
    th.Property("properties", _object(), description="Secret-named keys are '[REDACTED]'."),
    th.Property("oauth_app", _object(), description="Secret-named keys are '[REDACTED]'."),
    th.Property("metadata", _object()),
    th.Property("health_status", th.StringType, description="health.status."),
    th.Property("health_notes", _STRINGS, description="health.notes."),
    th.Property("health_checked_at", th.DateTimeType, description="health.time, normalised."),
    th.Property("health", _object(), description="Sequin's whole health object, as served."),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()
