"""`Sandbox`: the sandbox server on a background thread of the current process.

`Background` holds what every mode shares (lifecycle, log, faults, latency, token, runs);
`Sandbox` adds the v1 API's world (syncs and credentials).

The event loop and every socket live on that thread; `start()` returns once it listens,
`stop()` returns once every socket is closed and the thread has ended. Methods that change
the world may be called from any thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import random
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from tap_sequin.sandbox.data import generate_syncs, random_sync
from tap_sequin.sandbox.faults import Faults
from tap_sequin.sandbox.requestlog import RequestRecord, Stats
from tap_sequin.sandbox.server import SandboxServer

T = TypeVar("T")
B = TypeVar("B", bound="Background")


class Background:
    """A `SandboxServer` on `http://127.0.0.1:<port>`, served from a background thread."""

    def __init__(self, server: SandboxServer, seed: int, port: int) -> None:
        """Serve `server` on 127.0.0.1:`port` once started (0: a free port)."""
        self.seed = seed
        self.port = port
        self._server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self: B) -> B:
        """Listen in a background thread; return self. Does nothing if already started."""
        if self._thread is not None:
            return self
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="sequin-sandbox", daemon=True
        )
        self._thread.start()
        try:
            self.port = ready.result(timeout=10)
        except BaseException:
            self._thread.join()
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Close every socket and end the thread. Does nothing if not running."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._thread = None
        self._loop = None

    def __enter__(self: B) -> B:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: concurrent.futures.Future[int]) -> None:
        loop = asyncio.new_event_loop()
        try:
            try:
                port = loop.run_until_complete(self._server.listen("127.0.0.1", self.port))
            except BaseException as error:  # noqa: BLE001 (re-raised by start())
                ready.set_exception(error)
                return
            self._loop = loop
            ready.set_result(port)
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's thread (or here, if not running) and return its result."""
        loop = self._loop
        if loop is None:
            return fn()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def call() -> None:
            try:
                done.set_result(fn())
            except BaseException as error:  # noqa: BLE001 (re-raised by the caller)
                done.set_exception(error)

        loop.call_soon_threadsafe(call)
        return done.result(timeout=10)

    # -- what a test reads ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first (admin routes excluded)."""
        return list(self._server.log.records)

    def clear_log(self) -> None:
        """Forget the logged requests and restart the peak counters."""
        self._on_loop(self._server.log.clear)

    def stats(self) -> Stats:
        """Counters: requests, peak in-flight requests and connections, server CPU seconds."""
        return self._on_loop(self._server.stats)

    def set_run(self, run: int) -> None:
        """Serve the world as it is in `run` (see `tap_sequin.sandbox.runs`, or
        `tap_sequin.sandbox.self_hosted.health` and `.backfills`)."""
        self._on_loop(lambda: self._server.set_run(run))

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults; rule counters start again from zero."""
        self._on_loop(lambda: self._server.set_faults(faults))

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._server.faults

    def set_latency(self, latency_ms: float) -> None:
        """Change the latency added to every API request."""
        self._server.latency_ms = latency_ms

    def set_token(self, token: str) -> None:
        """Make `token` the only valid one; requests with any other get 401."""
        self._server.api.token = token

    def revoke_token(self) -> None:
        """From now on every API request gets 401."""
        self._server.api.token = None


class Sandbox(Background):
    """A local Sequin v1 API on `http://127.0.0.1:<port>`.

    `syncs` is how many seeded syncs to serve, or the syncs themselves (API shape).
    `port=0` lets the OS choose. `latency_ms` delays every API request, concurrently.
    """

    def __init__(
        self,
        syncs: int | list[dict[str, Any]] = 50,
        seed: int = 1,
        token: str = "sandbox-token",  # noqa: S107 (the sandbox's public default)
        faults: Faults | None = None,
        latency_ms: float = 0.0,
        port: int = 0,
        run: int = 1,
    ) -> None:
        generated = isinstance(syncs, int)
        data = generate_syncs(syncs, seed, run) if isinstance(syncs, int) else syncs
        server = SandboxServer(
            data,
            seed=seed,
            token=token,
            faults=faults,
            latency_ms=latency_ms,
            owned=generated,
            run=run,
        )
        super().__init__(server, seed, port)
        self._added = 0

    # -- the v1 world --------------------------------------------------------------------

    @property
    def sync_ids(self) -> list[str]:
        """Ids of the current syncs, in list order."""
        return self._server.store.ids()

    def sync(self, sync_id: str) -> dict[str, Any]:
        """A copy of one current sync; raises KeyError if there is none."""
        return self._server.store.get(sync_id)

    def delete_sync(self, sync_id: str) -> None:
        """Remove a sync, as `DELETE /v1/syncs/{id}` does; raises KeyError if unknown."""
        self._server.store.delete(sync_id)

    def update_sync(
        self, sync_id: str, *, health_status: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change top-level fields (bumping `updated_at`) and/or the health status (not
        bumping it: Sequin computes health, it is no edit). Returns the updated sync."""
        health = None if health_status is None else {"status": health_status}
        return self._server.store.update(sync_id, fields, health)

    def add_sync(self, sync: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append a sync (a new generated one if None) at the end of the list; return it."""
        if sync is None:
            self._added += 1
            index = 2_000_000 + self._added
            rng = random.Random(f"{self.seed}-added-{index}")  # noqa: S311 (test data)
            sync = random_sync(rng, index)
        self._server.store.add(sync)
        return dict(sync)

    def set_health(self, sync_id: str, health: dict[str, Any]) -> None:
        """Replace a sync's whole health object (any shape); `updated_at` stays."""
        self._server.store.set_health(sync_id, health)

    def credentials(self) -> list[dict[str, Any]]:
        """The current `GET /v1/credentials` listing."""
        listing: list[dict[str, Any]] = json.loads(self._server.store.credentials_body())["data"]
        return listing

    def set_credentials(self, credentials: list[Any] | None) -> None:
        """Serve exactly `credentials` from `GET /v1/credentials`; None: the generated ones."""
        self._server.store.set_credentials(credentials)
