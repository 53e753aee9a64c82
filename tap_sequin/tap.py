"""The tap: its settings, its three streams, and how a run starts and ends."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import sys
import threading
import typing as t

import click
from singer_sdk import typing as th
from singer_sdk.exceptions import MappingError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from singer_sdk.tap_base import Tap

from tap_sequin.errors import ConfigError, Interrupted, OutputClosed, TapSequinError
from tap_sequin.runtime.output import BufferedSingerWriter
from tap_sequin.settings import environment
from tap_sequin.settings.catalog_checks import refuse_changed_types, unknown_catalog_streams
from tap_sequin.settings.config_checks import (
    environment_warnings,
    refuse_bad_batch_config,
    refuse_bad_flattening,
    refuse_schema_errors,
    refuse_unknown_settings,
)
from tap_sequin.settings.map_checks import (
    check_faker_config,
    check_stream_maps,
    flattening_warning,
    name_failures_of_values,
)
from tap_sequin.settings.parsing import (
    DEFAULT_BASE_URL,
    DEFAULT_USER_AGENT,
    Settings,
    normalised_config,
    parse_settings,
)

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.streams import Stream

    from tap_sequin.streams.credentials import CredentialsStream
    from tap_sequin.streams.sync_reading import SyncReading
    from tap_sequin.streams.syncs import SyncHealthHistoryStream, SyncsStream


class TapSequin(Tap):
    """Sequin's v1 API: syncs, sync_health_history (a row per sync per run), credentials."""

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
                "Ids of the syncs to extract (streams syncs and sync_health_history), in "
                "this order; duplicates are extracted once. Empty or absent: every sync from "
                "GET /v1/syncs, and syncs that disappear are marked deleted in the target. "
                "The credentials stream always lists every credential."
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
        self._sync_reading: SyncReading | None = None
        # --config ENV: read here rather than by the SDK, which int()s integer settings
        # (a traceback for "3.0") and ignores misspelt names without a word.
        self._reads_environment = bool(kwargs.pop("parse_env_config", False))
        if self._reads_environment:
            config = dict(kwargs.get("config") or {})
            from_environment = environment.read_environment(self._full_config_schema())
            config.update(from_environment)
            kwargs["config"] = config
            self.logger.info(
                "--config ENV: read %s from TAP_SEQUIN_* variables",
                ", ".join(sorted(from_environment)) or "no setting",
            )
        super().__init__(*args, **kwargs)

    # -- settings ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The validated settings of this run."""
        if self._settings is None:
            self._settings = parse_settings(self.config)
        return self._settings

    @classmethod
    def _full_config_schema(cls) -> dict[str, t.Any]:
        """The config JSON schema with the SDK's built-in settings (stream maps, ...)."""
        schema = copy.deepcopy(cls.config_jsonschema)
        cls.append_builtin_config(schema)
        return schema

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Our checks first: one line per problem, and never the token's value
        # (the SDK's JSON-schema messages quote the offending value).
        schema = self._full_config_schema()
        if not raise_errors:  # --discover: numbers as text are still numbers, quietly
            with contextlib.suppress(ConfigError):
                settings = parse_settings(self.config)
                self._config = normalised_config(self._config, settings, schema)
            return super()._validate_config(raise_errors=False)
        try:
            self._settings = parse_settings(self.config)
        except ConfigError as exc:
            unread = environment.unread_variables([exc.setting], self.config)
            if unread and not self._reads_environment:
                raise ConfigError(exc.setting, environment.unread_hint(unread)) from None
            raise
        for line in environment_warnings(
            schema, self.config, reads_environment=self._reads_environment
        ):
            self.logger.warning(line)
        refuse_unknown_settings(schema, self.config)
        self._config = normalised_config(self._config, self._settings, schema)
        for line in self._settings.corrections:
            self.logger.warning(line)
        refuse_schema_errors(schema, self._config)
        refuse_bad_batch_config(self._config)
        refuse_bad_flattening(self._config)
        return super()._validate_config(raise_errors=True)

    # -- stream maps and flattening ---------------------------------------------

    def setup_mapper(self) -> None:
        """Check ``stream_maps`` and flattening before any request, then set up the SDK's mapper."""
        schemas = {stream.name: stream.schema for stream in self.streams.values()}
        check_stream_maps(self.config.get("stream_maps"), schemas)
        check_faker_config(self.config.get("faker_config"))
        try:
            super().setup_mapper()
        except MappingError as exc:
            raise ConfigError("stream_maps", str(exc)) from None
        for name, maps in self.mapper.stream_maps.items():
            for stream_map in maps:
                name_failures_of_values(stream_map)
                warning = flattening_warning(name, schemas.get(name), stream_map)
                if warning:
                    self.logger.warning(warning)

    # -- streams ----------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        """``syncs``, ``sync_health_history`` (from the same responses) and ``credentials``."""
        from tap_sequin.streams.credentials import CredentialsStream
        from tap_sequin.streams.syncs import SyncHealthHistoryStream, SyncsStream

        return [SyncsStream(self), SyncHealthHistoryStream(self), CredentialsStream(self)]

    # Final in the SDK too; its version sorts streams by name, which would run
    # sync_health_history before the syncs whose responses it reuses. No parent/child
    # streams here, so the rest of what it does has nothing to do.
    def load_streams(self) -> list[Stream]:  # type: ignore[misc]
        """The streams in ``discover_streams()`` order: ``syncs`` runs first."""
        return self.discover_streams()

    @property
    def syncs_stream(self) -> SyncsStream:
        """The ``syncs`` stream of this run."""
        return t.cast("SyncsStream", self.streams["syncs"])

    @property
    def history_stream(self) -> SyncHealthHistoryStream:
        """The ``sync_health_history`` stream of this run."""
        return t.cast("SyncHealthHistoryStream", self.streams["sync_health_history"])

    @property
    def credentials_stream(self) -> CredentialsStream:
        """The ``credentials`` stream of this run."""
        return t.cast("CredentialsStream", self.streams["credentials"])

    @property
    def sync_reading(self) -> SyncReading:
        """This run's one reading of the syncs, shared by ``syncs`` and its history."""
        if self._sync_reading is None:
            from tap_sequin.streams.sync_reading import SyncReading

            self._sync_reading = SyncReading(
                self.settings,
                self.syncs_stream.logger,
                self.stop_event,
                self.interruption,
                self.check_interrupted,
                keep_history=self.history_stream.selected,
            )
        return self._sync_reading

    # -- running ----------------------------------------------------------------

    # The SDK marks sync_all final; we extend it only to end every failed run with a
    # STATE message and a reason, and to refuse replication methods that would lose data.
    def sync_all(self) -> None:  # type: ignore[misc]
        """Run the sync; on any failure still write a final STATE, then re-raise."""
        if self.input_catalog is not None:
            ids = [entry.tap_stream_id for entry in self.input_catalog.streams]
            for line in unknown_catalog_streams(ids, self.streams):
                self.logger.warning(line)
            for stream in self.streams.values():
                if stream.selected:
                    refuse_changed_types(stream.name, stream.schema, stream.effective_schema)
        for stream in self.streams.values():
            if stream.replication_method != "FULL_TABLE":
                raise ConfigError(
                    "catalog replication-method",
                    f"stream '{stream.name}' supports FULL_TABLE only, not "
                    f"{stream.replication_method}: health changes without updated_at moving, "
                    "so nothing else is safe",
                )
        self._sync_reading = None
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
        reading = self._sync_reading
        if reading is not None and reading.failure is not None:
            # Everything reachable is out; the run still could not do all of its job.
            raise reading.failure

    def summary(self) -> str:
        """One line on what the run did: what was extracted, what the tap sent."""
        from tap_sequin.streams.summary import run_summary

        return run_summary(
            self.sync_reading, self.syncs_stream, self.history_stream, self.credentials_stream
        )

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

    # -- --test and --help -------------------------------------------------------

    TEST_HELP = (
        "Check the connection and stop: one request to the API (GET /v1/syncs, or the "
        "first of sync_ids) with the configured token and base_url, a short timeout and "
        "no retries; prints OK or FAILED with the cause (DNS, refused connection, TLS, "
        "401/403 on api_key, 404 on the path) and exits 0 or 1. Writes no Singer "
        "messages. --test=schema prints the SCHEMA message only."
    )

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with ``--test`` described as it works here."""
        command = super().get_singer_command()
        for param in command.params:
            if param.name == "test" and isinstance(param, click.Option):
                param.help = cls.TEST_HELP
            if param.name == "state" and isinstance(param, click.Option):
                param.help = (
                    "A STATE message's value from an earlier run (JSON file). Accepted "
                    "for Singer compatibility only: every stream is FULL_TABLE, so each "
                    "run reads every configured sync and keeps no bookmarks."
                )
        command.help = (
            "Extract Sequin syncs as Singer messages. Settings come from --config FILE "
            "and, with --config ENV, from TAP_SEQUIN_* variables (see --about)."
        )
        return command

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """``--test``: one real request, and a plain answer on whether it worked."""
        if value in {"disabled", "schema"}:
            super().cb_test(ctx, param, value)
            return
        from tap_sequin.client.connection_test import run_connection_check

        config = ctx.params.get("config")
        tap = cls(
            config=getattr(config, "config", None),
            parse_env_config=getattr(config, "parse_env", False),
            validate_config=True,
        )
        ctx.exit(run_connection_check(tap.settings, tap.logger))
