"""The tap's settings: checked once, before any request, into a frozen ``Settings``.

Each check names the setting it refuses, in one line, and never echoes the
value of ``api_key`` (a mistyped token is still a token).
"""

from __future__ import annotations

import decimal
import ipaddress
import math
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from tap_sequin import __version__
from tap_sequin.errors import ConfigError

DEFAULT_BASE_URL = "https://api.sequin.io"
# The two APIs the tap reads: Sequin's hosted v1 API, and the management API of Sequin's
# self-hosted server (under /api on the server's own address).
API_V1 = "v1"
API_SELF_HOSTED = "self-hosted"
APIS = (API_V1, API_SELF_HOSTED)
SELF_HOSTED_EXAMPLE = "http://localhost:7376"
DEFAULT_USER_AGENT = f"tap-sequin/{__version__}"


@dataclass(frozen=True)
class Settings:
    """What the run needs from the config, validated and with defaults applied."""

    api_key: str
    sync_ids: tuple[str, ...]
    base_url: str
    request_timeout: float
    max_retries: int
    retry_backoff_seconds: float
    user_agent: str
    max_concurrent_requests: int
    max_requests_per_second: float | None
    api: str = API_V1
    allow_plain_http: bool = False
    # Values the tap corrected rather than refused, one line each (logged as warnings).
    corrections: tuple[str, ...] = ()

    @property
    def self_hosted(self) -> bool:
        """True when the run reads a self-hosted Sequin server's ``/api``."""
        return self.api == API_SELF_HOSTED

    @property
    def lists_every_sync(self) -> bool:
        """True when no ``sync_ids`` are configured: the run reads ``GET /v1/syncs``."""
        return not self.sync_ids

    def __repr__(self) -> str:
        # dataclass' default repr would print the token into any log or traceback.
        return (
            f"Settings(api={self.api!r}, base_url={self.base_url!r}, "
            f"sync_ids={len(self.sync_ids)} ids, "
            f"max_concurrent_requests={self.max_concurrent_requests}, "
            f"max_requests_per_second={self.max_requests_per_second}, api_key='***')"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_base_url(
    value: object,
    corrections: list[str] | None = None,
    *,
    api: str = API_V1,
    allow_plain_http: bool = False,
) -> str:
    """Return the API root without a trailing slash, or refuse it.

    Plain ``http://`` is allowed only to a loopback host, or with ``allow_plain_http``:
    anywhere else the token would travel in clear text. A root ending in the prefix the
    tap adds itself (``/v1`` for ``api`` v1, ``/api`` for self-hosted, as the docs write
    URLs) would double it in every request: the prefix is dropped and a line saying so is
    appended to ``corrections``.
    """
    example = SELF_HOSTED_EXAMPLE if api == API_SELF_HOSTED else DEFAULT_BASE_URL
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("base_url", f"must be a URL such as {example}")
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except ValueError as exc:  # "http://[::1": Invalid IPv6 URL
        raise ConfigError(
            "base_url", f"is not a valid URL ({exc}); write it as {example}"
        ) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError("base_url", f"{url!r} is not an http(s) URL; write it as {example}")
    if parts.username or parts.password:
        raise ConfigError("base_url", "must not carry credentials; put the token in api_key")
    if parts.query or parts.fragment:
        # Not echoed: a query may hold a secret (?token=...).
        root = f"{parts.scheme}://{parts.netloc}{parts.path}"
        raise ConfigError(
            "base_url", f"must not have a query or fragment (after {root!r}); remove it"
        )
    if parts.scheme == "http" and not allow_plain_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            "base_url",
            f"plain http:// to {parts.hostname} would send the token in clear text; use "
            "https://, or set allow_plain_http to true if the network between the tap and "
            "the server is private",
        )
    prefix = "/api" if api == API_SELF_HOSTED else "/v1"
    if parts.path.rstrip("/").lower().endswith(prefix):
        fixed = url[: -len(prefix)]
        if corrections is not None:
            corrections.append(
                f"setting 'base_url': {url!r} ends in {prefix}, which tap-sequin adds to every "
                f"path itself (api {api}); using {fixed!r}"
            )
        url = fixed
    return url


