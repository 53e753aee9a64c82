"""Shaping: one raw backfill from ``GET /api/sinks/{id}/backfills`` becomes one row.

Pure functions, no HTTP. The sink is named by the request (its id) and by the sinks
listing (its name); the server's ``sink_consumer`` (the sink's name) is the fallback.
Timestamps are normalised to RFC 3339 UTC.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.objects import Malformed, ObjectShaper

KNOWN_FIELDS = frozenset(
    {
        "id",
        "sink_consumer",
        "state",
        "table",
        "sort_column",
        "rows_initial_count",
        "rows_processed_count",
        "rows_ingested_count",
        "completed_at",
        "canceled_at",
        "inserted_at",
        "updated_at",
    }
)


class MalformedBackfill(Malformed):
    """A backfill that cannot become a row: not a JSON object, or no usable ``id``."""


class BackfillShaper(ObjectShaper):
    """Turns raw backfills into rows; warns about each problem once per run."""

    noun = "backfill"
    known_fields = KNOWN_FIELDS
    malformed = MalformedBackfill

    def shape_of(self, raw: Any, sink_id: str, sink_name: str | None) -> dict[str, Any]:
        """The row for one backfill of sink ``sink_id``; raises ``MalformedBackfill``."""
        raw, bid = self.keyed(raw)
        read = self._read
        string, integer, timestamp = read.string, read.integer, read.timestamp
        get = raw.get
        row = {
            "id": bid,
            "sink_id": sink_id,
            "sink_name": sink_name or string(get("sink_consumer"), "sink_consumer", bid),
            "state": string(get("state"), "state", bid),
            "table": string(get("table"), "table", bid),
            "sort_column": string(get("sort_column"), "sort_column", bid),
            "rows_initial_count": integer(get("rows_initial_count"), "rows_initial_count", bid),
            "rows_processed_count": integer(
                get("rows_processed_count"), "rows_processed_count", bid
            ),
            "rows_ingested_count": integer(get("rows_ingested_count"), "rows_ingested_count", bid),
            "inserted_at": timestamp(get("inserted_at"), "inserted_at", bid),
            "updated_at": timestamp(get("updated_at"), "updated_at", bid),
            "completed_at": timestamp(get("completed_at"), "completed_at", bid),
            "canceled_at": timestamp(get("canceled_at"), "canceled_at", bid),
        }
        return read.without_nul(row, bid)

    def shape(self, raw: Any) -> dict[str, Any]:
        """The row for one backfill whose sink only its ``sink_consumer`` names."""
        return self.shape_of(raw, "", None)
