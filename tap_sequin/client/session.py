"""The ``requests.Session`` every request goes through, and a watchdog that bounds each attempt.

requests and urllib3 speak HTTP; this module only decides how long they may take.
``requests``' ``timeout`` bounds each socket operation, so a server that trickles one byte
a second would hold a request for ever. A ``Watchdog`` thread gives each attempt (connect,
headers and body, redirects included) a deadline of ``request_timeout``, and ends attempts
early when the run is being stopped (a signal, or a fatal error elsewhere). It ends an
attempt by shutting its socket down, which wakes the worker blocked in ``recv`` at once;
closing would not (and ``close`` on a socket another thread is reading can block). The
socket is found through urllib3's extension points (a pool manager's
``pool_classes_by_scheme``, a pool's ``ConnectionCls``): each connection registers itself
with the attempt of the thread that uses it. Nothing here reads or writes HTTP.

One session is shared by the worker threads, its adapter's pool sized to
``max_concurrent_requests``. A session per worker measured no faster
(``benchmarks/http_sessions.py``), so the simpler layout wins: one pool to close on a
stop, no sessions left behind in finished threads, and one cookie jar and adapter
configuration.

Proxies, CA bundles (files and directories), ``NO_PROXY`` and friends are requests' own:
the client asks requests' ``merge_environment_settings`` once, for ``base_url``, and keeps
the answer on the session (see ``client._settle_environment``).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import typing as t
from http.client import IncompleteRead, RemoteDisconnected

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

from tap_sequin.settings.parsing import is_loopback

# How often the watchdog looks for a stop request at most (deadlines are met more exactly).
_TICK = 0.05

_current = threading.local()


class Attempt:
    """One attempt in flight: its deadline, its connection, and why it was ended, if it was."""

    __slots__ = ("connection", "deadline", "ended_by", "finished", "lock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: HTTPConnection | None = None
        self.ended_by: str | None = None  # "timeout" or "stop"
        self.finished = False
        self.lock = threading.Lock()

    def end(self, reason: str) -> None:
        """Shut the attempt's socket down (once), unless the attempt has already finished."""
        with self.lock:
            if self.finished or self.ended_by is not None:
                return
            self.ended_by = reason
            sock = self.connection.sock if self.connection is not None else None
        _shut_down(sock)

    def finish(self) -> None:
        """The attempt is over: its connection may now serve another attempt."""
        with self.lock:
            self.finished = True


def discard(connection: HTTPConnection) -> None:
    """Shut ``connection``'s socket down, so it is never reused (urllib3 then sees it as
    dropped and connects afresh); a request using it meanwhile fails and is retried."""
    _shut_down(getattr(connection, "sock", None))


