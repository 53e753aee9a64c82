"""A loopback HTTP server on raw sockets, for tests that need exact bytes on the wire.

The test decides every byte of each answer (an extra response after a body, stray CRLF,
odd ``Connection`` headers, gzip, a trickle), which no well-behaved server library would
send. The server logs each request with the connection it came on, and how many bytes of
each answer it managed to write before the client went away.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import socket
import threading
import time
import typing as t

# (bytes or pieces, then: True keep serving, False close, "hold" read on but never answer)
Answer = tuple[bytes | t.Iterable[bytes], bool | str]


@dataclasses.dataclass
class Request:
    """One request as received: request line, headers (lower-case names), connection number."""

    method: str
    target: str
    headers: dict[str, str]
    connection: int
    start: float = 0.0  # time.monotonic() when the request had arrived
    written: int = 0  # bytes of the answer written before the client left
    finished: bool = False  # the whole answer was written

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def response(
    status: int,
    body: bytes,
    *,
    headers: t.Sequence[tuple[str, str]] = (),
    content_type: str = "application/json",
) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length."""
    lines = [
        f"HTTP/1.1 {status} X",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_response(status: int, value: t.Any, **kwargs: t.Any) -> bytes:
    return response(status, json.dumps(value).encode(), **kwargs)


def gzip_response(value: t.Any) -> bytes:
    return response(
        200, gzip.compress(json.dumps(value).encode()), headers=[("Content-Encoding", "gzip")]
    )


class RawServer:
    """``with RawServer(answer) as server:``; ``answer(request)`` returns an ``Answer``."""

    def __init__(self, answer: t.Callable[[Request], Answer]) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Request] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
                self._sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        reader = sock.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line.strip():
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                request = Request(method, target, headers, number, time.monotonic())
                with self._lock:
                    self.requests.append(request)
                data, keep = self._answer(request)
                for piece in [data] if isinstance(data, bytes) else data:
                    sock.sendall(piece)
                    request.written += len(piece)
                request.finished = True
                if keep == "hold":
                    while sock.recv(65536):
                        pass
                if keep is not True:
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                reader.close()
                sock.close()
