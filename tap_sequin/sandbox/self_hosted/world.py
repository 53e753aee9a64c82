"""The self-hosted server's current world, and its JSON bodies cached as bytes.

Objects are kept with their secrets as `Sensitive` values and drawn for the wire on first use
after a change: sinks and HTTP endpoints always obfuscated (the server's controllers never
pass `show_sensitive` to them), databases in clear only when asked with `show_sensitive`.
`secrets_in_clear` (sandbox-only) sends every secret in clear, for tests that prove a client
never loads one. Keys are sorted, as the server's JSON encoder writes small Elixir maps.
Every method is safe to call from any thread.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import Any

from tap_sequin.sandbox.self_hosted.backfills import draw
from tap_sequin.sandbox.self_hosted.health import health, moving_checks
from tap_sequin.sandbox.self_hosted.seed import Seeded, Sink
from tap_sequin.sandbox.self_hosted.sensitive import marked, obfuscate, render, secrets_in


class UnknownSink(KeyError):
    """No sink with this id or name exists (never created, or deleted)."""


def dump(value: Any) -> bytes:
    """Compact JSON, UTF-8, keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _lookup(objects: list[dict[str, Any]], id_or_name: str) -> dict[str, Any] | None:
    # The server looks up by id when the text is a UUID, else by name.
    key = "id" if _is_uuid(id_or_name) else "name"
    return next((o for o in objects if o[key] == id_or_name), None)


def _is_uuid(text: str) -> bool:
    parts = text.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdefABCDEF" for p in parts for c in p
    )


