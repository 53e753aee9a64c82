"""Shaping: one raw sink from ``GET /api/sinks`` becomes one ``SINK_SCHEMA`` row.

Pure functions, no HTTP. The destination's secrets are removed, key and all
(``redaction.without_secrets``): the server sends them obfuscated (``abc********z``), or in
clear when asked to, and neither may be loaded. Besides secret-named keys, the server marks
some fields secret whose names do not say so (``DESTINATION_SECRETS``); a value with the
shape of an obfuscated secret is removed whatever its key. Health is flattened as
``sink_health`` says. Unknown fields are dropped with a warning, once per run.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.objects import Malformed, ObjectShaper
from tap_sequin.shaping.redaction import redact, without_secrets
from tap_sequin.shaping.sink_health import SINK_HEALTH_COLUMNS, sink_health

KNOWN_FIELDS = frozenset(
    {
        "id",
        "name",
        "database",
        "status",
        "actions",
        "destination",
        "batch_size",
        "filter",
        "transform",
        "routing",
        "enrichment",
        "timestamp_format",
        "active_backfills",
        "max_retry_count",
        "load_shedding_policy",
        "message_grouping",
        "annotations",
        "source",
        "tables",
        "health",
    }
)

# Fields the server sends as secrets (``SensitiveValue``) although no secret word names
# them: an AWS access key's id, a GCP service account's identity.
DESTINATION_SECRETS = frozenset(
    {"access_key_id", "aws_access_key_id", "client_email", "client_id", "auth_value"}
)


class MalformedSink(Malformed):
    """A sink that cannot become a row: not a JSON object, or no usable ``id``."""


def destination_without_secrets(value: dict[str, Any]) -> dict[str, Any]:
    """A sink's ``destination`` with every secret removed, key and all."""
    kept = without_secrets(value, DESTINATION_SECRETS)
    return kept if isinstance(kept, dict) else {}


class SinkShaper(ObjectShaper):
    """Turns raw sinks into rows; warns about each problem once per run."""

    noun = "sink"
    known_fields = KNOWN_FIELDS
    malformed = MalformedSink

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one sink; raise ``MalformedSink`` if unkeyable."""
        raw, sid = self.keyed(raw)
        read = self._read
        string, integer, obj = read.string, read.integer, read.object
        get = raw.get
        destination = obj(get("destination"), "destination", sid)
        kind = string(destination.get("type"), "destination.type", sid) if destination else None
        row = {
            "id": sid,
            "name": string(get("name"), "name", sid),
            "database": string(get("database"), "database", sid),
            "status": string(get("status"), "status", sid),
            "actions": read.strings(get("actions"), "actions", sid),
            "destination_type": kind,
            "destination": None
            if destination is None
            else destination_without_secrets(destination),
            "batch_size": integer(get("batch_size"), "batch_size", sid),
            "filter": string(get("filter"), "filter", sid),
            "transform": string(get("transform"), "transform", sid),
            "routing": string(get("routing"), "routing", sid),
            "enrichment": string(get("enrichment"), "enrichment", sid),
            "timestamp_format": string(get("timestamp_format"), "timestamp_format", sid),
            "active_backfills": redact(
                read.objects(get("active_backfills"), "active_backfills", sid)
            ),
            "max_retry_count": integer(get("max_retry_count"), "max_retry_count", sid),
            "load_shedding_policy": string(
                get("load_shedding_policy"), "load_shedding_policy", sid
            ),
            "message_grouping": read.boolean(get("message_grouping"), "message_grouping", sid),
            "annotations": redact(obj(get("annotations"), "annotations", sid, check_nesting=True)),
            "source": redact(obj(get("source"), "source", sid)),
            "tables": redact(read.objects(get("tables"), "tables", sid)),
        }
        row.update(zip(SINK_HEALTH_COLUMNS, sink_health(get("health"), sid, read), strict=True))
        return read.without_nul(row, sid)
