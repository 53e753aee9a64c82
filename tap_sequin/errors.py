"""The errors tap-sequin raises, as a small hierarchy callers can catch precisely.

Every message is one line a person can act on: what happened, to which sync id,
and which setting to check. No message ever contains the API token or a
credential secret; response bodies are quoted only through Sequin's
``{"summary": ...}`` field, shortened.
"""

from __future__ import annotations


class TapSequinError(Exception):
    """Base class: a failure that ends the run with a one-line explanation."""

    exit_code = 1


class ConfigError(TapSequinError):
    """A setting is missing or has a value the tap cannot use."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"setting '{setting}': {problem}")


class SequinAPIError(TapSequinError):
    """Sequin (or something between us and Sequin) answered in a way we cannot use.

    ``target`` names what was asked for and the path requested, e.g.
    ``sync abc (GET /v1/syncs/abc)``; ``status`` is the HTTP status, if there was one.
    """

    def __init__(self, target: str, problem: str, *, status: int | None = None) -> None:
        self.target = target
        self.status = status
        super().__init__(f"{target}: {problem}")


class AuthError(SequinAPIError):
    """401/403: the token was refused. Never retried."""


class Unreachable(SequinAPIError):
    """base_url cannot be reached or spoken to at all (no such host, refused on this
    machine, TLS to a plain-HTTP port, a proxy or certificate refused). The same for
    every request, so never retried and never worked around by another stream."""


class RetriesExhausted(SequinAPIError):
    """A retryable failure (429, 5xx, timeout, reset, bad body) outlived max_retries.

    ``last`` is the last attempt's problem alone, e.g. "DNS lookup of api.sequin.io failed".
    """

    def __init__(self, target: str, problem: str, *, last: str) -> None:
        self.last = last
        super().__init__(target, problem)


class OutputClosed(TapSequinError):
    """Whoever reads our stdout (the target) stopped reading mid-run."""

    def __init__(self) -> None:
        super().__init__(
            "stdout was closed by its reader (did the target exit?); the run is incomplete"
        )


class OutputFailed(TapSequinError):
    """Writing to stdout failed for another reason than a closed reader (a full disk)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"stdout could not be written ({reason}); the run is incomplete")


class Interrupted(TapSequinError):
    """The run was stopped by SIGTERM or SIGINT before it finished."""

    def __init__(self, signum: int, signame: str) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signame}; the run is incomplete (partial output)")
