"""The one client of Sequin's API: auth, retries, redirects and metrics around ``requests``.

The wire is ``requests`` (see ``session``), with the SDK's ``BearerTokenAuthenticator``.
Each attempt is judged by ``judging`` (the API's rules); failures worth another attempt
are retried up to ``max_retries``, waiting what ``Retry-After`` says (every worker waits:
the server speaks for the account or the whole service), else backing off exponentially
with jitter (after a 429, every worker backs off). requests' own redirect following is
off; same-origin redirects are followed here, so the token goes to ``base_url``'s origin
and nowhere else. Each exchange logs the SDK's standard ``http_request_duration`` metric
(tags: stream, endpoint as a path template, status code), as the SDK's REST streams do;
its value covers the whole exchange, body included.

A ``SequinClient`` is safe to share between worker threads.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import os
import random
import threading
import time
import typing as t
from http import HTTPStatus
from urllib.parse import quote, urljoin, urlsplit

import requests
from singer_sdk import metrics
from singer_sdk.authenticators import BearerTokenAuthenticator
from urllib3.connection import HTTPConnection

from tap_sequin.client.clean_text import clean_text
from tap_sequin.client.judging import (
    NOT_FOUND,
    Endpoint,
    NotFound,
    Retry,
    api_mismatch,
    judge,
    quoted,
)
from tap_sequin.client.session import Watchdog, describe, discard, new_session, reused
from tap_sequin.client.throttle import Stopped, Throttle, throttle_for
from tap_sequin.errors import ConfigError, RetriesExhausted, SequinAPIError
from tap_sequin.settings.parsing import Settings

__all__ = ["NOT_FOUND", "Listing", "NotFound", "SequinClient", "Sync"]


class Listing(list[t.Any]):
    """The ``data`` of a listing; ``clean_text_only`` is true when its JSON cannot hold NUL
    or a lone surrogate in any string (``client.clean_text``).

    Then the shapers may skip looking for them, which saves CPU on every row.
    """

    clean_text_only = False


class Sync(dict[str, t.Any]):
    """One object (a sync, ...) as Sequin sent it; ``clean_text_only`` as for a ``Listing``."""

    clean_text_only = False


_MAX_BACKOFF = 60.0
_MAX_REDIRECTS = 5
# How long close() waits for calls still inside the client to leave it (they have been
# ended by then, so this is milliseconds; the bound only guards against surprises).
_CLOSE_WAIT = 1.0
# A larger answer is refused, not held: every worker holds its answer (and ~2x more while
# decoding it), so a misbehaving server must not grow the tap without bound. Both bounds
# are far above real answers: a sync is about 1 KB, a listing of 10,000 about 11 MB.
_MAX_LISTING = 512 * 1024 * 1024
_MAX_OBJECT = 16 * 1024 * 1024
_CHUNK = 64 * 1024


class SequinClient:
    """GETs JSON from Sequin's API (v1, or a self-hosted server's /api) with the run's settings."""

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
        self.throttle = throttle or throttle_for(settings)
        parts = urlsplit(settings.base_url)
        self._host = parts.hostname or ""
        self._base_path = parts.path.rstrip("/")
        self._origin = _origin(settings.base_url)
        self._session = new_session(settings.max_concurrent_requests)
        self._session.auth = BearerTokenAuthenticator(token=settings.api_key)
        # The token is the tap's only credential: no cookie is kept, so none is sent back.
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": settings.user_agent}
        )
        _settle_environment(self._session, settings.base_url)
        self._template = self._new_template()
        self._watchdog = Watchdog(stop)
        self._reuse_connections = True
        self._metrics = metrics.get_metrics_logger()
        self._calls = 0
        self._quiet = threading.Condition()
        self._log_proxy()

    def close(self) -> None:
        """End requests still in flight, let their calls leave, close every connection.

        Once it returns the client logs nothing more, so a failed run's last line on
        stderr stays the one that says why.
        """
        self._watchdog.close()
        with self._quiet:
            self._quiet.wait_for(lambda: self._calls == 0, timeout=_CLOSE_WAIT)
        self._session.close()

    # -- the calls the streams make ---------------------------------------------

    def get_sync(self, sync_id: str) -> Sync | NotFound:
        """The sync object for ``sync_id``; a ``NotFound`` if Sequin answers 404."""
        return self.get_object("/v1/syncs/{id}", sync_id, noun="sync", stream="syncs")

    def get_object(
        self, template: str, object_id: str, *, noun: str, stream: str
    ) -> Sync | NotFound:
        """The object at ``template`` with ``{id}`` filled in (unwrapped from ``{"data":
        {...}}`` if so sent), or a ``NotFound`` if the API answers 404."""
        path = template.replace("{id}", quote(object_id, safe=""))
        endpoint = self._endpoint(f"{noun} {object_id}", path, template, stream)._replace(
            expect_id=object_id, max_body=_MAX_OBJECT
        )
        body, clean_text_only = self._get_json(endpoint)
        if isinstance(body, NotFound):
            self._refuse_mismatch(endpoint, body)
            return body
        body = _unwrapped(body)
        if not isinstance(body, dict):
            raise SequinAPIError(
                endpoint.target,
                f"HTTP 200 but the body is JSON {type(body).__name__}, not a {noun} object; "
                "check base_url points at Sequin's API",
                status=200,
            )
        found = Sync(body)
        found.clean_text_only = clean_text_only
        return found

    def list_syncs(self) -> Listing:
        """Every sync, from ``GET /v1/syncs`` (one request; the API does not paginate)."""
        return t.cast(Listing, self.list_objects("/v1/syncs", what="listing", stream="syncs"))

    def list_objects(
        self,
        path: str,
        *,
        what: str,
        stream: str,
        optional: bool = False,
        template: str | None = None,
    ) -> Listing | NotFound:
        """The ``data`` list of ``GET path``; a 404 is a ``NotFound`` when ``optional`` (the
        API does not serve it), else an error naming base_url. ``template`` is the path as
        the metrics name it (``/api/sinks/{id}/backfills``); by default ``path``."""
        endpoint = self._endpoint(what, path, template or path, stream)
        body, clean_text_only = self._get_json(endpoint)
        if isinstance(body, NotFound):
            self._refuse_mismatch(endpoint, body)
            if optional:
                return body
        return self._listing(endpoint, body, clean_text_only)

    def server_health(self) -> tuple[int, t.Any]:
        """``GET /health`` without the token (a self-hosted server answers it to anyone):
        the status and the JSON body (None if not JSON), after one attempt. Raises
        ``RetriesExhausted`` when no answer came (DNS, refused, timeout...)."""
        endpoint = self._endpoint("server health", "/health", "/health", "test")._replace(
            anonymous=True, max_body=_MAX_OBJECT
        )
        self.throttle.wait_turn(self._stop)
        try:
            response, body, _ = self._attempt(endpoint)
        except Retry as retry:
            raise RetriesExhausted(endpoint.target, retry.problem, last=retry.problem) from None
        try:
            return response.status_code, json.loads(body)
        except ValueError:
            return response.status_code, None

    def _refuse_mismatch(self, endpoint: Endpoint, found: NotFound) -> None:
        """Raise when a 404 shows that ``api`` does not match the server at ``base_url``."""
        settings = self._settings
        mismatch = api_mismatch(settings.api, settings.base_url, found)
        if mismatch is not None:
            raise SequinAPIError(
                endpoint.target,
                f"HTTP 404{quoted(found.summary or ('Not Found' if found.phoenix else None))}; "
                f"api is '{settings.api}', but {mismatch}",
                status=404,
            )

    def _endpoint(self, what: str, path: str, template: str, stream: str) -> Endpoint:
        url = self._settings.base_url + path
        return Endpoint(what, url, self._base_path + path, template, stream)

    def _listing(self, endpoint: Endpoint, body: t.Any, clean_text_only: bool) -> Listing:
        if isinstance(body, NotFound):
            root = (
                "the server's address, such as http://localhost:7376"
                if self._settings.self_hosted
                else "the API root, such as https://api.sequin.io"
            )
            raise SequinAPIError(
                endpoint.target,
                f"HTTP 404{quoted(body.summary)}; check base_url ({root}) and api",
                status=404,
            )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SequinAPIError(
                endpoint.target,
                'HTTP 200 but the body has no "data" list; check base_url points at Sequin',
                status=200,
            )
        listing = Listing(data)
        listing.clean_text_only = clean_text_only
        return listing

    # -- one GET, with retries --------------------------------------------------

    def _get_json(self, endpoint: Endpoint) -> tuple[t.Any, bool]:
        """The judged answer, and whether its strings are clean (see ``Listing``)."""
        with self._quiet:
            self._calls += 1
        try:
            return self._get_json_with_retries(endpoint)
        finally:
            with self._quiet:
                self._calls -= 1
                self._quiet.notify_all()

    def _get_json_with_retries(self, endpoint: Endpoint) -> tuple[t.Any, bool]:
        attempts = self._settings.max_retries + 1
        last = "no answer"
        for attempt in range(attempts):
            self.throttle.wait_turn(self._stop)
            try:
                response, body, connection = self._attempt(endpoint)
                answer = judge(
                    endpoint, response, body, self._settings.api_key, self._logger.warning
                )
                if isinstance(answer, NotFound) and endpoint.expect_id and reused(connection):
                    answer = self._confirm_not_found(endpoint, connection)
                self._check_identity(endpoint, answer, connection)
                return answer, clean_text(body)
            except Retry as retry:
                last = retry.problem
                backoff = self._backoff(attempt)
                if retry.wait is None:
                    delay, why = backoff, "backoff"
                elif retry.wait >= backoff:
                    delay, why = retry.wait, retry.asked
                else:
                    # "Retry-After: 0", or a date already past (clock skew): no storm of
                    # immediate retries; back off at least as far as without it.
                    delay, why = backoff, f"{retry.asked}, less than the backoff"
                if retry.wait is not None or retry.pause_all:
                    self.throttle.pause(delay)
            if self._stop.is_set():
                raise Stopped
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
            "Sequin or the network is failing: "
            + ("" if "check base_url" in last else "check base_url, or ")
            + "raise max_retries/request_timeout",
            last=last,
        )

    def _confirm_not_found(self, endpoint: Endpoint, connection: HTTPConnection | None) -> t.Any:
        """Ask again, on a connection of its own, before a 404 drops a sync from the run.

        A 404 carries no sync id to check: one arriving on a reused connection may be a
        stray answer to an earlier request (a misbehaving server or proxy sends one
        too many), and believing it would skip a sync that exists, with exit 0.
        """
        if connection is not None:
            discard(connection)
        self.throttle.wait_turn(self._stop)
        with new_session(1) as session:
            session.proxies, session.verify, session.cert = (
                self._session.proxies,
                self._session.verify,
                self._session.cert,
            )
            session.trust_env = False
            response, body, _ = self._attempt(endpoint, session)
        return judge(endpoint, response, body, self._settings.api_key, self._logger.warning)

    def _check_identity(
        self, endpoint: Endpoint, answer: t.Any, connection: HTTPConnection | None
    ) -> None:
        """Refuse an answer about another sync than the one asked for, and its connection.

        HTTP/1.1 pairs answers with requests by order alone: a server or proxy that sends
        one answer too many shifts every later answer on that connection by one, and
        ``requests`` cannot see it (records would be attributed to the wrong sync, exit 0).
        The sync's own ``id`` can: such an answer is a failed attempt, retried, and the
        connection it came on is shut down so that nothing queued on it is read again.
        """
        if endpoint.expect_id is None or isinstance(answer, NotFound):
            return
        got = _unwrapped(answer).get("id") if isinstance(answer, dict) else None
        if isinstance(got, str) and got.strip().lower() == endpoint.expect_id.strip().lower():
            return
        if connection is not None:
            discard(connection)
        if self._reuse_connections:
            # The server (or a proxy) is out of step: a connection kept for reuse may hold
            # an answer nobody asked for. One connection per request from now on.
            self._reuse_connections = False
            self._session.headers["Connection"] = "close"
            self._template = self._new_template()
            self._logger.warning(
                "%s: an answer arrived for another sync than the one asked for; connections "
                "are no longer reused this run",
                endpoint.target,
            )
        shown = repr(got)[:60] if isinstance(got, str) else "no id"
        raise Retry(f"HTTP 200 but the answer is about another sync ({shown}); connection dropped")

    def _attempt(
        self, endpoint: Endpoint, session: requests.Session | None = None
    ) -> tuple[requests.Response, bytes, HTTPConnection | None]:
        """One attempt, redirects included, within ``request_timeout`` as a whole; the
        answer, its body and the connection it came on."""
        timeout = self._settings.request_timeout
        failure = None
        with self._watchdog.attempt(timeout) as attempt:
            try:
                answer = self._exchange(endpoint, session or self._session)
            except requests.RequestException as exc:
                failure = describe(exc, self._host, timeout)
            attempt.finish()
        # An attempt the watchdog ended may still have "succeeded": a shutdown reads as the
        # end of the headers, or of a body without a length. Never trust it.
        if attempt.ended_by == "stop":
            raise Stopped
        if attempt.ended_by == "timeout":
            raise Retry(f"no complete answer within request_timeout ({timeout:g}s)")
        if failure is None:
            return (*answer, attempt.connection)
        if failure.retryable:
            raise Retry(failure.problem)
        raise SequinAPIError(endpoint.target, failure.problem)

    def _exchange(
        self, endpoint: Endpoint, session: requests.Session
    ) -> tuple[requests.Response, bytes]:
        url = endpoint.url
        timeout = self._settings.request_timeout
        for _ in range(_MAX_REDIRECTS + 1):
            started = time.monotonic()
            try:
                response = session.send(
                    self._prepared(url, anonymous=endpoint.anonymous),
                    timeout=(timeout, timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException:
                raise
            except ValueError as exc:
                # requests looks ahead at a redirect it was told not to follow, and a
                # Location it cannot parse (a port out of range) fails it there.
                raise SequinAPIError(
                    endpoint.target,
                    f"redirect to a URL that is not valid ({exc}); the token is not sent "
                    "there: check base_url",
                ) from None
            try:
                body = self._read_body(endpoint, response)
            finally:
                response.close()
            self._log_duration(endpoint, response.status_code, time.monotonic() - started)
            location = self._session.get_redirect_target(response)
            if location is None:
                return response, body
            try:
                url = urljoin(url, location)
                origin = _origin(url)
            except ValueError:  # a port out of range, a broken IPv6 literal
                raise SequinAPIError(
                    endpoint.target,
                    f"HTTP {response.status_code} redirect to a URL that is not valid; "
                    "the token is not sent there: check base_url",
                    status=response.status_code,
                ) from None
            if origin != self._origin:
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

    def _new_template(self) -> requests.PreparedRequest:
        """The GET that every request copies: the session's headers and token, prepared once.

        ``Session.get`` prepares each request afresh, merging the session's headers, auth,
        cookies, params and hooks, and asks for the environment's proxy settings again
        (already settled, see ``_settle_environment``); with requests 2.34 on Python 3.11 the
        merging alone runs 7 ``typing.Protocol`` isinstance checks per request
        (``benchmarks/http_clients.py`` compares the two). The session keeps no cookie
        (see ``__init__``), so the copy carries none.
        """
        return self._session.prepare_request(requests.Request("GET", self._settings.base_url))

    def _prepared(self, url: str, *, anonymous: bool = False) -> requests.PreparedRequest:
        request = self._template.copy()
        request.prepare_url(url, None)
        if anonymous:
            del request.headers["Authorization"]
        return request

    def _read_body(self, endpoint: Endpoint, response: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > endpoint.max_body:
                raise SequinAPIError(
                    endpoint.target,
                    f"answer larger than {endpoint.max_body // 2**20} MiB; check base_url",
                ) from None
            chunks.append(chunk)
        return b"".join(chunks)

    def _log_duration(self, endpoint: Endpoint, status: int, seconds: float) -> None:
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

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(_MAX_BACKOFF, self._settings.retry_backoff_seconds * 2.0**attempt)
        jitter: float = random.uniform(0, ceiling / 2)  # noqa: S311 (not cryptography)
        return ceiling / 2 + jitter

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


def _settle_environment(session: requests.Session, base_url: str) -> None:
    """Read the proxy and CA variables once, as requests reads them for ``base_url``.

    Every request goes to ``base_url``'s origin (redirects elsewhere are refused), so what
    requests' ``merge_environment_settings`` finds for it (``HTTPS_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY`` with CIDR blocks, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) holds for the
    whole run. Taking it once and turning ``trust_env`` off spares requests re-reading the
    whole environment twice per request.
    """
    found = session.merge_environment_settings(base_url, {}, None, None, None)
    bundle = found["verify"]
    if isinstance(bundle, str) and not os.path.exists(bundle):
        variable = next(
            (v for v in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if os.environ.get(v) == bundle),
            "REQUESTS_CA_BUNDLE",
        )
        raise ConfigError(
            variable,
            f"names {bundle!r:.200}, which does not exist; point it at a CA file or a "
            "c_rehash'd directory, or unset it to trust certifi's bundle",
        )
    session.proxies = found["proxies"]
    session.verify = found["verify"]
    session.cert = found["cert"]
    session.trust_env = False


def _unwrapped(body: t.Any) -> t.Any:
    """A single object as sent, or unwrapped from ``{"data": {...}}`` (sequin-api.md)."""
    if isinstance(body, dict) and "id" not in body and isinstance(body.get("data"), dict):
        return body["data"]
    return body
