"""The JSON schema of one row of the ``syncs`` stream.

Plain JSON-schema dicts, no SDK imports, so this module is cheap to import.

Every column except ``id`` is nullable. Object columns say ``additionalProperties: true``
explicitly: the Singer SDK drops keys of a nested object that are neither declared nor
allowed by ``additionalProperties``, and target-postgres loads any object as ``jsonb``.
"""

from __future__ import annotations

from typing import Any


def _string() -> dict[str, Any]:
    return {"type": ["string", "null"]}


def _date_time() -> dict[str, Any]:
    return {"type": ["string", "null"], "format": "date-time"}


def _integer() -> dict[str, Any]:
    return {"type": ["integer", "null"]}


def _object() -> dict[str, Any]:
    return {"type": ["object", "null"], "additionalProperties": True}


CREDENTIAL_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "The sync's credential; values of secret-named keys are '[REDACTED]'.",
    "properties": {
        "id": _string(),
        "provider": _string(),
        "properties": _object(),
        "oauth_app_id": _string(),
        "oauth_app": _object(),
        "metadata": _object(),
        "created_at": _date_time(),
        "updated_at": _date_time(),
    },
    "additionalProperties": True,
}

SYNC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "provider": _string(),
        "stream_id": _string(),
        "name": _string(),
        "status": _string(),
        "org_id": _string(),
        "collection_ids": {"type": ["array", "null"], "items": {"type": "string"}},
        "credential_id": _string(),
        "credential": CREDENTIAL_SCHEMA,
        "max_age_days": _integer(),
        "sync_frequency": _string(),
        "initial_backfill_completed_at": _date_time(),
        "created_at": _date_time(),
        "updated_at": _date_time(),
        "metadata": _object(),
        "health_status": _string(),
        "health_sync_id": _string(),
        "rate_limit_allowed_requests": _integer(),
        "rate_limit_interval": _integer(),
        "rate_limit_max_concurrent_requests": _integer(),
    },
    "required": ["id"],
}
