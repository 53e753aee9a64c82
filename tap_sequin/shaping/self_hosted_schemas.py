"""The JSON schemas of the self-hosted server's streams: ``sinks``, ``sink_health_history``,
``backfills``, ``postgres_databases``, ``http_endpoints``.

Declared as in ``schemas`` (the v1 streams'): column order is row order, every column but
the primary key is nullable, objects allow any key, integers declare the 64-bit range.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

from tap_sequin.shaping.fields import INT64_MAX, INT64_MIN
from tap_sequin.shaping.sink_health import SINK_HEALTH_COLUMNS


def _integer() -> th.IntegerType:
    return th.IntegerType(minimum=INT64_MIN, maximum=INT64_MAX)


def _object() -> th.ObjectType:
    return th.ObjectType(additional_properties=True)


_STRINGS = th.ArrayType(th.StringType)
_OBJECTS = th.ArrayType(_object())

_CHECKS = th.ArrayType(
    th.ObjectType(
        th.Property("name", th.StringType),
        th.Property("status", th.StringType),
        th.Property("error", th.StringType),
        additional_properties=True,
    )
)

# The health columns of ``sinks`` and ``sink_health_history``, by name.
_SINK_HEALTH = {
    p.name: p
    for p in (
        th.Property(
            "health_status",
            th.StringType,
            description=(
                "health.status: healthy, warning, error, initializing, waiting, paused; null "
                "when the server sent no health (its health lookup failed)."
            ),
        ),
        th.Property(
            "health_failing_checks",
            _STRINGS,
            description="Names of the checks whose status is not 'healthy', in the server's order.",
        ),
        th.Property(
            "health_errors",
            _STRINGS,
            description="The error messages of those checks (checks without one are skipped).",
        ),
        th.Property(
            "health_checks",
            _CHECKS,
            description="Every check: name, status (healthy, warning, error, stale, notice, ...), "
            "error (null when the check has none).",
        ),
        th.Property(
            "health", _object(), description="The whole health object, secret-named keys redacted."
        ),
    )
}

SINK_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("name", th.StringType),
    th.Property("database", th.StringType, description="The source database's name."),
    th.Property("status", th.StringType, description="active, disabled or paused."),
    th.Property("actions", _STRINGS, description="insert, update, delete."),
    th.Property("destination_type", th.StringType, description="destination.type: kafka, sqs, ..."),
    th.Property(
        "destination",
        _object(),
        description=(
            "The destination's settings with every secret removed (key and value): neither "
            "the server's obfuscated form nor a value in clear is loaded."
        ),
    ),
    th.Property("batch_size", _integer()),
    th.Property("filter", th.StringType),
    th.Property("transform", th.StringType),
    th.Property("routing", th.StringType),
    th.Property("enrichment", th.StringType),
    th.Property("timestamp_format", th.StringType),
    th.Property("active_backfills", _OBJECTS, description="As the server sends them."),
    th.Property("max_retry_count", _integer()),
    th.Property("load_shedding_policy", th.StringType),
    th.Property("message_grouping", th.BooleanType),
    th.Property("annotations", _object(), description="Secret-named keys redacted."),
    th.Property("source", _object()),
    th.Property("tables", _OBJECTS),
    *(_SINK_HEALTH[name] for name in SINK_HEALTH_COLUMNS),
).to_dict()

SINK_HEALTH_HISTORY_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("sink_id", th.StringType, required=True),
    th.Property(
        "observed_at",
        th.DateTimeType,
        required=True,
        description="When this run listed the sinks; the same for every row of one run.",
    ),
    th.Property("sink_name", th.StringType),
    th.Property(
        "status", th.StringType, description="The sink's status: active, disabled, paused."
    ),
    *(_SINK_HEALTH[name] for name in SINK_HEALTH_COLUMNS if name != "health"),
).to_dict()

BACKFILL_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("sink_id", th.StringType),
    th.Property("sink_name", th.StringType),
    th.Property(
        "state", th.StringType, description="active, completed, cancelled, failed or paused."
    ),
    th.Property("table", th.StringType, description="schema.table, or null."),
    th.Property("sort_column", th.StringType),
    th.Property("rows_initial_count", _integer()),
    th.Property("rows_processed_count", _integer()),
    th.Property("rows_ingested_count", _integer()),
    th.Property("inserted_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
    th.Property("completed_at", th.DateTimeType),
    th.Property("canceled_at", th.DateTimeType),
).to_dict()

POSTGRES_DATABASE_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("name", th.StringType),
    th.Property("hostname", th.StringType),
    th.Property("port", _integer()),
    th.Property("database", th.StringType),
    th.Property("username", th.StringType),
    th.Property("ssl", th.BooleanType),
    th.Property("ipv6", th.BooleanType),
    th.Property("use_local_tunnel", th.BooleanType),
    th.Property("pool_size", _integer()),
    th.Property("queue_interval", _integer()),
    th.Property("queue_target", _integer()),
    th.Property("replication_slot_id", th.StringType, description="The first slot's id."),
    th.Property("replication_slot_name", th.StringType, description="The first slot's name."),
    th.Property("publication_name", th.StringType, description="The first slot's publication."),
    th.Property("replication_slot_status", th.StringType, description="active or disabled."),
    th.Property("replication_slots", _OBJECTS, description="Every slot, as the server sends it."),
    th.Property("is_replica", th.BooleanType, description="True when the server names a primary."),
    th.Property("primary", _object(), description="A replica's primary (no password); else null."),
).to_dict()

HTTP_ENDPOINT_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("name", th.StringType),
    th.Property("url", th.StringType, description="'[REDACTED]' when it carries user:password@."),
    th.Property("local", th.BooleanType),
    th.Property("path", th.StringType, description="A local endpoint's path."),
    th.Property("headers", _object(), description="Values of secret-named headers redacted."),
    th.Property(
        "encrypted_headers",
        _object(),
        description="The names of the encrypted headers; every value is '[REDACTED]'.",
    ),
).to_dict()
