"""HTTP/1.1 GETs to one origin, over persistent connections: the tap's wire.

A run makes one request per configured sync id, so the cost of a request is the
cost of the run. Measured here against a loopback server (``benchmarks/http_clients.py``),
a GET and its JSON parse cost about 0.74 ms of CPU through ``requests``, 0.28 ms
through ``urllib3``'s connection pool, and 0.09 ms through this module: the
general-purpose clients build and parse far more than a JSON GET to a single origin
needs (header objects, the ``email`` parser, per-request proxy and pool look-ups).

``DirectTransport`` keeps one connection per worker thread (no pool lock), reuses
it while the server allows, and reconnects once, transparently, when a reused
connection turns out to have been closed by the server in the meantime.

``ProxiedTransport`` is for users behind a proxy (``HTTPS_PROXY`` etc.): it
delegates to ``urllib3.ProxyManager``, which speaks CONNECT tunnels and proxy
authentication; it is slower, and rare.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import threading
import typing as t
from urllib.parse import urlsplit

_MAX_LINE = 65_536
_MAX_HEADERS = 200
_MAX_BODY = 512 * 1024 * 1024  # a larger answer is not a sync list: refuse, don't swap


class TransportError(Exception):
    """The request got no usable HTTP answer. ``retryable`` says whether to try again."""

    retryable = True


class ConnectFailed(TransportError):
    """No connection could be opened."""


class TimedOut(TransportError):
    """No connection, or no next bytes of the answer, within request_timeout."""


class Dropped(TransportError):
    """The connection closed mid-answer: reset, or the body was cut off."""


class BadAnswer(TransportError):
    """Bytes came back, but not an HTTP/1.x response this client can read."""


class TLSFailed(TransportError):
    """The server's certificate did not verify. Not retried: it will not get better."""

    retryable = False


