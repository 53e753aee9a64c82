"""The one place that knows Sequin's API: auth, retries, and judging responses.

Every answer is judged in ``_judge``: a 2xx must be JSON; 401/403 end the run at once;
404 is "not found" (``NotFound``, carrying Sequin's summary so the caller can tell a
missing sync from a wrong path); 429 and 5xx are retried, waiting what ``Retry-After``
says (capped at 5 minutes; the wait pauses every worker) or else backing off
exponentially with jitter; timeouts, dropped connections and malformed bodies are
retried with backoff; anything else fails quoting Sequin's ``summary``. Every error
names what was asked for and the URL path requested, never the token.

The wire is ``requests`` (see ``session``): the SDK's ``BearerTokenAuthenticator``,
requests' own redirect following turned off and same-origin redirects followed here (the
token goes to ``base_url``'s origin and nowhere else), and for each exchange the SDK's
standard ``http_request_duration`` metric (tags: stream, endpoint as a path template,
status code), as the SDK's REST streams log it. Its value covers the whole exchange,
body included.

A ``SequinClient`` is safe to share between worker threads.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import random
import threading
import time
import typing as t
from http import HTTPStatus
from urllib.parse import quote, urljoin, urlsplit

import requests
from singer_sdk import metrics
from singer_sdk.authenticators import BearerTokenAuthenticator

from tap_sequin.errors import AuthError, RetriesExhausted, SequinAPIError
from tap_sequin.session import Watchdog, describe, new_session
from tap_sequin.settings import Settings
from tap_sequin.throttle import Stopped, Throttle

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF = 60.0
_MAX_RETRY_AFTER = 300.0
_MAX_REDIRECTS = 5
_MAX_BODY = 512 * 1024 * 1024  # a larger answer is not a sync list: refuse, don't swap
_CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True)
class NotFound:
    """A 404: what was asked for is not there, or the path itself is wrong.

    ``path`` is the URL path requested; ``summary`` is Sequin's ``{"summary": ...}``, if any.
    """

    path: str = ""
    summary: str | None = None

    @property
    def route_level(self) -> bool:
        """Whether the 404 looks like the server's generic "no such route" answer.

        Sequin answers a wrong path with ``{"summary": "Not found"}`` and a missing sync
        with a summary that names it (``sequin-api.md``, Errors); a 404 with no summary at
        all (a proxy's, a web server's) says nothing about the sync either.
        """
        return self.summary is None or self.summary.strip(" .!").lower() in {"", "not found"}


NOT_FOUND = NotFound()


class _Endpoint(t.NamedTuple):
    what: str  # who asked, for messages: "sync abc", "listing"
    url: str
    path: str  # the path requested, base_url's own path included
    template: str  # the metric's endpoint tag: "/v1/syncs/{id}"
    stream: str  # the metric's stream tag

    @property
    def target(self) -> str:
        return f"{self.what} (GET {self.path})"


class _Retry(Exception):
    """A failed attempt worth another one; ``wait`` is what the server asked for, if it did."""

    def __init__(
        self, problem: str, wait: float | None = None, asked: str = "", *, pause_all: bool = False
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait
        self.asked = asked
        self.pause_all = pause_all


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), uncapped."""
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
    return max(seconds, 0.0)


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
        self.throttle = throttle or Throttle(settings.max_requests_per_second, stop)
        parts = urlsplit(settings.base_url)
        self._host = parts.hostname or ""
        self._base_path = parts.path.rstrip("/")
        self._origin = _origin(settings.base_url)
        self._session = new_session(settings.max_concurrent_requests)
        self._session.auth = BearerTokenAuthenticator(token=settings.api_key)
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": settings.user_agent}
        )
        self._watchdog = Watchdog(stop)
        self._metrics = metrics.get_metrics_logger()
        self._log_proxy()

    def close(self) -> None:
        """End requests still in flight and close every connection."""
        self._watchdog.close()
        self._session.close()

    # -- the calls the streams make ---------------------------------------------

    def get_sync(self, sync_id: str) -> dict[str, t.Any] | NotFound:
        """The sync object for ``sync_id`` (unwrapped from ``{"data": {...}}`` if so sent),
        or a ``NotFound`` if Sequin answers 404."""
        endpoint = self._endpoint(
            f"sync {sync_id}", f"/v1/syncs/{quote(sync_id, safe='')}", "/v1/syncs/{id}", "syncs"
        )
        body = self._get_json(endpoint)
        if isinstance(body, NotFound):
            return body
        if isinstance(body, dict) and "id" not in body and isinstance(body.get("data"), dict):
            body = body["data"]
        if not isinstance(body, dict):
            raise SequinAPIError(
                endpoint.target,
                f"HTTP 200 but the body is JSON {type(body).__name__}, not a sync object; "
                "check base_url points at Sequin's API",
                status=200,
            )
        return body

    def list_syncs(self) -> list[t.Any]:
        """Every sync, from ``GET /v1/syncs`` (one request; the API does not paginate)."""
        endpoint = self._endpoint("listing", "/v1/syncs", "/v1/syncs", "syncs")
        return self._listing(endpoint, self._get_json(endpoint))

    def list_credentials(self) -> list[t.Any] | NotFound:
        """Every credential, from ``GET /v1/credentials``; a ``NotFound`` on any 404."""
        endpoint = self._endpoint(
            "credentials listing", "/v1/credentials", "/v1/credentials", "credentials"
        )
        body = self._get_json(endpoint)
        return body if isinstance(body, NotFound) else self._listing(endpoint, body)

    def _endpoint(self, what: str, path: str, template: str, stream: str) -> _Endpoint:
        url = self._settings.base_url + path
        return _Endpoint(what, url, self._base_path + path, template, stream)

    def _listing(self, endpoint: _Endpoint, body: t.Any) -> list[t.Any]:
        if isinstance(body, NotFound):
            raise SequinAPIError(
                endpoint.target,
                f"HTTP 404{_quoted(body.summary)}; check base_url (the API root, such as "
                "https://api.sequin.io, without /v1)",
                status=404,
            )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SequinAPIError(
                endpoint.target,
                'HTTP 200 but the body has no "data" list; check base_url points at Sequin',
                status=200,
            )
        return data

    # -- one GET, with retries --------------------------------------------------

    def _get_json(self, endpoint: _Endpoint) -> t.Any:
        attempts = self._settings.max_retries + 1
        last = "no answer"
        for attempt in range(attempts):
            self.throttle.wait_turn()
            try:
                response, body = self._attempt(endpoint)
                return self._judge(endpoint, response, body)
            except _Retry as retry:
                last = retry.problem
                if retry.wait is None:
                    delay, why = self._backoff(attempt), "backoff"
                    if retry.pause_all:
                        self.throttle.pause(delay)
                else:
                    delay, why = retry.wait, retry.asked
            if attempt + 1 < attempts:
                self._logger.warning(
                    "%s: %s; retrying in %.1fs (%s; attempt %d of %d)",
                    endpoint.target,
                    last,
                    delay,
                    why,
                    attempt + 2,
                    attempts,
                )
                if self._stop.wait(delay):
                    raise Stopped
        raise RetriesExhausted(
            endpoint.target,
            f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}, last: {last}; "
            "Sequin or the network is failing: check base_url, or raise "
            "max_retries/request_timeout",
            last=last,
        )

    def _attempt(self, endpoint: _Endpoint) -> tuple[requests.Response, bytes]:
        """One attempt, redirects included, within ``request_timeout`` as a whole."""
        timeout = self._settings.request_timeout
        failure = None
        with self._watchdog.attempt(timeout) as attempt:
            try:
                answer = self._exchange(endpoint)
            except requests.RequestException as exc:
                failure = describe(exc, self._host, timeout)
            attempt.finish()
        # An attempt the watchdog ended may still have "succeeded": a shutdown reads as the
        # end of the headers, or of a body without a length. Never trust it.
        if attempt.ended_by == "stop":
            raise Stopped
        if attempt.ended_by == "timeout":
            raise _Retry(f"no complete answer within request_timeout ({timeout:g}s)")
        if failure is None:
            return answer
        if failure.retryable:
            raise _Retry(failure.problem)
        hint = (
            "check base_url and REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE"
            if failure.problem.startswith("TLS")
            else "check the proxy settings"
        )
        raise SequinAPIError(endpoint.target, f"{failure.problem}; {hint}")

    def _exchange(self, endpoint: _Endpoint) -> tuple[requests.Response, bytes]:
        url = endpoint.url
        timeout = self._settings.request_timeout
        for _ in range(_MAX_REDIRECTS + 1):
            started = time.monotonic()
            response = self._session.get(
                url, timeout=(timeout, timeout), allow_redirects=False, stream=True
            )
            try:
                body = self._read_body(endpoint, response)
            finally:
                response.close()
            self._log_duration(endpoint, response.status_code, time.monotonic() - started)
            location = self._session.get_redirect_target(response)
            if location is None:
                return response, body
            url = urljoin(url, location)
            if _origin(url) != self._origin:
                parts = urlsplit(url)
                # The token goes to the configured base URL and nowhere else.
                raise SequinAPIError(
                    endpoint.target,
                    f"HTTP {response.status_code} redirect to another host "
                    f"({parts.scheme}://{parts.hostname}); the token is not sent there: "
                    "check base_url",
                    status=response.status_code,
                )
        raise SequinAPIError(endpoint.target, "too many redirects; check base_url")

    def _read_body(self, endpoint: _Endpoint, response: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > _MAX_BODY:
                raise SequinAPIError(
                    endpoint.target, "answer larger than 512 MiB; check base_url"
                ) from None
            chunks.append(chunk)
        return b"".join(chunks)

    def _log_duration(self, endpoint: _Endpoint, status: int, seconds: float) -> None:
        point = metrics.Point(
            "timer",
            metric=metrics.Metric.HTTP_REQUEST_DURATION,
            value=seconds,
            tags={
                metrics.Tag.STREAM: endpoint.stream,
                metrics.Tag.ENDPOINT: endpoint.template,
                metrics.Tag.HTTP_STATUS_CODE: status,
                metrics.Tag.STATUS: (
                    metrics.Status.SUCCEEDED
                    if status < HTTPStatus.BAD_REQUEST
                    else metrics.Status.FAILED
                ),
            },
        )
        metrics.log(self._metrics, point)

    # -- judging an answer --------------------------------------------------------

    def _judge(self, endpoint: _Endpoint, response: requests.Response, body: bytes) -> t.Any:
        """The JSON of a good answer, or ``NotFound``; raise ``_Retry`` or an error."""
        status = response.status_code
        if 200 <= status < 300:
            try:
                return json.loads(body, parse_constant=_no_constants)
            except ValueError:
                content_type = response.headers.get("content-type") or "missing"
                raise _Retry(
                    f"HTTP {status} with a body that is not JSON "
                    f"(content-type {content_type}, {len(body)} bytes)"
                ) from None
        summary = self._summary(body)
        if status in {401, 403}:
            raise AuthError(
                endpoint.target,
                f"HTTP {status}{_quoted(summary)}: Sequin refused the token; "
                "check api_key (TAP_SEQUIN_API_KEY)",
                status=status,
            )
        if status == 404:
            return NotFound(endpoint.path, summary)
        if status in _RETRYABLE:
            problem = f"HTTP {status}{_quoted(summary)}"
            header = response.headers.get("retry-after")
            asked = retry_after_seconds(header)
            if asked is None:
                # No figure given: the backoff delay; after a 429, for every worker.
                raise _Retry(problem, pause_all=status == 429)
            wait = min(asked, _MAX_RETRY_AFTER)
            why = f"the server's Retry-After: {header}"
            if asked > _MAX_RETRY_AFTER:
                why += f", capped at {_MAX_RETRY_AFTER:g}s"
            # The server speaks for the account (429) or the whole service (503): every
            # worker waits, not only this one.
            self.throttle.pause(wait)
            raise _Retry(problem, wait, why)
        if status == 407:
            hint = "the proxy demands credentials: check the user:password in HTTP_PROXY"
        else:
            hint = "check the sync id and base_url"
        raise SequinAPIError(
            endpoint.target, f"HTTP {status}{_quoted(summary)}; {hint}", status=status
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(_MAX_BACKOFF, self._settings.retry_backoff_seconds * 2.0**attempt)
        jitter: float = random.uniform(0, ceiling / 2)  # noqa: S311 (not cryptography)
        return ceiling / 2 + jitter

    def _summary(self, body: bytes) -> str | None:
        """Sequin's ``{"summary": ...}``, on one line and shortened; never the raw body."""
        try:
            summary = json.loads(body).get("summary")
        except (ValueError, AttributeError):
            return None
        if not isinstance(summary, str) or not summary.strip():
            return None
        return " ".join(summary.split())[:200].replace(self._settings.api_key, "***")

    def _log_proxy(self) -> None:
        url = self._settings.base_url
        proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            # Host and port only: a proxy URL may carry a password.
            self._logger.info(
                "Requests to %s go through the proxy %s:%s from the environment",
                self._host,
                parts.hostname,
                parts.port or "",
            )


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _quoted(summary: str | None) -> str:
    return f' "{summary}"' if summary else ""


def _no_constants(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser accepts them, targets do not.
    return None