class World:
    """Sinks (in list order), their backfills, databases, HTTP endpoints; the server's own
    health for `GET /health`."""

    def __init__(self, seeded: Seeded, *, run: int = 1, secrets_in_clear: bool = False) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[str, Sink] = {s.fields["id"]: s for s in seeded.sinks}
        self._databases = seeded.databases
        self._endpoints = seeded.endpoints
        self.run = run
        self.secrets_in_clear = secrets_in_clear
        self.server_error: str | None = None
        self._cache: dict[Any, bytes] = {}

    # -- reading -----------------------------------------------------------------------

    def sink_ids(self) -> list[str]:
        """Ids of every current sink (hidden ones included), in list order."""
        with self._lock:
            return list(self._sinks)

    def resolve(self, id_or_name: str) -> str | None:
        """The id of the sink `id_or_name` names, or None."""
        with self._lock:
            return self._resolve(id_or_name)

    def _resolve(self, id_or_name: str) -> str | None:
        if _is_uuid(id_or_name):
            return id_or_name if id_or_name in self._sinks else None
        return next((i for i, s in self._sinks.items() if s.fields["name"] == id_or_name), None)

    def sink(self, sink_id: str) -> dict[str, Any]:
        """One sink as the server sends it (a fresh object); raises `UnknownSink`."""
        return dict(json.loads(self.sink_body(sink_id)))

    def list_body(self) -> bytes:
        """`GET /api/sinks`: every sink that is not hidden."""
        return self._cached(("list",), self._draw_list)

    def sink_body(self, sink_id: str) -> bytes:
        """`GET /api/sinks/{id}` (hidden or not); raises `UnknownSink`."""
        return self._cached(("sink", sink_id), lambda: dump(self._draw_sink(sink_id)))

    def backfills_body(self, sink_id: str) -> bytes:
        """`GET /api/sinks/{id}/backfills`; raises `UnknownSink`."""
        return self._cached(
            ("backfills", sink_id), lambda: dump({"data": self._backfills(sink_id)})
        )

    def backfill(self, sink_id: str, backfill_id: str) -> dict[str, Any] | None:
        """One backfill of a sink, or None; raises `UnknownSink`."""
        with self._lock:
            found = [b for b in self._backfills(sink_id) if b["id"] == backfill_id]
        return found[0] if found else None

    def databases_body(self, show_sensitive: bool) -> bytes:
        """`GET /api/postgres_databases`."""
        show = show_sensitive or self.secrets_in_clear
        return self._cached(
            ("databases", show), lambda: dump({"data": render(self._databases, show)})
        )

    def database(self, id_or_name: str, show_sensitive: bool) -> dict[str, Any] | None:
        """One database, or None."""
        found = _lookup(self._databases, id_or_name)
        return None if found is None else render(found, show_sensitive or self.secrets_in_clear)

    def endpoints_body(self) -> bytes:
        """`GET /api/destinations/http_endpoints`."""
        show = self.secrets_in_clear
        return self._cached(("endpoints",), lambda: dump({"data": render(self._endpoints, show)}))

    def endpoint(self, id_or_name: str) -> dict[str, Any] | None:
        """One HTTP endpoint, or None."""
        found = _lookup(self._endpoints, id_or_name)
        return None if found is None else render(found, self.secrets_in_clear)

    def secrets(self) -> list[str]:
        """Every secret of the world in clear: each value carrying `SECRET_MARKER`, be it in
        a secret field, a header or a URL's userinfo."""
        with self._lock:
            return marked(
                [[s.fields for s in self._sinks.values()], self._databases, self._endpoints]
            )

    def obfuscated_secrets(self) -> list[str]:
        """Every secret field's value as the server obfuscates it."""
        with self._lock:
            every = secrets_in(
                [[s.fields for s in self._sinks.values()], self._databases, self._endpoints]
            )
        return [obfuscate(s) for s in every]

    def _cached(self, key: Any, make: Callable[[], bytes]) -> bytes:
        body = self._cache.get(key)
        if body is not None:
            return body
        with self._lock:
            body = self._cache[key] = make()
            return body

    def _draw_list(self) -> bytes:
        return dump({"data": [self._draw_sink(i) for i, s in self._sinks.items() if not s.hidden]})

    def _draw_sink(self, sink_id: str) -> dict[str, Any]:
        found = self._sinks.get(sink_id)
        if found is None:
            raise UnknownSink(sink_id)
        out = render(found.fields, self.secrets_in_clear)
        out["active_backfills"] = [b for b in self._backfills(sink_id) if b["state"] == "active"]
        if found.health is not None:
            out["health"] = copy.deepcopy(found.health)
        return dict(out)

    def _backfills(self, sink_id: str) -> list[dict[str, Any]]:
        found = self._sinks.get(sink_id)
        if found is None:
            raise UnknownSink(sink_id)
        return [draw(plan, found.fields["name"], self.run) for plan in found.backfills]

    # -- changing ----------------------------------------------------------------------

    def _change(self, sink_id: str) -> Sink:
        found = self._sinks.get(sink_id)
        if found is None:
            raise UnknownSink(sink_id)
        self._cache.clear()
        return found

    def set_health(self, sink_id: str, new: dict[str, Any] | None) -> None:
        """Replace a sink's whole health object; None: the `health` key goes missing."""
        with self._lock:
            self._change(sink_id).health = copy.deepcopy(new)

    def set_health_status(self, sink_id: str, status: str) -> None:
        """Set `health.status` only (checks stay)."""
        with self._lock:
            found = self._change(sink_id)
            found.health = {**(found.health or health([])), "status": status}

    def set_check(self, sink_id: str, name: str, status: str, error: str | None) -> None:
        """Set one check (added if the sink has none by that name); the overall status
        follows the checks, as the server derives it."""
        with self._lock:
            found = self._change(sink_id)
            checks = copy.deepcopy((found.health or {}).get("checks") or [])
            new = {"name": name, "status": status, **({} if error is None else {"error": error})}
            places = [i for i, c in enumerate(checks) if c.get("name") == name]
            if places:
                checks[places[0]] = new
            else:
                checks.append(new)
            found.health = health(checks, paused=found.fields["status"] != "active")

    def set_hidden(self, sink_id: str, hidden: bool) -> None:
        """Leave a sink out of the list (it still answers by id), or put it back."""
        with self._lock:
            self._change(sink_id).hidden = hidden

    def delete(self, sink_id: str) -> None:
        """Remove a sink and its backfills; raises `UnknownSink`."""
        with self._lock:
            self._change(sink_id)
            del self._sinks[sink_id]

    def set_run(self, run: int) -> None:
        """Serve the world as it is in `run`: moving health and backfill progress."""
        with self._lock:
            self.run = run
            for found in self._sinks.values():
                checks = moving_checks(found.place, run)
                if checks is not None:
                    found.health = health(checks, paused=found.fields["status"] != "active")
            self._cache.clear()
