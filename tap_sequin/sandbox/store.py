"""The sandbox's world: the current syncs and credentials, JSON bodies cached as bytes.

Bodies are serialised once, on first use, and the cache entry is dropped whenever the sync
changes, so a hot GET costs a dict lookup. Every method is safe to call from any thread.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from tap_sequin.sandbox.data import format_timestamp

# `SyncStore.update`'s default for `new_health`: leave the health object as it is.
KEEP: Any = object()


class UnknownSync(KeyError):
    """No sync with this id exists (never created, or deleted)."""


def to_json(value: Any) -> bytes:
    """Serialise like the real API: compact JSON, UTF-8, key order kept.

    A string holding a lone surrogate (no UTF-8 exists for it) goes out as JSON's escape,
    ``\\ud800``, as any JSON encoder sends it.
    """
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


class SyncStore:
    """Ordered syncs by id; list order is insertion order."""

    def __init__(
        self,
        syncs: list[dict[str, Any]],
        *,
        owned: bool = False,
        credentials: Callable[[Iterable[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    ) -> None:
        """Serve `syncs`; they are copied first unless `owned` says nobody else holds them.

        `credentials` makes the credentials listing from the current syncs (None: empty).
        """
        self._lock = threading.Lock()
        if not owned:
            # A JSON round trip copies API-shaped data several times faster than deepcopy.
            syncs = json.loads(json.dumps(syncs))
        self._syncs: dict[str, dict[str, Any]] = {s["id"]: s for s in syncs}
        self._bodies: dict[str, bytes] = {}
        self._list_body: bytes | None = None
        self._credentials = credentials
        self._fixed_credentials: list[Any] | None = None
        self._credentials_body: bytes | None = None

    def set_credentials(self, credentials: list[Any] | None) -> None:
        """Serve exactly `credentials` (any JSON values) from now on; None: generated again."""
        with self._lock:
            self._fixed_credentials = None if credentials is None else copy.deepcopy(credentials)
            self._credentials_body = None

    def credentials_body(self) -> bytes:
        """The JSON body of `GET /v1/credentials`: `{"data": [credential, ...]}`.

        Built from the current syncs on first use after any change (never modifying them).
        """
        body = self._credentials_body
        if body is not None:
            return body
        with self._lock:
            if self._fixed_credentials is not None:
                listing = self._fixed_credentials
            elif self._credentials is not None:
                listing = self._credentials(self._syncs.values())
            else:
                listing = []
            body = self._credentials_body = to_json({"data": listing})
            return body

    def set_health(self, sync_id: str, health: dict[str, Any]) -> None:
        """Replace a sync's whole health object (not an edit: `updated_at` stays)."""
        with self._lock:
            if sync_id not in self._syncs:
                raise UnknownSync(sync_id)
            self._syncs[sync_id]["health"] = copy.deepcopy(health)
            self._invalidate(sync_id)

    def ids(self) -> list[str]:
        """Ids of the current syncs, in list order."""
        with self._lock:
            return list(self._syncs)

    def get(self, sync_id: str) -> dict[str, Any]:
        """A deep copy of one sync; raises `UnknownSync`."""
        with self._lock:
            if sync_id not in self._syncs:
                raise UnknownSync(sync_id)
            return copy.deepcopy(self._syncs[sync_id])

    def body(self, sync_id: str) -> bytes | None:
        """The JSON body of one sync, or None if it does not exist."""
        body = self._bodies.get(sync_id)
        if body is not None:
            return body
        with self._lock:
            sync = self._syncs.get(sync_id)
            if sync is None:
                return None
            body = self._bodies[sync_id] = to_json(sync)
            return body

    def list_body(self) -> bytes:
        """The JSON body of `GET /v1/syncs`: `{"data": [sync, ...]}`."""
        body = self._list_body
        if body is not None:
            return body
        with self._lock:
            bodies = self._bodies
            for sync_id, sync in self._syncs.items():
                if sync_id not in bodies:
                    bodies[sync_id] = to_json(sync)
            parts = [bodies[sync_id] for sync_id in self._syncs]
            body = self._list_body = b'{"data":[' + b",".join(parts) + b"]}"
            return body

    def add(self, sync: dict[str, Any]) -> None:
        """Append a sync at the end of the list (replacing one with the same id in place)."""
        with self._lock:
            self._syncs[sync["id"]] = copy.deepcopy(sync)
            self._invalidate(sync["id"])

    def delete(self, sync_id: str) -> dict[str, Any]:
        """Remove a sync and return it; raises `UnknownSync`."""
        with self._lock:
            if sync_id not in self._syncs:
                raise UnknownSync(sync_id)
            self._invalidate(sync_id)
            return self._syncs.pop(sync_id)

    def update(
        self,
        sync_id: str,
        fields: dict[str, Any],
        health: dict[str, Any] | None = None,
        *,
        new_health: Any = KEEP,
    ) -> dict[str, Any]:
        """Merge top-level `fields` into a sync and return a copy of the result.

        A change to `fields` bumps `updated_at` (unless `fields` sets it), as the API does for
        user edits. Health changes leave `updated_at` alone (Sequin computes health itself,
        so it is not an edit of the sync): `new_health` (any JSON value, null included)
        replaces the whole health object, then `health` is merged into it.
        """
        with self._lock:
            sync = self._syncs.get(sync_id)
            if sync is None:
                raise UnknownSync(sync_id)
            if new_health is not KEEP:
                sync["health"] = copy.deepcopy(new_health)
            if fields:
                fields = copy.deepcopy(fields)
                fields.pop("id", None)
                if "updated_at" not in fields:
                    # Never move backwards: the seeded data may be dated after the wall clock.
                    now = format_timestamp(time.time())
                    fields["updated_at"] = max(now, str(sync.get("updated_at") or ""))
                sync.update(fields)
            if health:
                current = sync.get("health")
                merged = dict(current) if isinstance(current, dict) else {}
                merged.update(health)
                sync["health"] = merged
            self._invalidate(sync_id)
            return copy.deepcopy(sync)

    def _invalidate(self, sync_id: str) -> None:
        self._bodies.pop(sync_id, None)
        self._list_body = None
        self._credentials_body = None