class Response(t.NamedTuple):
    """A complete answer: status, headers (lower-case names), body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes


class Transport(t.Protocol):
    """What ``SequinClient`` needs from the wire."""

    def get(self, url: str) -> Response:
        """GET ``url`` (absolute); raise ``TransportError`` on failure."""

    def close(self) -> None:
        """Close every connection."""


class _Connection:
    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class DirectTransport:
    """Persistent connections to the one origin of ``base_url``, one per thread."""

    def __init__(
        self, base_url: str, headers: dict[str, str], timeout: float, ca_certs: str | None
    ) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or ""
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        default_port = parts.port is None or parts.port == (443 if self._tls else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        host_header = host if default_port else f"{host}:{self._port}"
        # Every request carries the same headers: encode them once, not per request.
        lines = [f"Host: {host_header}", *(f"{name}: {value}" for name, value in headers.items())]
        self._head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_certs) if self._tls else None
        self._local = threading.local()
        self._all: set[_Connection] = set()
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close every connection of every thread; later requests fail as Dropped."""
        with self._lock:
            self._closed = True
            connections, self._all = self._all, set()
        for connection in connections:
            connection.close()

    def get(self, url: str) -> Response:
        """One GET on this thread's connection (opened, or re-opened, as needed)."""
        parts = urlsplit(url)
        target = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        request = f"GET {target} HTTP/1.1\r\n".encode("latin-1") + self._head
        return self._exchange(self._connection(), request)

    def _connection(self) -> _Connection:
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            if not _closed_by_peer(connection.sock):
                return connection
            # The server closed the idle keep-alive connection: open a new one
            # rather than lose a request (and a retry) to it.
            self._discard(connection)
        try:
            sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
        except TimeoutError:
            raise TimedOut("no connection within request_timeout") from None
        except OSError as exc:
            raise ConnectFailed(f"cannot connect ({exc.strerror or type(exc).__name__})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._context is not None:
            try:
                sock = self._context.wrap_socket(sock, server_hostname=self._host)
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                raise TLSFailed(f"certificate not trusted ({exc.verify_message})") from None
            except (ssl.SSLError, OSError) as exc:
                sock.close()
                raise Dropped(f"TLS handshake failed ({type(exc).__name__})") from None
        connection = _Connection(sock)
        with self._lock:
            if self._closed:  # a worker still running after the run ended
                connection.close()
                raise Dropped("the run is over")
            self._all.add(connection)
        self._local.connection = connection
        return connection

    def _discard(self, connection: _Connection) -> None:
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        with self._lock:
            self._all.discard(connection)
        connection.close()

    def _exchange(self, connection: _Connection, request: bytes) -> Response:
        try:
            connection.sock.sendall(request)
            response, keep = _read_response(connection.reader)
        except TimeoutError:
            self._discard(connection)
            raise TimedOut("no answer within request_timeout") from None
        except TransportError:
            self._discard(connection)
            raise
        except (OSError, ValueError) as exc:  # reset, broken pipe, closed file
            self._discard(connection)
            raise Dropped(f"connection dropped ({type(exc).__name__})") from None
        if not keep:
            self._discard(connection)
        return response


def _closed_by_peer(sock: socket.socket) -> bool:
    """True if an idle connection has something to read: EOF, or bytes nobody asked for."""
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
    except (ValueError, OSError):  # closed under us (the run ended)
        return True
    return bool(poller.poll(0))


def _read_response(reader: io.BufferedReader) -> tuple[Response, bool]:
    """Read one response; return it and whether the connection may be reused."""
    while True:
        status_line = reader.readline(_MAX_LINE)
        if not status_line:
            raise Dropped("connection closed before an answer")
        version, _, rest = status_line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise BadAnswer("not an HTTP/1.x status line")
        status = int(code)
        headers = _read_headers(reader)
        if status >= 200:
            break
        # 1xx (e.g. 100 Continue): informational, the real answer follows.
    keep = version != b"HTTP/1.0" and headers.get("connection", "").lower() != "close"
    if status in (204, 304):
        return Response(status, headers, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Response(status, headers, _read_chunked(reader)), keep
    length = headers.get("content-length")
    if length is None:
        body = reader.read(_MAX_BODY + 1)
        if len(body) > _MAX_BODY:
            raise BadAnswer("answer larger than 512 MiB")
        return Response(status, headers, body), False
    if not length.strip().isdigit():
        raise BadAnswer("invalid content-length")
    size = int(length)
    if size > _MAX_BODY:
        raise BadAnswer("answer larger than 512 MiB")
    body = reader.read(size)
    if len(body) < size:
        raise Dropped(f"body cut off ({len(body)} of {size} bytes)")
    return Response(status, headers, body), keep


def _read_headers(reader: io.BufferedReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = reader.readline(_MAX_LINE)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise Dropped("connection closed inside the headers")
        if not line.endswith(b"\n"):
            raise BadAnswer("header line too long")
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadAnswer("malformed header line")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raise BadAnswer("too many header lines")


def _read_chunked(reader: io.BufferedReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = reader.readline(_MAX_LINE)
        if not line:
            raise Dropped("body cut off (chunked)")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadAnswer("invalid chunk size") from None
        if size == 0:
            _read_headers(reader)  # trailers
            return b"".join(parts)
        total += size
        if total > _MAX_BODY:
            raise BadAnswer("answer larger than 512 MiB")
        chunk = reader.read(size)
        if len(chunk) < size or reader.read(2) != b"\r\n":
            raise Dropped("body cut off (chunked)")
        parts.append(chunk)


class ProxiedTransport:
    """GETs through an HTTP(S) proxy, by way of ``urllib3.ProxyManager``."""

    def __init__(
        self,
        proxy_url: str,
        headers: dict[str, str],
        timeout: float,
        ca_certs: str | None,
        size: int,
    ) -> None:
        import urllib3  # only proxied runs pay for it

        self._urllib3 = urllib3
        self._headers = headers
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._manager = urllib3.ProxyManager(
            proxy_url, num_pools=2, maxsize=size, block=True, ca_certs=ca_certs
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._manager.clear()

    def get(self, url: str) -> Response:
        """One GET through the proxy, errors mapped to this module's classes."""
        errors = self._urllib3.exceptions
        try:
            answer = self._manager.request(
                "GET",
                url,
                headers=self._headers,
                timeout=self._timeout,
                retries=False,
                redirect=False,
            )
        except errors.SSLError as exc:
            raise TLSFailed(f"TLS failed ({type(exc).__name__})") from None
        except errors.TimeoutError:
            raise TimedOut("no answer within request_timeout") from None
        except errors.NewConnectionError:
            raise ConnectFailed("cannot connect to the proxy") from None
        except errors.HTTPError as exc:
            raise Dropped(f"connection dropped ({type(exc).__name__})") from None
        headers_out = {name.lower(): value for name, value in answer.headers.items()}
        return Response(answer.status, headers_out, answer.data)
