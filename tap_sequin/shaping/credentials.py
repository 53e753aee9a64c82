"""Shaping: one raw credential from ``GET /v1/credentials`` becomes one ``CREDENTIAL_SCHEMA`` row.

Pure functions of the input, no HTTP. Secrets are redacted exactly as in a sync's embedded
``credential`` (``redaction``, on the whole object: properties, oauth_app, metadata,
at any depth); ``kind`` comes from ``properties.kind`` (some pages show a top-level ``kind``,
used when ``properties`` has none); health is flattened as ``tap_sequin.shaping.health`` says;
timestamps are normalised and NUL replaced as for syncs. Unknown fields are dropped with a
warning, once per run; a credential without a usable ``id`` raises ``MalformedCredential``.
"""

from __future__ import annotations

import logging
from typing import Any

from tap_sequin.shaping.fields import FieldReader
from tap_sequin.shaping.health import credential_health
from tap_sequin.shaping.problems import ProblemLog, json_type
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


class MalformedCredential(ValueError):
    """A credential that cannot become a row: not a JSON object, or no usable ``id``."""


class CredentialShaper:
    """Turns raw credentials into rows; warns about each problem once per run."""

    def __init__(self, logger: logging.Logger) -> None:
        self.problems = ProblemLog(logger, "credential")
        self._read = FieldReader(self.problems)

    def expect_clean_text(self, clean_text_only: bool) -> None:
        """Whether the objects shaped next come from an answer that cannot hold NUL or a
        lone surrogate (``tap_sequin.client.clean_text``)."""
        self._read.clean_text_only = clean_text_only

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one credential; raise ``MalformedCredential`` if unkeyable."""
        self.problems.next_object()
        if not isinstance(raw, dict):
            raise MalformedCredential(
                f"Expected a credential to be a JSON object, got {json_type(raw)}."
            )
        credential_id = raw.get("id")
        if not isinstance(credential_id, str) or not credential_id.strip():
            got = "a blank string" if isinstance(credential_id, str) else json_type(credential_id)
            raise MalformedCredential(
                f"A credential has no usable 'id' (expected a non-empty string, got {got}), "
                "so it cannot be keyed."
            )
        if not KNOWN_FIELDS.issuperset(raw):
            self.problems.unknown_keys(raw, KNOWN_FIELDS, credential_id)
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

    def log_summary(self) -> None:
        """Log how many credentials had each problem that occurred more than once."""
        self.problems.log_summary()
