"""Admin routes that change a running self-hosted sandbox's world (under `/_sandbox/`, like
the other admin routes: no token, never faulted, delayed or logged). `ROUTES` lists them.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.sandbox.replies import Reply, summary
from tap_sequin.sandbox.self_hosted.health import CHECK_STATUSES, STATUSES
from tap_sequin.sandbox.self_hosted.world import UnknownSink, World, dump

ROUTES: tuple[tuple[str, str], ...] = (
    (
        "PATCH /_sandbox/sinks/{id_or_name}",
        'change a sink (a JSON object; any of these keys): {"health_status": "error"} sets '
        'health.status; {"check": {"name": "Message delivery", "status": "error", "error": '
        '"..."}} sets one check (no "error": none) and the status follows the checks; '
        '{"health": {...}} replaces the whole health object and {"health": null} leaves the '
        'health key out, as when the server fails to look health up; {"hidden": true} leaves '
        "the sink out of GET /api/sinks while GET /api/sinks/{id} still answers it, as when "
        'the server fails to serialise it ({"hidden": false} lists it again). Answers the '
        "sink.",
    ),
    ("DELETE /_sandbox/sinks/{id_or_name}", "delete a sink and its backfills"),
    (
        "POST /_sandbox/server_health",
        '{"error": "Redis is unreachable"} makes GET /health answer 500 with that error; '
        '{"error": null} makes it answer 200 again',
    ),
)


def handle(world: World, method: str, route: str, payload: Any) -> Reply | None:
    """Answer an admin route of the self-hosted world; None if `route` is none of them."""
    if route == "server_health" and method == "POST":
        error = payload.get("error") if isinstance(payload, dict) else 0
        if error is not None and (not isinstance(error, str) or not error.strip()):
            return summary(400, 'Bad admin request: "error" must be a non-empty string or null')
        world.server_error = error
        return Reply(200, dump({"ok": error is None}))
    if not route.startswith("sinks/") or route.count("/") != 1:
        return None
    sink_id = world.resolve(route[len("sinks/") :])
    if sink_id is None:
        return summary(404, f"Sink {route[len('sinks/') :]} not found")
    try:
        if method == "DELETE":
            world.delete(sink_id)
            return Reply(200, dump({"id": sink_id, "deleted": True}))
        if method == "PATCH":
            problem = _change(world, sink_id, payload)
            return (
                summary(400, f"Bad admin request: {problem}") if problem else _sink(world, sink_id)
            )
    except UnknownSink:
        return summary(404, f"Sink {sink_id} not found")
    return summary(405, "Method not allowed")


def _sink(world: World, sink_id: str) -> Reply:
    return Reply(200, world.sink_body(sink_id))


def _change(world: World, sink_id: str, payload: Any) -> str | None:
    """Apply a PATCH body; the problem with it in words, or None once applied."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object"
    unknown = sorted(set(payload) - {"health_status", "check", "health", "hidden"})
    if unknown:
        return f"unknown key {unknown[0]!r}; known: check, health, health_status, hidden"
    if (
        "health" in payload
        and payload["health"] is not None
        and not isinstance(payload["health"], dict)
    ):
        return '"health" must be an object or null'
    status = payload.get("health_status")
    if "health_status" in payload and status not in STATUSES:
        return f'"health_status" must be one of {", ".join(STATUSES)}'
    check = payload.get("check")
    if "check" in payload:
        if not isinstance(check, dict) or check.get("status") not in CHECK_STATUSES:
            known = ", ".join(CHECK_STATUSES)
            return f'"check" must be an object whose "status" is one of {known}'
        if not isinstance(check.get("name"), str) or not isinstance(
            check.get("error", ""), (str, type(None))
        ):
            return '"check" needs a "name" (text) and an "error" that is text or null'
    if "hidden" in payload and not isinstance(payload["hidden"], bool):
        return '"hidden" must be true or false'
    if "health" in payload:
        world.set_health(sink_id, payload["health"])
    if isinstance(check, dict):
        world.set_check(sink_id, check["name"], check["status"], check.get("error"))
    if isinstance(status, str):
        world.set_health_status(sink_id, status)
    if "hidden" in payload:
        world.set_hidden(sink_id, payload["hidden"])
    return None
