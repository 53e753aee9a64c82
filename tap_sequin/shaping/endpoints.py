"""Shaping: one raw endpoint from ``GET /api/destinations/http_endpoints`` becomes one row.

Pure functions, no HTTP. The server sends ``headers`` and the ``url``'s ``user:password@``
in clear: both are redacted as everywhere (``redaction.redact``: secret-named header values,
a URL carrying credentials). ``encrypted_headers`` keeps its keys (which headers exist),
never a value, obfuscated or not.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.objects import Malformed, ObjectShaper
from tap_sequin.shaping.redaction import REDACTED, redact

KNOWN_FIELDS = frozenset({"id", "name", "url", "local", "path", "headers", "encrypted_headers"})


class MalformedEndpoint(Malformed):
    """An endpoint that cannot become a row: not a JSON object, or no usable ``id``."""


class EndpointShaper(ObjectShaper):
    """Turns raw HTTP endpoints into rows; warns about each problem once per run."""

    noun = "http endpoint"
    known_fields = KNOWN_FIELDS
    malformed = MalformedEndpoint

    def shape(self, raw: Any) -> dict[str, Any]:
        """Return the row for one endpoint; raise ``MalformedEndpoint`` if unkeyable."""
        raw, eid = self.keyed(raw)
        read = self._read
        get = redact(raw).get
        encrypted = read.object(raw.get("encrypted_headers"), "encrypted_headers", eid)
        row = {
            "id": eid,
            "name": read.string(get("name"), "name", eid),
            "url": read.string(get("url"), "url", eid),
            "local": read.boolean(get("local"), "local", eid),
            "path": read.string(get("path"), "path", eid),
            "headers": read.object(get("headers"), "headers", eid),
            "encrypted_headers": (
                None if encrypted is None else {str(key): REDACTED for key in encrypted}
            ),
        }
        return read.without_nul(row, eid)
