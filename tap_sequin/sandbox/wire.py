"""Just enough HTTP/1.1 for the sandbox: parse a request head, build a response in one piece.

Hand-written rather than `http.server` so a request costs tens of microseconds and never
blocks other connections. Request bodies must carry `content-length` (no chunked uploads).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


class BadRequest(Exception):
    """The bytes on the wire are not a request the sandbox understands."""

    def __init__(self, status: int, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.summary = summary


@dataclass
class Head:
    """A parsed request line and headers (header names lower-cased)."""

    method: str
    target: str
    path: str
    query: str
    version: str
    headers: dict[str, str]
    # Every value of a header sent more than once (the last one is in `headers`).
    repeated: dict[str, list[str]] = field(default_factory=dict)

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after the response."""
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection

    def content_length(self) -> int:
        """The body length the client announced (0 if none); raises BadRequest."""
        if "transfer-encoding" in self.headers:
            raise BadRequest(411, "Chunked request bodies are not supported; send content-length")
        raw = self.headers.get("content-length")
        if raw is None:
            return 0
        if not raw.strip().isdigit():
            raise BadRequest(400, "Malformed content-length")
        length = int(raw)
        if length > MAX_BODY:
            raise BadRequest(413, "Request body too large")
        return length


def parse_head(raw: bytes) -> Head:
    """Parse the bytes before the blank line that ends a request head."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "Malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "Malformed header line")
        name = name.lower()
        if name in headers:
            repeated.setdefault(name, [headers[name]]).append(value.strip())
        headers[name] = value.strip()
    path, _, query = target.partition("?")
    return Head(method, target, path, query, version, headers, repeated)


_REASONS = {s.value: s.phrase for s in HTTPStatus}
_date_cache: tuple[int, bytes] = (0, b"")


def http_date(epoch: float | None = None) -> str:
    """An RFC 7231 date such as `Fri, 27 Nov 2026 14:00:00 GMT`."""
    return formatdate(time.time() if epoch is None else epoch, usegmt=True)


def _date_header() -> bytes:
    # Formatting a date costs more than the rest of a response; once a second is enough.
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, f"date: {http_date(now)}\r\n".encode())
    return _date_cache[1]


def response(
    status: int,
    body: bytes = b"",
    *,
    content_type: str | None = JSON,
    headers: tuple[tuple[str, str], ...] = (),
    keep_alive: bool = True,
    head_only: bool = False,
    content_length: int | None = None,
) -> bytes:
    """A whole response (status line, headers, body) as one bytes object, for one write.

    `content_length` overrides the announced length (to cut a body short on purpose);
    `head_only` announces the body's length but leaves it out, as HEAD requires;
    `content_type=None` sends no content-type (as some of Sequin's answers do).
    """
    length = len(body) if content_length is None else content_length
    out = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n".encode(),
        b"server: sequin-sandbox\r\n",
        _date_header(),
        b"" if content_type is None else f"content-type: {content_type}\r\n".encode(),
        f"content-length: {length}\r\n".encode(),
    ]
    out.extend(f"{name}: {value}\r\n".encode() for name, value in headers)
    if not keep_alive:
        out.append(b"connection: close\r\n")
    out.append(b"\r\n")
    if not head_only:
        out.append(body)
    return b"".join(out)
