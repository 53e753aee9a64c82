"""Routes under `/_sandbox/` that let another process (or a person with curl) drive a
running sandbox: change a sync's health or fields, delete one, inject faults (and, when it
serves the self-hosted API, the routes of `tap_sequin.sandbox.self_hosted.admin`).

No token is needed (the sandbox listens on loopback only), and these requests are never
faulted, delayed or recorded in the request log. `ROUTES` lists them; `tap-sequin-sandbox
--help` prints that list.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Protocol

from tap_sequin.sandbox.faults import Faults, Rule
from tap_sequin.sandbox.replies import Reply, summary
from tap_sequin.sandbox.requestlog import RequestLog, Stats
from tap_sequin.sandbox.self_hosted import admin as self_hosted_admin
from tap_sequin.sandbox.self_hosted.world import World
from tap_sequin.sandbox.store import KEEP, SyncStore, UnknownSync, to_json
from tap_sequin.sandbox.wire import Head

PREFIX = "/_sandbox/"

ROUTES: tuple[tuple[str, str], ...] = (
    (
        "PATCH /_sandbox/syncs/{id}",
        'change a sync (a JSON object): {"health_status": "error"} sets health.status and '
        '{"health": {...}} replaces the whole health object, null included (updated_at stays, '
        "as Sequin computes health); other keys replace fields, null included "
        '({"name": "x", "created_at": "2023-11-05 05:30:00"}; updated_at moves unless given). '
        "Answers the sync.",
    ),
    ("DELETE /_sandbox/syncs/{id}", "delete a sync, as DELETE /v1/syncs/{id} does"),
    ("GET /_sandbox/faults", "the faults in force (JSON)"),
    (
        "POST /_sandbox/faults",
        'replace them: {"rate_429": 0.1, "rules": [{"path": "/v1/syncs", "kind": "503", '
        '"times": 2}]}; {} heals the API',
    ),
    ("POST /_sandbox/token", '{"token": "new"} sets the token, {"token": null} revokes it'),
    ("POST /_sandbox/latency", '{"latency_ms": 20} delays every API request'),
    ("GET /_sandbox/log", 'the request log: {"data": [record, ...]}'),
    ("DELETE /_sandbox/log", "clear the log and the peak counters"),
    ("GET /_sandbox/stats", "counters (requests, peak in-flight, server CPU seconds, ...)"),
)


class Driven(Protocol):
    """The running sandbox as these routes drive it (`SandboxServer` is one)."""

    store: SyncStore  # the v1 syncs
    world: World | None  # the self-hosted world, when that API is served
    log: RequestLog
    latency_ms: float

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        ...

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults."""
        ...

    def set_token(self, token: str | None) -> None:
        """Make `token` the only valid one (None: none is)."""
        ...

    def stats(self) -> Stats:
        """The running counters."""
        ...


def handle(server: Driven, head: Head, body: bytes) -> Reply:
    """Answer one admin request."""
    route = (head.method, head.path[len(PREFIX) :].rstrip("/"))
    try:
        payload: Any = json.loads(body) if body else {}
    except ValueError:
        return summary(400, "Bad admin request: the body is not JSON")
    try:
        if server.world is not None:
            reply = self_hosted_admin.handle(server.world, route[0], route[1], payload)
            if reply is not None:
                return reply
        if route[1].startswith("syncs/") and route[1].count("/") == 1:
            return _sync_route(server, head.method, route[1][len("syncs/") :], payload)
        if route == ("GET", "log"):
            return Reply(200, to_json({"data": [r.to_dict() for r in server.log.records]}))
        if route == ("DELETE", "log"):
            server.log.clear()
            return Reply(200, to_json({"cleared": True}))
        if route == ("GET", "stats"):
            return Reply(200, to_json(server.stats().to_dict()))
        if route == ("GET", "faults"):
            return Reply(200, to_json(server.faults.to_dict()))
        if route == ("POST", "faults"):
            server.set_faults(_faults(payload))
            return Reply(200, to_json(server.faults.to_dict()))
        if route == ("POST", "token"):
            token = payload.get("token") if isinstance(payload, dict) else 0
            if token is not None and (not isinstance(token, str) or not token.strip()):
                return summary(400, 'Bad admin request: "token" must be a non-empty string or null')
            server.set_token(token)
            return Reply(200, to_json({"revoked": token is None}))
        if route == ("POST", "latency"):
            latency = payload.get("latency_ms") if isinstance(payload, dict) else None
            if isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0:
                return summary(400, 'Bad admin request: "latency_ms" must be a number, 0 or more')
            server.latency_ms = float(latency)
            return Reply(200, to_json({"latency_ms": server.latency_ms}))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        return summary(400, f"Bad admin request: {error}")
    return summary(404, "Not found")


FAULT_KEYS = frozenset(field.name for field in dataclasses.fields(Faults))
RULE_KEYS = frozenset(field.name for field in dataclasses.fields(Rule))


def _faults(payload: Any) -> Faults:
    """``Faults`` from a POST body; ``ValueError`` in words of the body, not of Python."""
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    unknown = sorted(set(payload) - FAULT_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; known: {', '.join(sorted(FAULT_KEYS))}")
    rules = payload.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError(
            '"rules" must be a list of objects such as {"path": "/v1/syncs", "kind": "503"}'
        )
    for rule in rules:
        if set(rule) - RULE_KEYS:
            raise ValueError(f"a rule takes only {', '.join(sorted(RULE_KEYS))}")
    try:
        return Faults.from_dict(payload)
    except (TypeError, AttributeError):
        raise ValueError("a value has the wrong type (rates and times are numbers)") from None


def _sync_route(server: Driven, method: str, sync_id: str, payload: Any) -> Reply:
    try:
        if method == "DELETE":
            server.store.delete(sync_id)
            return Reply(200, to_json({"id": sync_id, "deleted": True}))
        if method == "PATCH":
            if not isinstance(payload, dict):
                return summary(400, "Bad admin request: the body must be a JSON object")
            fields = dict(payload)
            # Every key replaces its field, null included; `health` too, whole.
            new_health = fields.pop("health", KEEP)
            status = {"status": fields.pop("health_status")} if "health_status" in fields else None
            changed = server.store.update(sync_id, fields, status, new_health=new_health)
            return Reply(200, to_json(changed))
    except UnknownSync:
        return summary(404, f"Sync {sync_id} not found")
    return summary(405, "Method not allowed")
