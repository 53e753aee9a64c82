"""The sandbox's HTTP server: one asyncio protocol per connection, faults applied on the way.

Latency and slow answers are `call_later` timers, so a sleeping request never holds up
another connection. Each connection answers its requests in order (HTTP/1.1 pipelining is
honoured, not parallelised). Each response is written in one `write` with TCP_NODELAY set.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import IO, Any

from tap_sequin.sandbox import admin
from tap_sequin.sandbox.api import Api
from tap_sequin.sandbox.credentials import generate_credentials
from tap_sequin.sandbox.faults import Decision, FaultPlan, Faults, fault_reply
from tap_sequin.sandbox.replies import Reply, summary
from tap_sequin.sandbox.requestlog import RequestLog, RequestRecord, Stats
from tap_sequin.sandbox.runs import health_for_run
from tap_sequin.sandbox.self_hosted.api import SelfHostedApi
from tap_sequin.sandbox.self_hosted.world import World
from tap_sequin.sandbox.store import SyncStore, UnknownSync
from tap_sequin.sandbox.wire import (
    MAX_HEAD,
    BadRequest,
    Head,
    parse_head,
    response,
)


class SandboxServer:
    """The world (syncs, token, faults) plus the listening socket and its connections.

    With `world`, it serves the self-hosted server's API from that world instead of v1's
    (`syncs` is then not served, and may be empty).
    """

    def __init__(
        self,
        syncs: list[dict[str, Any]],
        *,
        seed: int = 1,
        token: str | None = "sandbox-token",  # noqa: S107 (the public default)
        faults: Faults | None = None,
        latency_ms: float = 0.0,
        log_sink: IO[str] | None = None,
        cpu_clock: Callable[[], float] = time.thread_time,
        owned: bool = False,
        run: int = 1,
        world: World | None = None,
    ) -> None:
        self.store = SyncStore(
            syncs, owned=owned, credentials=lambda current: generate_credentials(current, seed)
        )
        self.world = world
        self.api: Api | SelfHostedApi = (
            Api(self.store, token, seed) if world is None else SelfHostedApi(world, token)
        )
        self.seed = seed
        self.run = run
        # Places in the list are fixed at start: the moving syncs stay the same ones.
        self._initial_ids = self.store.ids()
        self.latency_ms = latency_ms
        self.log = RequestLog(log_sink)
        self.cpu_clock = cpu_clock
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._cpu_start = cpu_clock()
        self.set_faults(faults or Faults())

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self.plan.faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults; rule and per-path counters start again from zero."""
        self.plan = FaultPlan(faults, self.seed)
        self.api.not_found = faults.not_found
        self.api.revoked = faults.revoked

    def set_token(self, token: str | None) -> None:
        """Make `token` the only valid one (None: every API request gets 401)."""
        self.api.token = token

    def set_run(self, run: int) -> None:
        """Serve the world as it is in `run`: the moving syncs' health and the credentials,
        or the self-hosted world's moving health and backfills."""
        if self.world is not None:
            self.world.set_run(run)
        for place, sync_id in enumerate(self._initial_ids):
            try:
                sync = self.store.get(sync_id)
            except UnknownSync:
                continue
            health = health_for_run(sync, place, run)
            if health is not None:
                self.store.set_health(sync_id, health)
        self.run = run

    async def listen(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start accepting connections; return the port."""
        loop = asyncio.get_running_loop()
        self._cpu_start = self.cpu_clock()  # on the loop's thread, where requests are served
        self._server = await loop.create_server(lambda: Connection(self), host, port)
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1])

    def close(self) -> None:
        """Stop listening and abort every connection (their callbacks run on the next turn)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.abort()

    async def wait_closed(self) -> None:
        """Wait until the listening socket and all connections are gone."""
        if self._server is not None:
            await self._server.wait_closed()
        while self.connections:
            await asyncio.sleep(0)

    def stats(self) -> Stats:
        """Counters; call on the event loop's thread (the CPU clock may be per thread)."""
        return self.log.stats(self.cpu_clock() - self._cpu_start)


class Connection(asyncio.Protocol):
    """One client connection: parse requests, delay, fault, answer, record."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.log = server.log
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.number = 0
        self.started: float | None = None
        self.busy = False
        self.closed = False
        self.timer: asyncio.TimerHandle | None = None
        self.waiting: Head | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.number = self.log.connection_opened()
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.started is not None:
            head = self.waiting
            if head is None:
                self.log.in_flight -= 1  # hung up halfway through sending a request
            else:
                self._record(head, None, "client_closed", None)
            self.started = None
        self.waiting = None
        self.log.connection_closed()
        self.server.connections.discard(self)

    def abort(self) -> None:
        """Close at once, for shutdown."""
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.started is None:
            self.started = self.log.request_started()
        self.buffer += data
        if not self.busy:
            self._process()

    def _process(self) -> None:
        while self.buffer and not self.busy and not self.closed:
            if self.started is None:
                self.started = self.log.request_started()
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self._refuse(BadRequest(431, "Request head too large"))
                return
            try:
                head = parse_head(bytes(self.buffer[:end]))
                total = end + 4 + head.content_length()
            except BadRequest as error:
                self._refuse(error)
                return
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            self._dispatch(head, body)

    def _dispatch(self, head: Head, body: bytes) -> None:
        if head.path.startswith(admin.PREFIX):
            # Driving the sandbox is not traffic under test: no faults, latency or record.
            self.log.in_flight -= 1
            self.started = None
            self._write(*self._encode(head, admin.handle(self.server, head, body)))
            return
        decision = self.server.plan.decide(head.method, head.path)
        delay = self.server.latency_ms
        if decision is not None and decision.kind == "slow":
            delay += self.server.faults.slow_ms
        if delay <= 0:
            self._answer(head, body, decision, deferred=False)
            return
        self.busy = True
        self.waiting = head
        self.timer = asyncio.get_running_loop().call_later(
            delay / 1000.0, self._answer, head, body, decision, True
        )

    def _answer(self, head: Head, body: bytes, decision: Decision | None, deferred: bool) -> None:
        self.timer = None
        self.busy = False
        self.waiting = None
        if self.closed or self.transport is None:
            return
        kind = decision.kind if decision is not None else None
        # Each record is kept before the answer is written, so a client that has its answer
        # always finds the request in the log.
        if kind == "drop":
            self._record(head, None, "dropped", kind)
            self.transport.close()
            self.closed = True
            return
        reply = self._reply(head, body, decision)
        if kind == "cut":
            announced = max(len(reply.body), 1)
            data = response(
                reply.status,
                reply.body[: len(reply.body) // 2],
                content_type=reply.content_type,
                headers=reply.headers,
                head_only=head.method == "HEAD",
                content_length=announced,
            )
            self._record(head, reply.status, None, kind)
            self._write(data, keep_alive=False)
            return
        data, keep_alive = self._encode(head, reply)
        self._record(head, reply.status, None, kind)
        self._write(data, keep_alive)
        if keep_alive and deferred:
            self._process()

    def _reply(self, head: Head, body: bytes, decision: Decision | None) -> Reply:
        api = self.server.api
        reply = (
            None
            if decision is None
            else fault_reply(decision, self.server.faults, api.unauthorised())
        )
        return api.answer(head, body) if reply is None else reply

    def _encode(self, head: Head, reply: Reply) -> tuple[bytes, bool]:
        """The reply as bytes, and whether the connection stays open after it."""
        keep_alive = head.keep_alive
        data = response(
            reply.status,
            reply.body,
            content_type=reply.content_type,
            headers=reply.headers,
            keep_alive=keep_alive,
            head_only=head.method == "HEAD",
        )
        return data, keep_alive

    def _write(self, data: bytes, keep_alive: bool) -> None:
        """Write in one piece (one segment for small answers); close unless keep-alive."""
        assert self.transport is not None
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()
            self.closed = True

    def _refuse(self, error: BadRequest) -> None:
        assert self.transport is not None
        reply = summary(error.status, error.summary)
        self.transport.write(response(reply.status, reply.body, keep_alive=False))
        self.transport.close()
        self.closed = True
        self.log.in_flight -= 1
        self.started = None

    def _record(self, head: Head, status: int | None, error: str | None, fault: str | None) -> None:
        start = self.started if self.started is not None else time.monotonic()
        self.started = None
        record = RequestRecord(
            start=start,
            end=time.monotonic(),
            method=head.method,
            path=head.path,
            query=head.query,
            status=status,
            error=error,
            fault=fault,
            connection=self.number,
        )
        self.log.request_ended(record)