def parse_api(value: object) -> str:
    """``v1`` (the default) or ``self-hosted``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return API_V1
    if not isinstance(value, str) or value.strip().lower() not in APIS:
        shown = repr(value)[:40]
        raise ConfigError("api", f"must be 'v1' or 'self-hosted', got {shown}")
    return value.strip().lower()


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def parse_flag(config: t.Mapping[str, t.Any], name: str) -> bool:
    """A boolean setting; text (an environment variable) as true/false, 1/0, yes/no."""
    value = config.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(name, f"must be true or false, got {repr(value)[:40]}")


def _number(
    config: t.Mapping[str, t.Any], name: str, default: float | None, *, integer: bool = False
) -> float | None:
    value = config.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        # An empty variable (`TAP_SEQUIN_MAX_REQUESTS_PER_SECOND=` in .env) means unset.
        return default
    kind = "a whole number" if integer else "a number"
    if isinstance(value, str):
        # Environment variables and string-typed orchestrator settings arrive as text.
        try:
            value = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ConfigError(name, f"must be {kind}, got {value!r:.40}") from None
    # The SDK reads JSON config numbers as Decimal.
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise ConfigError(name, f"must be {kind}, got {type(value).__name__}")
    value = int(value) if isinstance(value, int) else float(value)
    if not math.isfinite(value) or (integer and value != int(value)):
        raise ConfigError(name, f"must be {kind}, got {value!r}")
    return int(value) if integer else value


def _positive(
    config: t.Mapping[str, t.Any], name: str, default: float | None, *, integer: bool = False
) -> float | None:
    value = _number(config, name, default, integer=integer)
    if value is not None and value <= 0:
        raise ConfigError(name, f"must be greater than 0, got {value!r}")
    return value


def parse_sync_ids(value: object) -> tuple[str, ...]:
    """Return the configured ids in order, each once; empty means "every sync"."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ConfigError(
            "sync_ids", f'must be a list of sync ids such as ["c906b4a4-..."], got {value!r:.60}'
        )
    seen: dict[str, None] = {}
    for position, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                "sync_ids", f"item {position} must be a non-empty sync id string, got {item!r:.60}"
            )
        # "." and ".." would be read as path steps: GET /v1/syncs/. is the listing.
        if "/" in item or "?" in item or "#" in item or item.strip() in {".", ".."}:
            raise ConfigError("sync_ids", f"item {position} {item!r:.60} is not a sync id")
        seen.setdefault(item.strip(), None)
    return tuple(seen)


# Beyond these a value is a mistake, not a wish: 10**20 threads or a timeout past the
# platform's clock exhaust the machine or crash, where a one-line refusal helps.
UPPER_BOUNDS: dict[str, float] = {
    "request_timeout": 3600,
    "retry_backoff_seconds": 3600,
    "max_retries": 100,
    "max_concurrent_requests": 256,
    "max_requests_per_second": 10_000,
}


def _at_most(name: str, value: float | None) -> float | None:
    limit = UPPER_BOUNDS[name]
    if value is not None and value > limit:
        raise ConfigError(name, f"must be at most {limit:g}, got {value:g}")
    return value


