"""The one place that knows Sequin's API: auth, retries, and judging responses.

Every answer is judged here: 2xx must be JSON; 401/403 end the run at once;
404 means "no such sync"; 429, 5xx, timeouts, dropped connections and malformed
bodies are retried with backoff (a 429's ``Retry-After`` pauses every worker);
anything else fails with Sequin's ``summary`` quoted. The bytes travel through
``transport``. Proxy variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``)
are read once, at start, not on every request as ``requests`` does.

A ``SequinClient`` is safe to share between worker threads.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import threading
import time
import typing as t
import urllib.request
import weakref
from urllib.parse import quote, urljoin, urlsplit

from tap_sequin.errors import AuthError, RetriesExhausted, SequinAPIError
from tap_sequin.settings import Settings
from tap_sequin.throttle import Stopped, Throttle
from tap_sequin.transport import (
    DirectTransport,
    ProxiedTransport,
    Response,
    TimedOut,
    TLSFailed,
    Transport,
    TransportError,
)

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_BACKOFF = 60.0
_MAX_RETRY_AFTER = 300.0
_MAX_REDIRECTS = 5


class NotFound:
    """Marker returned for a sync id Sequin answers 404 for."""


NOT_FOUND = NotFound()


def _certificates() -> str | None:
    # Same trust store requests would use, and the same variables to override it.
    override = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    if override:
        return override
    try:
        import certifi
    except ImportError:  # pragma: no cover
        return None
    return str(certifi.where())


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


_throttles: dict[int, Throttle] = {}
_throttles_lock = threading.Lock()


class _SharedThrottle(Throttle):
    """A client's view of the run's throttle: the pacing state is the run's, the stop event
    the client's own (so a stopping stream's workers still stop at once)."""

    def __init__(self, run: Throttle, stop: threading.Event) -> None:
        self._run = run
        self._stop = stop
        self._lock = run._lock
        self._starts = run._starts
        self._window = run._window

    @property
    def _paused_until(self) -> float:
        return self._run._paused_until

    @_paused_until.setter
    def _paused_until(self, value: float) -> None:
        self._run._paused_until = value


def _run_throttle(settings: Settings, stop: threading.Event) -> Throttle:
    """Clients made from the same ``Settings`` (every stream of a run) share one pacing, so
    ``max_requests_per_second`` and a 429 pause hold across streams."""
    key = id(settings)
    with _throttles_lock:
        run = _throttles.get(key)
        if run is None:
            run = _throttles[key] = Throttle(settings.max_requests_per_second, threading.Event())
            weakref.finalize(settings, _throttles.pop, key, None)
    return _SharedThrottle(run, stop)


class SequinClient:
    """GETs JSON from the Sequin v1 API with the run's settings."""

    def __init__(
        self,
        settings: Settings,
        logger: logging.Logger,
        stop: threading.Event,
        throttle: Throttle | None = None,
    ) -> None:
        self._settings = settings
        self._logger = logger
        self._stop = stop
        self.throttle = throttle or _run_throttle(settings, stop)
        parts = urlsplit(settings.base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        headers = {
            "Authorization": f"Bearer {settings.api_key}",
            "Accept": "application/json",
            "User-Agent": settings.user_agent,
        }
        ca_certs = _certificates() if parts.scheme == "https" else None
        proxy = None
        if not urllib.request.proxy_bypass(parts.hostname or ""):
            proxy = urllib.request.getproxies().get(parts.scheme)
        self._transport: Transport
        if proxy:
            logger.info("Reaching %s through the proxy from the environment", parts.hostname)
            self._transport = ProxiedTransport(
                proxy, headers, settings.request_timeout, ca_certs, settings.max_concurrent_requests
            )
        else:
            self._transport = DirectTransport(
                settings.base_url, headers, settings.request_timeout, ca_certs
            )

    def close(self) -> None:
        """Close every connection."""
        self._transport.close()

    # -- the two calls the stream makes ---------------------------------------

    def get_sync(self, sync_id: str) -> dict[str, t.Any] | NotFound:
        """The sync object for ``sync_id``, or ``NOT_FOUND`` if Sequin answers 404."""
        path = f"/v1/syncs/{quote(sync_id, safe='')}"
        body = self._get_json(path, f"sync {sync_id}", not_found_ok=True)
        if isinstance(body, NotFound):
            return body
        if not isinstance(body, dict):
            raise SequinAPIError(
                f"sync {sync_id}",
                f"HTTP 200 but the body is JSON {type(body).__name__}, not a sync object; "
                "check base_url points at Sequin's API",
                status=200,
            )
        return body

    def list_syncs(self) -> list[t.Any]:
        """Every sync, from ``GET /v1/syncs`` (one request; the API does not paginate)."""
        body = self._get_json("/v1/syncs", "listing GET /v1/syncs", not_found_ok=False)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SequinAPIError(
                "listing GET /v1/syncs",
                'HTTP 200 but the body has no "data" list; check base_url points at Sequin',
                status=200,
            )
        return data

    def list_credentials(self) -> list[t.Any] | NotFound:
        """Every credential, from ``GET /v1/credentials``; ``NOT_FOUND`` on a 404."""
        target = "listing GET /v1/credentials"
        body = self._get_json("/v1/credentials", target, not_found_ok=True)
        if isinstance(body, NotFound):
            return body
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SequinAPIError(
                target,
                'HTTP 200 but the body has no "data" list; check base_url points at Sequin',
                status=200,
            )
        return data

    # -- one GET, with retries ------------------------------------------------

    def _get_json(self, path: str, target: str, *, not_found_ok: bool) -> t.Any:
        settings = self._settings
        attempts = settings.max_retries + 1
        last = "no answer"
        for attempt in range(attempts):
            self.throttle.wait_turn()
            try:
                response = self._request(path, target)
            except TLSFailed as exc:
                raise SequinAPIError(
                    target, f"{exc}; check base_url and REQUESTS_CA_BUNDLE/SSL_CERT_FILE"
                ) from None
            except TimedOut:
                last = f"no answer within request_timeout ({settings.request_timeout:g}s)"
                delay = self._backoff(attempt)
            except TransportError as exc:
                last = str(exc)
                delay = self._backoff(attempt)
            else:
                status = response.status
                if 200 <= status < 300:
                    try:
                        return json.loads(response.body, parse_constant=_no_constants)
                    except ValueError:
                        last = (
                            f"HTTP {status} with a body that is not JSON "
                            f"({_content_type(response)}, {len(response.body)} bytes)"
                        )
                        delay = self._backoff(attempt)
                elif status in {401, 403}:
                    raise AuthError(
                        target,
                        f"HTTP {status}{self._summary(response)}: Sequin refused the token; "
                        "check api_key (TAP_SEQUIN_API_KEY)",
                        status=status,
                    )
                elif status == 404 and not_found_ok:
                    return NOT_FOUND
                elif status in _RETRYABLE:
                    last = f"HTTP {status}{self._summary(response)}"
                    delay = self._backoff(attempt)
                    if status == 429:
                        waited = retry_after_seconds(response.headers.get("retry-after"))
                        delay = delay if waited is None else waited
                        self.throttle.pause(delay)
                else:
                    hint = "check base_url" if status == 404 else "check the sync id and base_url"
                    raise SequinAPIError(
                        target, f"HTTP {status}{self._summary(response)}; {hint}", status=status
                    )
            if attempt + 1 < attempts:
                self._logger.warning(
                    "%s: %s; retrying in %.1fs (attempt %d of %d)",
                    target,
                    last,
                    delay,
                    attempt + 2,
                    attempts,
                )
                if self._stop.wait(delay):
                    raise Stopped
        raise RetriesExhausted(
            target,
            f"gave up after {attempts} attempts, last: {last}; Sequin or the network is "
            "failing: check base_url, or raise max_retries/request_timeout",
        )

    def _request(self, path: str, target: str) -> Response:
        """One attempt, following same-origin redirects only."""
        url = self._settings.base_url + path
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._transport.get(url)
            if response.status not in _REDIRECTS:
                return response
            location = urljoin(url, response.headers.get("location", ""))
            parts = urlsplit(location)
            if (parts.scheme, parts.hostname, parts.port) != self._origin:
                # The token goes to the configured base URL and nowhere else.
                raise SequinAPIError(
                    target,
                    f"HTTP {response.status} redirect to another host "
                    f"({parts.scheme}://{parts.hostname}); the token is not sent there: "
                    "check base_url",
                    status=response.status,
                )
            url = location
        raise SequinAPIError(target, "too many redirects; check base_url")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(_MAX_BACKOFF, self._settings.retry_backoff_seconds * 2.0**attempt)
        jitter: float = random.uniform(0, ceiling / 2)  # noqa: S311 (not cryptography)
        return ceiling / 2 + jitter

    def _summary(self, response: Response) -> str:
        """Sequin's ``{"summary": ...}``, quoted and shortened; never the raw body."""
        try:
            summary = json.loads(response.body).get("summary")
        except (ValueError, AttributeError):
            return ""
        if not isinstance(summary, str) or not summary.strip():
            return ""
        text = " ".join(summary.split())[:200].replace(self._settings.api_key, "***")
        return f' "{text}"'


def _no_constants(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser accepts them, targets do not.
    return None


def _content_type(response: Response) -> str:
    return f"content-type {response.headers.get('content-type') or 'missing'}"
