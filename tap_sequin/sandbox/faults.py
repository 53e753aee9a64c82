"""Fault injection: which requests go wrong, and how.

Two ways to ask for faults. Rates (`Faults(rate_429=0.1, ...)`) pick a share of requests;
each request's fate is a hash of (seed, method, path, how many requests to that method+path
came before it), not a draw from one shared RNG stream, so concurrent clients see the same
faults in any interleaving. Rules (`Rule(path=..., kind="503", times=2)`) are exact: the
first `times` matching requests get the fault, later ones are served normally.

Fault kinds: an HTTP status as a string (`"429"`, `"500"`, `"401"`, ...), `"5xx"` (one of
500/502/503/504), `"drop"` (close without answering), `"cut"` (content-length promises more
than is sent), `"html"` (502 text/html page), `"html200"` (200 text/html page), `"empty"`
(200 with an empty body), `"slow"` (answer after `slow_ms`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tap_sequin.sandbox.api import BAD_TOKEN
from tap_sequin.sandbox.replies import Reply, summary
from tap_sequin.sandbox.wire import HTML, http_date

NAMED_KINDS = frozenset({"5xx", "drop", "cut", "html", "html200", "empty", "slow"})
SERVER_ERRORS = (500, 502, 503, 504)


def check_kind(kind: str) -> str:
    """Return `kind` if it names a fault, else raise ValueError."""
    if kind in NAMED_KINDS or (kind.isdigit() and 400 <= int(kind) <= 599):
        return kind
    raise ValueError(f"unknown fault kind {kind!r}; use an HTTP status or one of {NAMED_KINDS}")


@dataclass(frozen=True)
class Rule:
    """A fault for the requests whose path matches.

    `path`: `"*"` matches every path; a string ending in `*` is a prefix; a string starting
    with `re:` (or a compiled pattern) is a regex that must match the whole path; anything
    else must equal the path (query string excluded). `times=None` means every match, for
    ever. `per_path=True` counts `times` for each distinct path separately ("every sync
    fails twice, then succeeds"). `method=None` matches any method.
    """

    path: str | re.Pattern[str] = "*"
    kind: str = "503"
    times: int | None = None
    method: str | None = None
    per_path: bool = False

    def __post_init__(self) -> None:
        check_kind(self.kind)

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule covers a request (ignoring how many times it has fired)."""
        if self.method is not None and self.method.upper() != method:
            return False
        pattern = self.path
        if isinstance(pattern, re.Pattern):
            return pattern.fullmatch(path) is not None
        if pattern == "*":
            return True
        if pattern.startswith("re:"):
            return re.fullmatch(pattern[3:], path) is not None
        if pattern.endswith("*"):
            return path.startswith(pattern[:-1])
        return path == pattern


@dataclass(frozen=True)
class Faults:
    """What goes wrong, all at once. The default is a healthy API.

    Rates are shares of requests in [0, 1]; their sum must not exceed 1. `retry_after` is
    the seconds sent in `Retry-After` on 429s, as an HTTP-date when `retry_after_date`.
    `not_found` ids answer 404 to GET/PATCH/DELETE although they stay in the list (as if
    deleted between list and get). `revoked=True` answers 401 to every API request.
    """

    rate_429: float = 0.0
    retry_after: int = 1
    retry_after_date: bool = False
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    rate_cut: float = 0.0
    rate_html: float = 0.0
    rate_html200: float = 0.0
    rate_empty: float = 0.0
    rate_slow: float = 0.0
    slow_ms: float = 5000.0
    # Any collection or sequence is accepted; stored as frozenset and tuple.
    not_found: Collection[str] = frozenset()
    rules: Sequence[Rule] = ()
    revoked: bool = False

    def __post_init__(self) -> None:
        # Accept lists for convenience; store immutable values so a Faults can be shared.
        object.__setattr__(self, "not_found", frozenset(self.not_found))
        object.__setattr__(self, "rules", tuple(self.rules))
        total = sum(rate for _, rate in self.rates())
        if any(rate < 0 for _, rate in self.rates()) or total > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1, got {total}")

    def rates(self) -> list[tuple[str, float]]:
        """(kind, rate) pairs in the fixed order used to partition the hash space."""
        return [
            ("429", self.rate_429),
            ("5xx", self.rate_5xx),
            ("drop", self.rate_drop),
            ("cut", self.rate_cut),
            ("html", self.rate_html),
            ("html200", self.rate_html200),
            ("empty", self.rate_empty),
            ("slow", self.rate_slow),
        ]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, the inverse of `from_dict`."""
        out = dataclasses.asdict(self)
        out["not_found"] = sorted(self.not_found)
        out["rules"] = [{**dataclasses.asdict(r), "path": _path_text(r.path)} for r in self.rules]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        """Build from JSON (as sent to `POST /_sandbox/faults`); unknown keys are an error."""
        data = dict(data)
        rules = [Rule(**r) for r in data.pop("rules", [])]
        return cls(rules=tuple(rules), **data)


def _path_text(path: str | re.Pattern[str]) -> str:
    return "re:" + path.pattern if isinstance(path, re.Pattern) else path


@dataclass(frozen=True)
class Decision:
    """The fault chosen for one request: its kind, and the status for `5xx`."""

    kind: str
    status: int = 0


class FaultPlan:
    """Decides each request's fault under a seed; keeps the per-path and per-rule counters."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self.seed = seed
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], int] = {}
        self._fired: dict[tuple[int, str], int] = {}
        self._any_rate = any(rate > 0 for _, rate in faults.rates())

    def decide(self, method: str, path: str) -> Decision | None:
        """The fault for the next request to `method path`, or None to serve it normally."""
        if not self._any_rate and not self.faults.rules:
            return None
        with self._lock:
            nth = self._seen.get((method, path), 0)
            self._seen[(method, path)] = nth + 1
            for index, rule in enumerate(self.faults.rules):
                if not rule.matches(method, path):
                    continue
                key = (index, path if rule.per_path else "")
                fired = self._fired.get(key, 0)
                if rule.times is not None and fired >= rule.times:
                    continue
                self._fired[key] = fired + 1
                return self._decision(rule.kind, method, path, nth)
        if not self._any_rate:
            return None
        draw = self._draw(method, path, nth)
        edge = 0.0
        for kind, rate in self.faults.rates():
            edge += rate
            if draw < edge:
                return self._decision(kind, method, path, nth)
        return None

    def _decision(self, kind: str, method: str, path: str, nth: int) -> Decision:
        if kind == "5xx":
            pick = int(self._draw(method, path, nth, salt="status") * len(SERVER_ERRORS))
            return Decision("5xx", SERVER_ERRORS[pick])
        return Decision(kind, int(kind) if kind.isdigit() else 0)

    def _draw(self, method: str, path: str, nth: int, salt: str = "") -> float:
        key = f"{self.seed}|{method}|{path}|{nth}|{salt}".encode()
        digest = hashlib.blake2b(key, digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64


def parse_rule(text: str) -> Rule:
    """Parse a CLI rule `PATH=KIND` or `PATH=KIND*TIMES`, e.g. `/v1/syncs/abc=503*2`."""
    path, sep, what = text.rpartition("=")
    if not sep or not path:
        raise ValueError(f"rule {text!r} is not PATH=KIND[*TIMES]")
    kind, _, times = what.partition("*")
    return Rule(path=path, kind=kind, times=int(times) if times else None)


HTML_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>cloudflare</center></body></html>\n"
)


def fault_reply(
    decision: Decision, faults: Faults, unauthorised: Reply | None = None
) -> Reply | None:
    """The answer a fault puts in place of the API's, or None if the API still answers
    (`slow` and `cut` only change how the real answer is delivered; `drop` never gets here).
    A `401` fault answers `unauthorised` (default: the v1 API's answer to a wrong token).
    """
    kind = decision.kind
    if kind in ("slow", "cut", "drop"):
        return None
    if kind == "429":
        if faults.retry_after_date:
            retry_after = http_date(time.time() + faults.retry_after)
        else:
            retry_after = str(faults.retry_after)
        reply = summary(429, "Too many requests")
        reply.headers = (("retry-after", retry_after),)
        return reply
    if kind == "html":
        return Reply(502, HTML_PAGE, content_type=HTML)
    if kind == "html200":
        return Reply(200, HTML_PAGE.replace(b"502 Bad Gateway", b"Maintenance"), HTML)
    if kind == "empty":
        return Reply(200, b"")
    if decision.status == 401:
        return unauthorised if unauthorised is not None else summary(401, BAD_TOKEN)
    try:
        phrase = HTTPStatus(decision.status).phrase
    except ValueError:
        phrase = "Error"
    return summary(decision.status, phrase)