def _shut_down(sock: t.Any) -> None:
    # Through an https:// proxy the connection's socket is urllib3's TLS-in-TLS wrapper;
    # the TCP socket is beneath it. TLS sockets too are shut down beneath the TLS layer.
    sock = getattr(sock, "socket", sock)
    if sock is not None:
        with contextlib.suppress(OSError, TypeError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _register(connection: HTTPConnection) -> None:
    """Tie ``connection`` to this thread's attempt; refuse to go on if it was ended."""
    attempt: Attempt | None = getattr(_current, "attempt", None)
    if attempt is None:
        return
    with attempt.lock:
        attempt.connection = connection
        ended = attempt.ended_by
    if ended is not None:
        # Ended before it had a socket to shut down (during the pool check-out or connect).
        raise ConnectionAbortedError(f"attempt ended ({ended})")


class _Watched:
    """Registers the connection with this thread's attempt before it connects or sends.

    It also keeps RFC 9112 (section 9.6): a client that sent ``Connection: close`` sends no
    further request on that connection. urllib3 looks at the server's answer only, and
    would put such a connection back into its pool for the next request; this one then
    reads as not connected, so the pool opens a new one.
    """

    _closing = False  # "Connection: close" was sent on this connection
    requests_sent = 0  # on this connection, since it connected

    def connect(self) -> None:
        _register(t.cast(HTTPConnection, self))
        super().connect()  # type: ignore[misc]
        self._closing = False
        self.requests_sent = 0
        _register(t.cast(HTTPConnection, self))

    def request(self, *args: t.Any, **kwargs: t.Any) -> None:
        _register(t.cast(HTTPConnection, self))
        super().request(*args, **kwargs)  # type: ignore[misc]
        self.requests_sent += 1
        # urllib3's signature: request(method, url, body=None, headers=None, ...)
        headers = kwargs["headers"] if "headers" in kwargs else (args[3:4] or [None])[0]
        self._closing = _asks_to_close(headers or {})

    @property
    def is_connected(self) -> bool:
        return not self._closing and bool(super().is_connected)  # type: ignore[misc]


def reused(connection: HTTPConnection | None) -> bool:
    """Whether the last answer on ``connection`` came after an earlier one on it (so a
    stray extra answer could have been taken for it)."""
    return getattr(connection, "requests_sent", 0) > 1


def _asks_to_close(headers: t.Mapping[str, str]) -> bool:
    return any(
        name.lower() == "connection"
        and "close" in (option.strip().lower() for option in str(value).split(","))
        for name, value in headers.items()
    )


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    # True from the TCP connection until the TLS handshake is done, without a proxy in
    # between: a failure in that span came from the port itself (see ``describe``).
    handshaking = False

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.handshaking = self.proxy is None
        return sock

    def connect(self) -> None:
        super().connect()
        self.handshaking = False


def handshake_unanswered(connection: HTTPConnection | None) -> bool:
    """Whether ``connection`` reached its server but its TLS handshake never finished."""
    return bool(getattr(connection, "handshaking", False))


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """requests' ``HTTPAdapter`` whose connections (direct or through a proxy) are watched."""

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Create the pool manager as requests does, with watched connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        """The proxy manager as requests makes it; HTTP(S) proxies get watched pools."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            # SOCKS pools are urllib3's own classes; there the per-read timeout still holds.
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session(pool_size: int) -> requests.Session:
    """A session whose pool keeps ``pool_size`` connections, the workers' number."""
    session = requests.Session()
    adapter = WatchedAdapter(pool_connections=2, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Watchdog:
    """Ends attempts past their deadline, and every attempt once ``stop`` is set."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._live: set[Attempt] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def attempt(self, seconds: float) -> t.Iterator[Attempt]:
        """Watch the HTTP done by this thread inside the block, for at most ``seconds``."""
        attempt = Attempt(time.monotonic() + seconds)
        with self._lock:
            self._live.add(attempt)
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(
                    target=self._watch, name="tap-sequin-watchdog", daemon=True
                )
                self._thread.start()
        _current.attempt = attempt
        if self._stop.is_set() or self._closed.is_set():
            attempt.end("stop")  # it will not get a connection
        try:
            yield attempt
        finally:
            _current.attempt = None
            attempt.finish()
            with self._lock:
                self._live.discard(attempt)

    def close(self) -> None:
        """End the watchdog thread (attempts still running are ended as stopped)."""
        self._closed.set()
        with self._lock:
            live = list(self._live)
        for attempt in live:
            attempt.end("stop")

    def _watch(self) -> None:
        while not self._closed.is_set():
            now = time.monotonic()
            stopping = self._stop.is_set()
            with self._lock:
                live = list(self._live)
            wait = _TICK
            for attempt in live:
                if stopping:
                    attempt.end("stop")
                elif attempt.deadline <= now:
                    attempt.end("timeout")
                elif attempt.ended_by is None:
                    wait = min(wait, attempt.deadline - now)
            self._closed.wait(max(wait, 0.001))


class WireFailure(t.NamedTuple):
    """What went wrong below HTTP, in words with what to check; ``retryable`` says whether
    trying again may help."""

    problem: str
    retryable: bool


def describe(exc: requests.RequestException, host: str, timeout: float) -> WireFailure:
    """Name the cause of a failed request (DNS, refused, TLS, proxy, timeout, cut body...).

    The words come from the exception classes, never from their messages, which may hold
    URLs; nothing here can carry the token (requests never puts headers in exceptions).
    """
    chain = _causes(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
        if verify is None and any(_plain_http_reply(e) for e in chain):
            return WireFailure(plain_http_port(host), retryable=False)
        detail = verify.verify_message if verify is not None else "handshake failed"
        return WireFailure(
            f"TLS with {host} failed ({detail}); check base_url and the CA bundle in "
            "REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE",
            retryable=False,
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        tunnel = next((str(e) for e in chain if "Tunnel connection failed" in str(e)), None)
        if tunnel is not None and " 407" in tunnel:
            return WireFailure(
                "the proxy demands credentials (407); check the user:password in "
                "HTTPS_PROXY/HTTP_PROXY",
                retryable=False,
            )
        return WireFailure(
            "cannot reach Sequin through the proxy in HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; "
            "check it, or NO_PROXY",
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        limit = connect_limit(timeout)
        within = f"request_timeout ({timeout:g}s)" if limit == timeout else f"{limit:g}s"
        return WireFailure(f"no connection to {host} within {within}", True)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return WireFailure(f"no answer within request_timeout ({timeout:g}s)", True)
    if any(isinstance(e, (NameResolutionError, socket.gaierror)) for e in chain):
        # "No such name" is the DNS's final answer about a mistyped host; a lookup that
        # could not be made (EAI_AGAIN: no DNS server reachable) may work on a retry.
        unknown = any(isinstance(e, socket.gaierror) and e.errno in _NO_SUCH_NAME for e in chain)
        why = " (no such host)" if unknown else ""
        return WireFailure(f"DNS lookup of {host} failed{why}; check base_url", not unknown)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        # On this machine's own address a refusal means nothing listens on that port, and
        # the kernel says so at once; a remote refusal may be a server restarting.
        return WireFailure(
            f"connection to {host} refused (nothing listens on that port); check base_url",
            not is_loopback(host),
        )
    cut = next((e for e in chain if isinstance(e, IncompleteRead)), None)
    if cut is not None:
        # urllib3's IncompleteRead counts bytes; http.client's holds them.
        partial = cut.partial if isinstance(cut.partial, int) else len(cut.partial)
        return WireFailure(f"body cut off ({partial} bytes read, more expected)", True)
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return WireFailure("body could not be decoded (Content-Encoding)", True)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return WireFailure("body cut off (chunked)", True)
    if any(isinstance(e, RemoteDisconnected) for e in chain):
        return WireFailure("connection closed before an answer", True)
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return WireFailure("connection reset", True)
    return WireFailure(f"request failed ({type(chain[-1]).__name__})", True)


# Seconds a connection, its TLS handshake included, may take at most (less if
# request_timeout is less). A reachable server connects within a round trip or two; a
# port that takes the connection but never answers the handshake (plain HTTP) would
# otherwise hold the attempt for the whole request_timeout.
CONNECT_LIMIT = 10.0


def connect_limit(request_timeout: float) -> float:
    """How long connecting (TCP and TLS) may take in an attempt of ``request_timeout``."""
    return min(request_timeout, CONNECT_LIMIT)


def plain_http_port(host: str) -> str:
    """The problem of an https:// base_url pointing at a port that speaks plain HTTP."""
    return (
        f"TLS handshake with {host} got no TLS answer: that port seems to serve plain HTTP, "
        "so base_url should start with http://; check base_url"
    )


# getaddrinfo's "the name does not exist" (EAI_NODATA only on some platforms).
_NO_SUCH_NAME = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


def _plain_http_reply(exc: BaseException) -> bool:
    # OpenSSL's reasons when the first bytes back are not a TLS record ("HTTP/1.0 400").
    reason = getattr(exc, "reason", None)
    return isinstance(exc, ssl.SSLError) and reason in {
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
        "PACKET_LENGTH_TOO_LONG",
        "HTTP_REQUEST",
    }


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it wraps: arguments, ``reason``, ``__cause__``, ``__context__``."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        current = todo.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        inner = [
            *(a for a in current.args if isinstance(a, BaseException)),
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
        ]
        todo.extend(e for e in inner if isinstance(e, BaseException))
    return seen
