"""Routes under `/_sandbox/` that let another process drive a running sandbox.

No token is needed (the sandbox listens on loopback only), and these requests are never
faulted, delayed or recorded in the request log.

| route | effect |
| --- | --- |
| `GET /_sandbox/log` | `{"data": [record, ...]}` |
| `DELETE /_sandbox/log` | clear the log and the peaks |
| `GET /_sandbox/stats` | counters (peak in-flight, server CPU seconds, ...) |
| `GET /_sandbox/faults` / `POST /_sandbox/faults` | read / replace the faults (JSON) |
| `POST /_sandbox/token` | `{"token": "new"}` sets the token, `{"token": null}` revokes it |
| `POST /_sandbox/latency` | `{"latency_ms": 20}` |
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tap_sequin.sandbox.api import Reply, summary
from tap_sequin.sandbox.faults import Faults
from tap_sequin.sandbox.store import to_json
from tap_sequin.sandbox.wire import Head

if TYPE_CHECKING:
    from tap_sequin.sandbox.server import SandboxServer

PREFIX = "/_sandbox/"


def handle(server: SandboxServer, head: Head, body: bytes) -> Reply:
    """Answer one admin request."""
    route = (head.method, head.path[len(PREFIX) :].rstrip("/"))
    try:
        payload: Any = json.loads(body) if body else {}
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
            server.set_faults(Faults.from_dict(payload))
            return Reply(200, to_json(server.faults.to_dict()))
        if route == ("POST", "token"):
            token = payload.get("token")
            server.api.token = None if token is None else str(token)
            return Reply(200, to_json({"revoked": token is None}))
        if route == ("POST", "latency"):
            server.latency_ms = float(payload["latency_ms"])
            return Reply(200, to_json({"latency_ms": server.latency_ms}))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        return summary(400, f"Bad admin request: {error}")
    return summary(404, "Not found")
