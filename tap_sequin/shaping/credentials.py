"""Shaping: one raw credential from ``GET /v1/credentials`` becomes one ``CREDENTIAL_SCHEMA`` row.

Pure functions of the input, no HTTP. Secrets are redacted exactly as in a sync's embedded
``credential`` (``redaction``, on the whole object: properties, oauth_app, metadata,
at any depth); ``kind`` comes from ``properties.kind`` (some pages show a top-level ``kind``,
used when ``properties`` has none); health is flattened as ``tap_sequin.shaping.health`` says;
timestamps are normalised and NUL replaced as for syncs. Unknown fields are dropped with a
warning, once per run; a credential without a usable ``id`` raises ``MalformedCredential``.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.health import credential_health
from tap_sequin.shaping.objects import Malformed, ObjectShaper
from tap_sequin.shaping.redaction import redact

KNOWN_FIELDS = frozenset(
    {
        "id",
        "kind",
        "provider",
        "properties",
        "oauth_app_id",
        "oauth_app",
        "metadata",
        "health",
        "created_at",
        "updated_at",
    }
)


class MalformedCredential(Malformed):
    """A credential that cannot become a row: not a JSON object, or no usable ``id``."""


class CredentialShaper(ObjectShaper):
    """Turns raw credentials into rows; warns about each problem once per run."""

    noun = "credential"
    known_fields = KNOWN_FIELDS
    malformed = MalformedCredential

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one credential; raise ``MalformedCredential`` if unkeyable."""
        raw, credential_id = self.keyed(raw)
        read = self._read
        string, obj, timestamp = read.string, read.object, read.timestamp
        get = redact(raw).get
        cid = credential_id
        properties = obj(get("properties"), "properties", cid)
        kind = properties.get("kind") if properties else None
        kind = string(get("kind") if kind is None else kind, "kind", cid)
        health = credential_health(get("health"), cid, read)
        row = {
            "id": cid,
            "kind": kind,
            "provider": string(get("provider"), "provider", cid),
            "oauth_app_id": string(get("oauth_app_id"), "oauth_app_id", cid),
            "properties": properties,
            "oauth_app": obj(get("oauth_app"), "oauth_app", cid),
            "metadata": obj(get("metadata"), "metadata", cid),
            "health_status": health[0],
            "health_notes": health[1],
            "health_checked_at": health[2],
            "health": health[3],
            "created_at": timestamp(get("created_at"), "created_at", cid, show_value=False),
            "updated_at": timestamp(get("updated_at"), "updated_at", cid, show_value=False),
        }
        return read.without_nul(row, cid)
