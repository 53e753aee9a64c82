"""How an answer from Sequin is judged: the API's rules, in one place.

A 2xx must be JSON; 401/403 end the run at once (``AuthError``); a 404 is "not found"
(``NotFound``, carrying Sequin's summary so a caller can tell a missing sync from a
wrong path); 429 and 5xx are worth another attempt (``Retry``), after what
``Retry-After`` says (capped at 5 minutes) if the server said anything; a 2xx that is
not JSON is worth another attempt too; anything else fails quoting Sequin's
``{"summary": ...}``. Every message names what was asked for and the URL path
requested, never the token or a response body.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import re
import time
import typing as t

from tap_sequin.errors import AuthError, SequinAPIError

if t.TYPE_CHECKING:
    import requests

RETRYABLE = frozenset({429, 500, 502, 503, 504})
# RFC 9110's delta-seconds (ASCII digits; a fraction tolerated), not Python's float syntax
# ("1_000", "1e3", "inf", other scripts' digits).
_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
MAX_RETRY_AFTER = 300.0


@dataclasses.dataclass(frozen=True)
class NotFound:
    """A 404: what was asked for is not there, or the path itself is wrong.

    ``path`` is the URL path requested; ``summary`` is Sequin's ``{"summary": ...}``, if any.
    """

    path: str = ""
    summary: str | None = None
    # The body was Phoenix's ``{"errors": {"detail": "Not Found"}}``: a self-hosted Sequin
    # server (a Phoenix application) that has no such route.
    phoenix: bool = False

    @property
    def route_level(self) -> bool:
        """Whether the 404 looks like the server's generic "no such route" answer.

        Sequin answers a wrong path with ``{"summary": "Not found"}`` and a missing sync
        with a summary that names it (``sequin-api.md``, Errors); a 404 with no summary at
        all (a proxy's, a web server's) says nothing about the sync either.
        """
        return self.summary is None or self.summary.strip(" .!").lower() in {"", "not found"}


NOT_FOUND = NotFound()


class Endpoint(t.NamedTuple):
    """One thing the client asks for: its URL, and its names in messages and metrics."""

    what: str  # for messages: "sync abc", "listing"
    url: str
    path: str  # the URL path requested, base_url's own path included
    template: str  # the metric's endpoint tag: "/v1/syncs/{id}"
    stream: str  # the metric's stream tag
    expect_id: str | None = None  # the id a single object's answer must carry
    anonymous: bool = False  # sent without the token (the self-hosted server's /health)
    max_body: int = 512 * 1024 * 1024  # bytes; a larger answer is refused, not held

    @property
    def target(self) -> str:
        """``sync abc (GET /v1/syncs/abc)``: what, and the path requested."""
        return f"{self.what} (GET {self.path})"


class Retry(Exception):
    """A failed attempt worth another one.

    ``wait`` is the seconds the server asked for (``Retry-After``, capped), with ``asked``
    saying so in words; without it the client backs off, and ``pause_all`` says whether
    every worker should wait too (a 429: the limit is the account's).
    """

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
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def judge(
    endpoint: Endpoint,
    response: requests.Response,
    body: bytes,
    token: str,
    warn: t.Callable[[str], None] | None = None,
) -> t.Any:
    """The JSON of a good answer, or a ``NotFound``; raise ``Retry``, ``AuthError`` or
    ``SequinAPIError``. ``token`` is masked should a summary echo it; ``warn`` is told of
    what was changed to make the answer loadable."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            return json.loads(body, parse_constant=_no_constants)
        except RecursionError:
            raise SequinAPIError(
                endpoint.target,
                f"HTTP {status} but the JSON is nested too deeply to read (deeper than "
                "Python's JSON reader goes); no loader can take it: check the data in Sequin",
                status=status,
            ) from None
        except ValueError:
            pass
        try:
            # Python refuses integers of more than 4,300 digits (sys.get_int_max_str_digits),
            # and so does every Python target reading this tap's output: as text they load.
            answer = json.loads(body, parse_constant=_no_constants, parse_int=_int_or_text)
        except (ValueError, RecursionError):
            content_type = masked(response.headers.get("content-type") or "missing", token)
            raise Retry(
                f"HTTP {status} with a body that is not JSON "
                f"(content-type {content_type}, {len(body)} bytes)"
            ) from None
        if warn is not None:
            warn(
                f"{endpoint.target}: an integer of more than 4,300 digits, which Python "
                "(this tap's JSON reader and the targets') refuses, is written as a string"
            )
        return answer
    said = summary(body, token)
    if status in {401, 403}:
        raise AuthError(
            endpoint.target,
            f"HTTP {status}{quoted(said)}: Sequin refused the token; "
            "check api_key (TAP_SEQUIN_API_KEY)",
            status=status,
        )
    if status == 404:
        return NotFound(endpoint.path, said, phoenix=_phoenix_not_found(body))
    if status in RETRYABLE:
        problem = f"HTTP {status}{quoted(said)}"
        header = response.headers.get("retry-after")
        asked = retry_after_seconds(header)
        if asked is None:
            raise Retry(problem, pause_all=status == 429)
        why = f"the server's Retry-After: {header}"
        if asked > MAX_RETRY_AFTER:
            why += f", capped at {MAX_RETRY_AFTER:g}s"
        raise Retry(problem, min(asked, MAX_RETRY_AFTER), why)
    if status == 407:
        hint = "the proxy demands credentials: check the user:password in HTTP_PROXY"
    else:
        hint = "check the sync id and base_url"
    raise SequinAPIError(endpoint.target, f"HTTP {status}{quoted(said)}; {hint}", status=status)


def _phoenix_not_found(body: bytes) -> bool:
    """Whether ``body`` is Phoenix's answer to a path it has no route for."""
    try:
        errors = json.loads(body).get("errors")
    except (ValueError, AttributeError, RecursionError):
        return False
    return isinstance(errors, dict) and isinstance(errors.get("detail"), str)


def api_mismatch(api: str, base_url: str, found: NotFound) -> str | None:
    """Why a 404 on a route says ``api`` does not match the server at ``base_url``, or None.

    A self-hosted Sequin server answers a path it has no route for (a v1 path) with
    Phoenix's ``{"errors": {"detail": "Not Found"}}``; Sequin's v1 API answers one with
    ``{"summary": "Not found"}``. Either answer to the other API's path is a mismatch.
    """
    if api == "v1" and found.phoenix:
        return (
            f"the server at base_url {base_url} answers like a self-hosted Sequin server, "
            "which has no v1 API: set api to 'self-hosted' (or check base_url)"
        )
    if api == "self-hosted" and not found.phoenix and found.summary and found.route_level:
        return (
            f"the server at base_url {base_url} answers like Sequin's v1 API, not a "
            "self-hosted server: set api to 'v1' (or check base_url)"
        )
    return None


def summary(body: bytes, token: str) -> str | None:
    """Sequin's ``{"summary": ...}``, on one line and shortened; never the raw body."""
    try:
        said = json.loads(body).get("summary")
    except (ValueError, AttributeError, RecursionError):
        return None
    if not isinstance(said, str) or not said.strip():
        return None
    # Masked before it is shortened: a cut through the token would leave most of it.
    return " ".join(masked(said, token).split())[:200]


def masked(text: str, token: str) -> str:
    """``text`` with every occurrence of ``token`` replaced by ``***``."""
    return text.replace(token, "***") if token else text


def quoted(said: str | None) -> str:
    """`` "the summary"`` to append to a message, or nothing."""
    return f' "{said}"' if said else ""


def _int_or_text(digits: str) -> int | str:
    try:
        return int(digits)
    except ValueError:
        return digits


def _no_constants(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser accepts them, targets do not.
    return None
