"""Shaping: one raw database from ``GET /api/postgres_databases`` becomes one row.

Pure functions, no HTTP. The password never reaches a row, not even obfuscated: the row has
no such column, and a replica's ``primary`` loses every secret too. The first replication
slot (a database normally has one) gives the slot columns; every slot is kept as sent.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.objects import Malformed, ObjectShaper
from tap_sequin.shaping.redaction import without_secrets

KNOWN_FIELDS = frozenset(
    {
        "id",
        "name",
        "hostname",
        "port",
        "database",
        "username",
        "password",
        "ssl",
        "ipv6",
        "use_local_tunnel",
        "pool_size",
        "queue_interval",
        "queue_target",
        "replication_slots",
        "primary",
    }
)


class MalformedDatabase(Malformed):
    """A database that cannot become a row: not a JSON object, or no usable ``id``."""


class DatabaseShaper(ObjectShaper):
    """Turns raw Postgres databases into rows; warns about each problem once per run."""

    noun = "postgres database"
    known_fields = KNOWN_FIELDS
    malformed = MalformedDatabase

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one database; raise ``MalformedDatabase`` if unkeyable."""
        raw, did = self.keyed(raw)
        read = self._read
        string, integer, boolean = read.string, read.integer, read.boolean
        get = raw.get
        slots = without_secrets(read.objects(get("replication_slots"), "replication_slots", did))
        slot = slots[0] if slots else {}
        primary = read.object(get("primary"), "primary", did)
        row = {
            "id": did,
            "name": string(get("name"), "name", did),
            "hostname": string(get("hostname"), "hostname", did),
            "port": integer(get("port"), "port", did),
            "database": string(get("database"), "database", did),
            "username": string(get("username"), "username", did),
            "ssl": boolean(get("ssl"), "ssl", did),
            "ipv6": boolean(get("ipv6"), "ipv6", did),
            "use_local_tunnel": boolean(get("use_local_tunnel"), "use_local_tunnel", did),
            "pool_size": integer(get("pool_size"), "pool_size", did),
            "queue_interval": integer(get("queue_interval"), "queue_interval", did),
            "queue_target": integer(get("queue_target"), "queue_target", did),
            "replication_slot_id": string(slot.get("id"), "replication_slots[0].id", did),
            "replication_slot_name": string(
                slot.get("slot_name"), "replication_slots[0].slot_name", did
            ),
            "publication_name": string(
                slot.get("publication_name"), "replication_slots[0].publication_name", did
            ),
            "replication_slot_status": string(
                slot.get("status"), "replication_slots[0].status", did
            ),
            "replication_slots": slots,
            "is_replica": primary is not None,
            "primary": None if primary is None else without_secrets(primary),
        }
        return read.without_nul(row, did)
