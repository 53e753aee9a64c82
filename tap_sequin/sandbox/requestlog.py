"""What happened on the wire: one record per request, and running counters.

A request is in flight from the first byte of it the server reads to the last byte of the
answer it writes (or the moment it drops the connection). Times are `time.monotonic()` of
the server's process, so an in-process test can compare them with its own clock.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import IO, Any


@dataclass(slots=True)
class RequestRecord:
    """One request as the server saw it.

    `status` is None when no status line was sent; `error` then says why (`"dropped"`
    for an injected drop, `"client_closed"` when the client hung up first). `fault` names
    the injected fault kind, if any (a cut-off body keeps its status and says `"cut"`).
    `connection` numbers the TCP connection, to tell keep-alive reuse from new connections.
    """

    start: float
    end: float
    method: str
    path: str
    query: str
    status: int | None
    error: str | None
    fault: str | None
    connection: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Stats:
    """Counters. `requests` and the peaks restart at `clear_log`; `connections` (opened)
    and `server_cpu_seconds` count from start. Also readable as `stats["peak_in_flight"]`.
    """

    requests: int
    in_flight: int
    peak_in_flight: int
    connections: int
    open_connections: int
    peak_connections: int
    server_cpu_seconds: float

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class RequestLog:
    """Records and counters; only the server's event loop thread writes to it."""

    def __init__(self, sink: IO[str] | None = None) -> None:
        self.records: list[RequestRecord] = []
        self.sink = sink
        self.in_flight = 0
        self.peak_in_flight = 0
        self.connections = 0
        self.open_connections = 0
        self.peak_connections = 0

    def request_started(self) -> float:
        """Count a new request in flight; return its start time."""
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        return time.monotonic()

    def request_ended(self, record: RequestRecord) -> None:
        """Count a request done and keep its record."""
        self.in_flight -= 1
        self.records.append(record)
        if self.sink is not None:
            self.sink.write(json.dumps(record.to_dict()) + "\n")

    def connection_opened(self) -> int:
        """Count a new connection; return its number."""
        self.connections += 1
        self.open_connections += 1
        if self.open_connections > self.peak_connections:
            self.peak_connections = self.open_connections
        return self.connections

    def connection_closed(self) -> None:
        """Count a connection gone."""
        self.open_connections -= 1

    def clear(self) -> None:
        """Forget the records and restart the peaks from the current levels."""
        self.records = []
        self.peak_in_flight = self.in_flight
        self.peak_connections = self.open_connections

    def stats(self, cpu_seconds: float) -> Stats:
        """A snapshot of the counters."""
        return Stats(
            requests=len(self.records),
            in_flight=self.in_flight,
            peak_in_flight=self.peak_in_flight,
            connections=self.connections,
            open_connections=self.open_connections,
            peak_connections=self.peak_connections,
            server_cpu_seconds=cpu_seconds,
        )
