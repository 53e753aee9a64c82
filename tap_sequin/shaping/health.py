"""Health objects (of syncs and of credentials) flattened into columns, nothing dropped.

Sequin documents health only by example:

- a sync's current shape: ``{"status": "healthy", "sync_id": "..."}``;
- a sync's older shape: ``{"status": "warn", "credential": {"status": "ok", "notes": [...],
  "time": "..."}, "provider": {"status": "warn", "notes": ["..."]}}``;
- a credential's: ``{"status": "ok", "notes": [...], "time": "..."}``.

Every key of these shapes has a column; the whole object is also kept as it was served, in
the ``health`` column, so a key Sequin adds later is kept there too (and warned about once
per run, as it has no column of its own). Kept with secrets redacted, as everywhere
(``tap_sequin.shaping.redaction``): a health's ``credential`` part may grow a token one day.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.fields import FieldReader
from tap_sequin.shaping.redaction import redact

_SYNC_KEYS = frozenset({"status", "sync_id", "credential", "provider"})
_PART_KEYS = frozenset({"status", "notes", "time"})
_CREDENTIAL_KEYS = _PART_KEYS
_KEPT = "keeping it in the health column only"

# The one list of a sync's health columns, in row order: the syncs schema and row, and the
# sync_health_history schema and row, are built from it.
SYNC_HEALTH_COLUMNS = (
    "health_status",
    "health_sync_id",
    "health_credential_status",
    "health_provider_status",
    "health_notes",
    "health",
)
# sync_health_history keys its rows by sync_id already.
SYNC_HISTORY_HEALTH_COLUMNS = tuple(c for c in SYNC_HEALTH_COLUMNS if c != "health_sync_id")


def sync_health(value: Any, sync_id: str, read: FieldReader) -> tuple[Any, ...]:
    """A sync's health as the values of ``SYNC_HEALTH_COLUMNS``, in that order.

    ``health_notes`` is every note of ``credential`` then of ``provider``, in order; null when
    neither part carries notes (the current shape has none).
    """
    if not isinstance(value, dict):
        if value is None:
            outcome = f"writing null to {', '.join(SYNC_HEALTH_COLUMNS)}"
            read.problems.problem("health", "missing or null", sync_id, outcome=outcome)
        else:
            read.problems.wrong_type("health", sync_id, value, "an object")
        return (None,) * len(SYNC_HEALTH_COLUMNS)
    value = redact(value)
    if not _SYNC_KEYS.issuperset(value):
        read.problems.unknown_keys(value, _SYNC_KEYS, sync_id, "health.", _KEPT)
    credential_status, credential_notes = _part(value, "credential", sync_id, read)
    provider_status, provider_notes = _part(value, "provider", sync_id, read)
    notes = None
    if credential_notes is not None or provider_notes is not None:
        notes = [*(credential_notes or ()), *(provider_notes or ())]
    return (
        read.string(value.get("status"), "health.status", sync_id),
        read.string(value.get("sync_id"), "health.sync_id", sync_id),
        credential_status,
        provider_status,
        notes,
        value,
    )


def _part(
    health: dict[str, Any], name: str, sync_id: str, read: FieldReader
) -> tuple[str | None, list[str] | None]:
    """(status, notes) of the ``credential`` or ``provider`` part of an older-shape health."""
    part = read.object(health.get(name), f"health.{name}", sync_id)
    if not part:
        return None, None
    if not _PART_KEYS.issuperset(part):
        read.problems.unknown_keys(part, _PART_KEYS, sync_id, f"health.{name}.", _KEPT)
    status = read.string(part.get("status"), f"health.{name}.status", sync_id)
    return status, read.strings(part.get("notes"), f"health.{name}.notes", sync_id)


CREDENTIAL_HEALTH_COLUMNS = ("health_status", "health_notes", "health_checked_at", "health")


def credential_health(value: Any, credential_id: str, read: FieldReader) -> tuple[Any, ...]:
    """A credential's health as the values of ``CREDENTIAL_HEALTH_COLUMNS``, in that order.

    A missing health is null without a warning: credentials embedded in syncs carry none.
    """
    health = read.object(value, "health", credential_id)
    if health is None:
        return (None,) * len(CREDENTIAL_HEALTH_COLUMNS)
    health = redact(health)
    if not _CREDENTIAL_KEYS.issuperset(health):
        read.problems.unknown_keys(health, _CREDENTIAL_KEYS, credential_id, "health.", _KEPT)
    return (
        read.string(health.get("status"), "health.status", credential_id),
        read.strings(health.get("notes"), "health.notes", credential_id),
        read.timestamp(health.get("time"), "health.time", credential_id),
        health,
    )
