"""A sink's `health` object, and the sinks whose health moves from run to run.

The shape is `to_external(%Health{})` and `to_external(%Health.Check{})` in
`lib/sequin/transforms/transforms.ex`: `{"name": "Consumer health", "status": ..., "checks":
[{"name": ..., "status": ..., "error": ...}]}`, `error` only when the check has one. The
overall status follows the checks as `Sequin.Health.health/1` computes it.

Moving health, by place in the seeded list (a scheduled demo passes its run counter, so a
history shows incidents that start and end):

| place | unhealthy in runs | what |
| --- | --- | --- |
| 1 | 2, 3, then 6, 7, ... (two of every four) | `Message delivery` `error` |
| 4 | 3, 6, 9, ... (one of every three) | `Messages pending delivery` `warning` |
"""

from __future__ import annotations

from typing import Any

ENTITY_NAME = "Consumer health"
CHECK_NAMES: tuple[str, ...] = (
    "Sink configuration",
    "Message filtering",
    "Message ingestion",
    "Messages pending delivery",
    "Message delivery",
)
STATUSES = ("healthy", "warning", "error", "initializing", "waiting", "paused")
CHECK_STATUSES = ("healthy", "warning", "error", "initializing", "waiting", "stale", "notice")

DELIVERY_ERROR = (
    "Failed to deliver messages: leader not available for the topic (broker "
    "b-1.kafka.internal:9092)"
)
PENDING_WARNING = "Messages are backing up: 12,400 messages pending delivery for over 5 minutes"


def check(name: str, status: str, error: str | None = None) -> dict[str, Any]:
    """One check; `error` is left out when there is none, as the server does."""
    out: dict[str, Any] = {"name": name, "status": status}
    if error is not None:
        out["error"] = error
    return out


def overall_status(checks: list[dict[str, Any]], paused: bool) -> str:
    """The health status the server derives from the checks (paused sinks: `paused`)."""
    statuses = {c.get("status") for c in checks}
    if paused:
        return "paused"
    for found, status in (
        ("error", "error"),
        ("stale", "warning"),
        ("warning", "warning"),
        ("initializing", "initializing"),
        ("waiting", "waiting"),
    ):
        if found in statuses:
            return status
    return "healthy"


def health(checks: list[dict[str, Any]], paused: bool = False) -> dict[str, Any]:
    """The whole health object for `checks`."""
    return {"name": ENTITY_NAME, "status": overall_status(checks, paused), "checks": checks}


def _all(status: str) -> list[dict[str, Any]]:
    return [check(name, status) for name in CHECK_NAMES]


def _with(changes: dict[str, tuple[str, str | None]]) -> list[dict[str, Any]]:
    return [
        check(name, *changes[name]) if name in changes else check(name, "healthy")
        for name in CHECK_NAMES
    ]


# The seeded health patterns, by name.
PATTERNS: dict[str, list[dict[str, Any]]] = {
    "healthy": _all("healthy"),
    "notice": _with({"Messages pending delivery": ("notice", "1,204 messages pending delivery")}),
    "warning": _with(
        {
            "Message ingestion": (
                "stale",
                "No messages ingested for 12 minutes while the table kept changing",
            )
        }
    ),
    "error": _with({"Message delivery": ("error", DELIVERY_ERROR)}),
    # A configuration error stops every later check, as the server reports it.
    "config_error": [
        check(
            "Sink configuration",
            "error",
            "Publication `sequin_pub` does not include table public.orders",
        ),
        *[check(name, "initializing") for name in CHECK_NAMES[1:]],
    ],
    "initializing": [check(CHECK_NAMES[0], "healthy"), *_all("initializing")[1:]],
    "waiting": _with(
        {"Message filtering": ("waiting", None), "Message ingestion": ("waiting", None)}
    ),
    "paused": _all("healthy"),
}


def moving_checks(place: int, run: int) -> list[dict[str, Any]] | None:
    """The checks of the sink at `place` in `run` (1-based); None: its health never moves."""
    if place == 1:
        if (run - 1) % 4 in (1, 2):
            return _with({"Message delivery": ("error", DELIVERY_ERROR)})
        return _all("healthy")
    if place == 4:
        if (run - 1) % 3 == 2:
            return _with({"Messages pending delivery": ("warning", PENDING_WARNING)})
        return _all("healthy")
    return None
