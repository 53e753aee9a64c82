"""The tap: its settings, its one stream, and how a run starts and ends."""

from __future__ import annotations

import contextlib
import copy
import difflib
import os
import signal
import sys
import threading
import typing as t

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from singer_sdk.tap_base import Tap

from tap_sequin.errors import ConfigError, Interrupted, OutputClosed, TapSequinError
from tap_sequin.output import BufferedSingerWriter
from tap_sequin.settings import DEFAULT_BASE_URL, DEFAULT_USER_AGENT, Settings, parse_settings

if t.TYPE_CHECKING:
    from types import FrameType

    import click
    from singer_sdk.streams import Stream

    from tap_sequin.streams import SyncsStream


class TapSequin(Tap):
    """Singer tap for the syncs of Sequin's v1 management API."""

    name = "tap-sequin"
    package_name = "tap-sequin"
    message_writer_class = BufferedSingerWriter

    capabilities: t.ClassVar[list[t.Any]] = [
        PluginCapabilities.ABOUT,
        TapCapabilities.DISCOVER,
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.BATCH,
        PluginCapabilities.STRUCTURED_LOGGING,
        TapCapabilities.TEST,
        TapCapabilities.ACTIVATE_VERSION,
    ]

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            title="API token",
            description="Sequin API token, sent as 'Authorization: Bearer <token>'.",
        ),
        th.Property(
            "sync_ids",
            th.ArrayType(th.StringType),
            title="Sync ids",
            description=(
                "Ids of the syncs to extract, in this order; duplicates are extracted once. "
                "Empty or absent: every sync from GET /v1/syncs, and syncs that disappear "
                "are marked deleted in the target."
            ),
        ),
        th.Property(
            "base_url",
            th.StringType,
            default=DEFAULT_BASE_URL,
            title="Base URL",
            description=(
                "Root of the Sequin API. Plain http:// is refused unless the host is "
                "loopback (the token would travel in clear)."
            ),
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=30,
            title="Request timeout",
            description=(
                "Seconds one attempt may take as a whole: connecting, the headers and the "
                "body (redirects included)."
            ),
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=5,
            title="Max retries",
            description=(
                "Retries of one request after a 429, a 5xx, a timeout, a dropped connection "
                "or a malformed body (0: try once)."
            ),
        ),
        th.Property(
            "retry_backoff_seconds",
            th.NumberType,
            default=1,
            title="Retry backoff",
            description=(
                "First wait before a retry, in seconds; doubles each retry (with jitter, "
                "at most 60 s). A Retry-After on a 429 or 5xx takes precedence (at most 5 min)."
            ),
        ),
        th.Property(
            "user_agent",
            th.StringType,
            default=DEFAULT_USER_AGENT,
            title="User agent",
            description="User-Agent header sent with every request.",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType,
            default=8,
            title="Max concurrent requests",
            description="Requests in flight at most, retries included (1: strictly sequential).",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            title="Max requests per second",
            description=(
                "Cap on request starts in any one-second window, retries included. Absent: no cap."
            ),
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # One event per running extraction; a signal sets them all.
        self._stop_events: set[threading.Event] = set()
        self._signal: tuple[int, str] | None = None
        self._settings: Settings | None = None
        super().__init__(*args, **kwargs)

    # -- settings ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The validated settings of this run."""
        if self._settings is None:
            self._settings = parse_settings(self.config)
        return self._settings

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Our checks first: one line per problem, and never the token's value
        # (the SDK's JSON-schema messages quote the offending value).
        if raise_errors:
            self._settings = parse_settings(self.config)
            self._refuse_unknown_settings()
        return super()._validate_config(raise_errors=raise_errors)

    def _refuse_unknown_settings(self) -> None:
        # A typo such as "sync_id" would otherwise silently extract every sync.
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)
        known = set(schema.get("properties", {}))
        for key in self.config:
            if key not in known and not key.startswith("_"):
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "see tap-sequin --about"
                raise ConfigError(key, f"is not a setting of tap-sequin; {hint}")

    # -- streams ----------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        """The tap's one stream."""
        from tap_sequin.streams import SyncsStream

        return [SyncsStream(self)]

    @property
    def syncs_stream(self) -> SyncsStream:
        """The ``syncs`` stream of this run."""
        return t.cast("SyncsStream", self.streams["syncs"])

    # -- running ----------------------------------------------------------------

    # The SDK marks sync_all final; we extend it only to end every failed run with a
    # STATE message and a reason, and to refuse replication methods that would lose data.
    def sync_all(self) -> None:  # type: ignore[misc]
        """Run the sync; on any failure still write a final STATE, then re-raise."""
        stream = self.syncs_stream
        if stream.replication_method != "FULL_TABLE":
            raise ConfigError(
                "catalog replication-method",
                f"stream 'syncs' supports FULL_TABLE only, not {stream.replication_method}: "
                "health changes without updated_at moving, so nothing else is safe",
            )
        try:
            super().sync_all()
        except TapSequinError:
            self._write_final_state()
            raise
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's last flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputClosed from None
        except Exception:
            self._write_final_state()
            self.check_interrupted()
            raise
        self.logger.info(self.summary())

    def summary(self) -> str:
        """One line on what the run did."""
        stream = self.syncs_stream
        line = f"extracted {stream.extracted} syncs"
        if stream.not_found:
            line += f"; {len(stream.not_found)} not found: {', '.join(stream.not_found[:10])}"
        if self.settings.lists_every_sync:
            line += (
                "; syncs gone from Sequin marked deleted"
                if stream.deletions_applied
                else "; deletions NOT applied this run"
            )
        return line

    def _write_final_state(self) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):  # stdout already gone
            self.state_writer.write_state(self.state)

    # -- signals ----------------------------------------------------------------

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # Only note it: the record loop stops between two whole messages, so stdout
        # never holds a torn line, and the run exits non-zero (the SDK exits 0).
        self._signal = (signum, signal.Signals(signum).name)
        for event in list(self._stop_events):
            event.set()

    @contextlib.contextmanager
    def stop_event(self) -> t.Iterator[threading.Event]:
        """An event set when the run must stop: by a signal, or by the extraction itself."""
        event = threading.Event()
        self._stop_events.add(event)
        if self._signal is not None:
            event.set()
        try:
            yield event
        finally:
            self._stop_events.discard(event)

    def interruption(self) -> BaseException:
        """The exception that reports the signal received (or a generic stop)."""
        if self._signal is None:
            return Interrupted(signal.SIGTERM, "a stop request")
        return Interrupted(*self._signal)

    def check_interrupted(self) -> None:
        """Raise ``Interrupted`` if a signal has arrived."""
        if self._signal is not None:
            raise self.interruption()

    # -- --test -----------------------------------------------------------------

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """``--test``: one real request, and a plain answer on whether it worked."""
        if value in {"disabled", "schema"}:
            super().cb_test(ctx, param, value)
            return
        from tap_sequin.connection_test import run_connection_check

        config = ctx.params.get("config")
        tap = cls(
            config=getattr(config, "config", None),
            parse_env_config=getattr(config, "parse_env", False),
            validate_config=True,
        )
        ctx.exit(run_connection_check(tap.settings, tap.logger))