def parse_settings(config: t.Mapping[str, t.Any]) -> Settings:
    """Validate ``config`` and return the settings of the run, or raise ``ConfigError``."""
    api_key = config.get("api_key")
    if api_key is None or (isinstance(api_key, str) and not api_key.strip()):
        raise ConfigError("api_key", "is required: set TAP_SEQUIN_API_KEY to a Sequin API token")
    if not isinstance(api_key, str):
        raise ConfigError("api_key", "must be a string (the Sequin API token)")
    if any(ch.isspace() for ch in api_key.strip()) or not api_key.isprintable():
        raise ConfigError("api_key", "contains spaces or control characters; paste the token alone")
    if not api_key.isascii():
        # An HTTP header carries no such character (requests fails encoding it).
        raise ConfigError("api_key", "contains non-ASCII characters; paste the token alone")

    user_agent = config.get("user_agent") or DEFAULT_USER_AGENT
    if not isinstance(user_agent, str) or not user_agent.isprintable() or not user_agent.isascii():
        raise ConfigError("user_agent", "must be a printable ASCII string")

    rps = _at_most("max_requests_per_second", _positive(config, "max_requests_per_second", None))
    max_retries = int(t.cast(float, _number(config, "max_retries", 5, integer=True)))
    if max_retries < 0:
        raise ConfigError("max_retries", f"must be 0 or more, got {max_retries}")
    _at_most("max_retries", max_retries)
    corrections: list[str] = []
    api = parse_api(config.get("api"))
    allow_plain_http = parse_flag(config, "allow_plain_http")
    base_url = config.get("base_url")
    if api == API_SELF_HOSTED and (base_url is None or base_url == DEFAULT_BASE_URL):
        # Sequin's hosted API is not a self-hosted server; there is no sensible default.
        raise ConfigError(
            "base_url",
            f"is required with api self-hosted: the server's address, such as "
            f"{SELF_HOSTED_EXAMPLE} (the tap adds /api)",
        )
    sync_ids = parse_sync_ids(config.get("sync_ids"))
    if api == API_SELF_HOSTED and sync_ids:
        corrections.append(
            "setting 'sync_ids': not used with api self-hosted (a self-hosted server has "
            "sinks, not syncs); every sink is extracted"
        )
    return Settings(
        api_key=api_key.strip(),
        sync_ids=sync_ids,
        base_url=parse_base_url(
            base_url or DEFAULT_BASE_URL,
            corrections,
            api=api,
            allow_plain_http=allow_plain_http,
        ),
        request_timeout=t.cast(
            float, _at_most("request_timeout", _positive(config, "request_timeout", 30.0))
        ),
        max_retries=max_retries,
        retry_backoff_seconds=t.cast(
            float,
            _at_most("retry_backoff_seconds", _positive(config, "retry_backoff_seconds", 1.0)),
        ),
        user_agent=user_agent,
        max_concurrent_requests=int(
            t.cast(
                float,
                _at_most(
                    "max_concurrent_requests",
                    _positive(config, "max_concurrent_requests", 8, integer=True),
                ),
            )
        ),
        max_requests_per_second=rps,
        api=api,
        allow_plain_http=allow_plain_http,
        corrections=tuple(corrections),
    )


def normalised_config(
    config: t.Mapping[str, t.Any], settings: Settings, schema: t.Mapping[str, t.Any]
) -> dict[str, t.Any]:
    """``config`` with numeric text turned into numbers, and ``base_url`` as corrected.

    ``schema`` is the tap's config JSON schema (the SDK's own settings included): every
    ``integer`` or ``number`` setting given as text (a config file, ``--config ENV``,
    Meltano's ``kind: string``) is parsed here, with a one-line ``ConfigError``, so the
    SDK's JSON-schema check accepts what ``parse_settings`` accepted.
    """
    fixed = dict(config)
    for name, prop in schema.get("properties", {}).items():
        types = prop.get("type")
        types = {types} if isinstance(types, str) else set(types or ())
        value = fixed.get(name)
        if isinstance(value, str) and types & {"integer", "number"}:
            integer = "number" not in types
            if hasattr(settings, name):
                fixed[name] = getattr(settings, name)
            else:
                fixed[name] = _number(config, name, None, integer=integer)
    if fixed.get("base_url"):
        fixed["base_url"] = settings.base_url
    if "api" in fixed:
        fixed["api"] = settings.api
    if "allow_plain_http" in fixed:
        fixed["allow_plain_http"] = settings.allow_plain_http
    return fixed
