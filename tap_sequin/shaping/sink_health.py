"""A self-hosted sink's ``health`` flattened into columns, nothing dropped.

The server sends ``{"name": "Consumer health", "status": S, "checks": [{"name", "status",
"error"?}]}``, with no timestamps; when its health lookup fails the key is absent, and every
health column is null. A check is failing when its status is anything but ``healthy``
(``warning``, ``error``, ``stale``, ``notice``, ``initializing``...): the columns name those
checks and their error messages, and keep every check, so "which check, since when" is one
query over ``sink_health_history``. Secret-named keys are redacted as everywhere
(``tap_sequin.shaping.redaction``).
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.fields import FieldReader
from tap_sequin.shaping.redaction import redact

_HEALTH_KEYS = frozenset({"name", "status", "checks"})
_CHECK_KEYS = frozenset({"name", "status", "error"})
_KEPT = "keeping it in the health column only"
HEALTHY = "healthy"

# The one list of a sink's health columns, in row order (``sinks``; ``sink_health_history``
# has all but ``health``).
SINK_HEALTH_COLUMNS = (
    "health_status",
    "health_failing_checks",
    "health_errors",
    "health_checks",
    "health",
)


def sink_health(value: Any, sink_id: str, read: FieldReader) -> tuple[Any, ...]:
    """A sink's health as the values of ``SINK_HEALTH_COLUMNS``, in that order."""
    if not isinstance(value, dict):
        if value is not None:
            read.problems.wrong_type("health", sink_id, value, "an object")
        return (None,) * len(SINK_HEALTH_COLUMNS)
    value = redact(value)
    if not _HEALTH_KEYS.issuperset(value):
        read.problems.unknown_keys(value, _HEALTH_KEYS, sink_id, "health.", _KEPT)
    checks = []
    failing: list[str] = []
    errors: list[str] = []
    for raw in read.objects(value.get("checks"), "health.checks", sink_id) or ():
        if not _CHECK_KEYS.issuperset(raw):
            read.problems.unknown_keys(raw, _CHECK_KEYS, sink_id, "health.checks[].", _KEPT)
        check = {
            "name": read.string(raw.get("name"), "health.checks[].name", sink_id),
            "status": read.string(raw.get("status"), "health.checks[].status", sink_id),
            "error": read.string(raw.get("error"), "health.checks[].error", sink_id),
        }
        checks.append(check)
        if check["status"] != HEALTHY:
            failing.append(check["name"] or "(unnamed check)")
            if check["error"]:
                errors.append(check["error"])
    return (
        read.string(value.get("status"), "health.status", sink_id),
        failing,
        errors,
        checks,
        value,
    )
