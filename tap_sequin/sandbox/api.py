"""Sequin's v1 API on syncs and credentials, as the sandbox answers it (once no fault got in
the way).

Every `/v1` route needs `Authorization: Bearer <token>`; errors are `{"summary": ...}`
bodies, like the real API's. `PATCH` of `health` is sandbox-only: the real API computes
health itself and would not accept it, but a test needs a way to turn a sync unhealthy.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Collection
from typing import Any

from tap_sequin.sandbox.data import random_sync
from tap_sequin.sandbox.replies import Reply, summary
from tap_sequin.sandbox.store import SyncStore, UnknownSync, to_json
from tap_sequin.sandbox.wire import Head

BAD_TOKEN = "Your API key is wrong"  # noqa: S105 (a message, not a secret)
SYNCS = "/v1/syncs"
CREDENTIALS = "/v1/credentials"


class Api:
    """Routes `/v1` requests to the store; holds the one valid token (None: none is)."""

    def __init__(self, store: SyncStore, token: str | None, seed: int) -> None:
        self.store = store
        self.token = token
        self.not_found: Collection[str] = frozenset()
        self.revoked = False
        self._seed = seed
        self._created = 0
        self._lock = threading.Lock()

    def authorised(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header carries the current token."""
        if self.revoked or self.token is None or not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        return scheme.lower() == "bearer" and value.strip() == self.token

    def answer(self, head: Head, body: bytes) -> Reply:
        """Answer one parsed request."""
        return self.handle(head.method, head.path, head.headers.get("authorization"), body)

    def unauthorised(self) -> Reply:
        """The answer to a request whose token is refused."""
        return summary(401, BAD_TOKEN)

    def handle(self, method: str, path: str, authorization: str | None, body: bytes) -> Reply:
        """Answer one request (method already upper-case, path without query)."""
        if path != "/v1" and not path.startswith("/v1/"):
            return summary(404, "Not found")
        if not self.authorised(authorization):
            return summary(401, BAD_TOKEN)
        if method == "HEAD":
            method = "GET"
        if path == CREDENTIALS:
            if method == "GET":
                return Reply(200, self.store.credentials_body())
            return _not_allowed("GET, HEAD")
        if path == SYNCS:
            if method == "GET":
                return Reply(200, self.store.list_body())
            if method == "POST":
                return self._create(body)
            return _not_allowed("GET, HEAD, POST")
        prefix = SYNCS + "/"
        if not path.startswith(prefix) or "/" in path[len(prefix) :] or path == prefix:
            return summary(404, "Not found")
        sync_id = path[len(prefix) :]
        if method not in ("GET", "PATCH", "DELETE"):
            return _not_allowed("GET, HEAD, PATCH, DELETE")
        if sync_id in self.not_found:
            return _no_sync(sync_id)
        try:
            if method == "GET":
                found = self.store.body(sync_id)
                return _no_sync(sync_id) if found is None else Reply(200, found)
            if method == "DELETE":
                self.store.delete(sync_id)
                return Reply(200, to_json({"id": sync_id, "deleted": True}))
            return self._update(sync_id, body)
        except UnknownSync:
            return _no_sync(sync_id)

    def _update(self, sync_id: str, body: bytes) -> Reply:
        fields = _json_object(body)
        if isinstance(fields, Reply):
            return fields
        known = self.store.get(sync_id)
        unknown = sorted(k for k in fields if k not in known or k == "id")
        if unknown:
            errors = {k: ["is not a field that can be changed"] for k in unknown}
            return summary(422, "Validation failed", validation_errors=errors)
        health = fields.pop("health", None)
        if health is not None and not isinstance(health, dict):
            errors = {"health": ["must be an object"]}
            return summary(422, "Validation failed", validation_errors=errors)
        return Reply(200, to_json(self.store.update(sync_id, fields, health)))

    def _create(self, body: bytes) -> Reply:
        fields = _json_object(body)
        if isinstance(fields, Reply):
            return fields
        with self._lock:
            self._created += 1
            index = 1_000_000 + self._created
        rng = random.Random(f"{self._seed}-created-{index}")  # noqa: S311 (test data)
        sync = random_sync(rng, index)
        # external_id is a documented create field that generated syncs carry only sometimes.
        unknown = sorted(k for k in fields if k not in {*sync, "external_id"} or k == "id")
        if unknown:
            errors = {k: ["is not a known field"] for k in unknown}
            return summary(422, "Validation failed", validation_errors=errors)
        sync.update(fields)
        if isinstance(sync.get("health"), dict) and "sync_id" in sync["health"]:
            sync["health"]["sync_id"] = sync["id"]
        self.store.add(sync)
        return Reply(201, to_json(sync))


def _json_object(body: bytes) -> dict[str, Any] | Reply:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return summary(400, "Request body is not valid JSON")
    if not isinstance(value, dict):
        return summary(422, "Validation failed", validation_errors={"body": ["must be an object"]})
    return value


def _no_sync(sync_id: str) -> Reply:
    return summary(404, f"Sync {sync_id} not found")


def _not_allowed(allow: str) -> Reply:
    reply = summary(405, "Method not allowed")
    reply.headers = (("allow", allow),)
    return reply
