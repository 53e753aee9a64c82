"""The tap: its settings, its streams and its capabilities; a run's start and end."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import typing as t

import click
from singer_sdk import typing as th
from singer_sdk.exceptions import MappingError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from singer_sdk.singerlib import StateMessage
from singer_sdk.tap_base import Tap

from tap_sequin.errors import ConfigError, OutputClosed, TapSequinError
from tap_sequin.runtime.control import RunControl
from tap_sequin.runtime.output import BufferedSingerWriter
from tap_sequin.sdk_internals import name_failures_of_values
from tap_sequin.settings import environment
from tap_sequin.settings.catalog_checks import check_catalog
from tap_sequin.settings.config_checks import checked_config
from tap_sequin.settings.map_checks import (
    check_faker_config,
    check_stream_maps,
    flattening_warning,
)
from tap_sequin.settings.parsing import (
    API_SELF_HOSTED,
    API_V1,
    DEFAULT_BASE_URL,
    DEFAULT_USER_AGENT,
    Settings,
    parse_api,
    parse_settings,
)

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

    from tap_sequin.streams.base import SequinStream


# singer-sdk 0.55 moved ACTIVATE_VERSION from TapCapabilities to PluginCapabilities.
_ACTIVATE_VERSION = (
    getattr(PluginCapabilities, "ACTIVATE_VERSION", None) or TapCapabilities.ACTIVATE_VERSION
)


V1_STREAMS = ("syncs", "sync_health_history", "credentials")
SELF_HOSTED_STREAMS = (
    "sinks",
    "sink_health_history",
    "backfills",
    "postgres_databases",
    "http_endpoints",
)
_V1_ABOUT = (
    "Sequin's v1 API: syncs, sync_health_history (a row per sync per run), credentials. "
    "With api self-hosted: a self-hosted Sequin server's sinks, sink_health_history, "
    "backfills, postgres_databases, http_endpoints."
)
_V1_ONLY_ABOUT = _V1_ABOUT.split(" With api")[0]
_SELF_HOSTED_ABOUT = (
    "A self-hosted Sequin server (api self-hosted): sinks, sink_health_history (a row per "
    "sink per run), backfills, postgres_databases, http_endpoints."
)


class TapSequin(Tap):
    """Sequin's v1 API, or a self-hosted Sequin server's (``--about`` names the streams)."""

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
        _ACTIVATE_VERSION,
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
            "api",
            th.StringType,
            default="v1",
            allowed_values=["v1", "self-hosted"],
            title="API",
            description=(
                "Which Sequin API to extract. v1: Sequin's hosted v1 API (streams syncs, "
                "sync_health_history, credentials). self-hosted: the management API of a "
                "self-hosted Sequin server, under base_url + /api (streams sinks, "
                "sink_health_history, backfills, postgres_databases, http_endpoints); "
                "base_url is then required."
            ),
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
                "Root of the Sequin API. With api self-hosted: the server's address, such as "
                "http://localhost:7376 (the tap adds /api). Plain http:// is refused unless "
                "the host is loopback or allow_plain_http is true (the token would travel "
                "in clear)."
            ),
        ),
        th.Property(
            "allow_plain_http",
            th.BooleanType,
            default=False,
            title="Allow plain HTTP",
            description=(
                "Allow a plain http:// base_url to a host that is not loopback, such as "
                "http://sequin:7376 on a private network. The token then travels in clear "
                "text: set it only where nobody else can read that network."
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
        self.run_control = RunControl(lambda: self.settings)
        self._settings: Settings | None = None
        # --config ENV: read here rather than by the SDK, which int()s integer settings
        # (a traceback for "3.0") and ignores misspelt names without a word.
        self._reads_environment = bool(kwargs.pop("parse_env_config", False))
        config = dict(kwargs.get("config") or {})
        if self._reads_environment:
            from_environment = environment.read_environment(self._full_config_schema())
            config.update(from_environment)
            self.logger.info(
                "--config ENV: read %s from TAP_SEQUIN_* variables",
                ", ".join(sorted(from_environment)) or "no setting",
            )
        # Our checks come before the SDK's: one line per problem, and never the token's
        # value (the SDK's JSON-schema messages quote the offending value).
        kwargs["config"], self._settings = checked_config(
            config,
            self._full_config_schema(),
            strict=kwargs.get("validate_config", True),
            reads_environment=self._reads_environment,
            warn=self.logger.warning,
        )
        super().__init__(*args, **kwargs)
        # After the SDK's own handlers: a signal stops the run between two whole messages
        # and the run exits non-zero (the SDK's handler lets it exit 0).
        self.run_control.install_signal_handlers()

    # -- settings ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The validated settings of this run."""
        if self._settings is None:
            self._settings = parse_settings(self.config)
        return self._settings

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, t.Any]) -> None:
        """The SDK's built-in settings, less one the tap cannot honour.

        ``emit_activate_version_messages`` (singer-sdk 0.55 on) would send ACTIVATE_VERSION
        before the first RECORD; the tap sends it after a complete listing only, so the
        setting is not offered (given anyway, it is refused as unknown).
        """
        super().append_builtin_config(config_jsonschema)
        config_jsonschema.get("properties", {}).pop("emit_activate_version_messages", None)

    @classmethod
    def _full_config_schema(cls) -> dict[str, t.Any]:
        """The config JSON schema with the SDK's built-in settings (stream maps, ...)."""
        schema = copy.deepcopy(cls.config_jsonschema)
        cls.append_builtin_config(schema)
        return schema

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

    @property
    def api(self) -> str:
        """The configured ``api`` (``v1`` without a usable config, as for ``--discover``)."""
        if self._settings is not None:
            return self._settings.api
        try:
            return parse_api(self.config.get("api"))
        except ConfigError:
            return API_V1

    def discover_streams(self) -> list[Stream]:
        """The streams of the configured ``api``. v1: ``syncs`` with its child
        ``sync_health_history``, and ``credentials``. self-hosted: ``sinks`` with its
        children ``sink_health_history`` and ``backfills``, ``postgres_databases``,
        ``http_endpoints``."""
        run = self.run_control
        if self.api == API_SELF_HOSTED:
            from tap_sequin.streams.backfills import BackfillsStream
            from tap_sequin.streams.self_hosted import HttpEndpointsStream, PostgresDatabasesStream
            from tap_sequin.streams.sinks import SinkHealthHistoryStream, SinksStream

            return [
                SinksStream(self, run),
                SinkHealthHistoryStream(self, run),
                BackfillsStream(self, run),
                PostgresDatabasesStream(self, run),
                HttpEndpointsStream(self, run),
            ]
        from tap_sequin.streams.credentials import CredentialsStream
        from tap_sequin.streams.syncs import SyncHealthHistoryStream, SyncsStream

        return [
            SyncsStream(self, run),
            SyncHealthHistoryStream(self, run),
            CredentialsStream(self, run),
        ]

    # -- running ----------------------------------------------------------------

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """The SDK's ``Tap.invoke``, running ``run()`` (the sync and how it ends)."""
        if about:
            values = dict(getattr(config, "config", None) or {})
            if getattr(config, "parse_env", False) and os.environ.get("TAP_SEQUIN_API"):
                values.setdefault("api", os.environ["TAP_SEQUIN_API"])
            cls._about_of(values).print_about(about_format)
            sys.exit(0)
        cls.print_version(print_fn=cls.logger.info)
        tap = cls(
            config=getattr(config, "config", None),
            state=None if state is None else json.load(state),
            catalog=None if catalog is None else json.load(catalog),
            parse_env_config=getattr(config, "parse_env", False),
            validate_config=True,
        )
        tap.run()

    @classmethod
    def _about_of(cls, config: t.Any) -> type[TapSequin]:
        """The tap as ``--about`` describes it (the SDK's description is the class's
        docstring): the streams of the configured ``api``, both APIs' without one."""
        description = _V1_ABOUT
        if isinstance(config, dict) and config.get("api"):
            with contextlib.suppress(ConfigError):
                api = parse_api(config.get("api"))
                description = _SELF_HOSTED_ABOUT if api == API_SELF_HOSTED else _V1_ONLY_ABOUT
        return type(cls.__name__, (cls,), {"__doc__": description})

    def run(self) -> None:
        """Sync every selected stream; on any failure still write a final STATE, then raise.

        Refuses first what would lose data: a replication method other than FULL_TABLE,
        a catalog that changes a property's type. A run that extracted what it could but
        not everything it was asked for raises once every stream is out.
        """
        check_catalog(
            self.input_catalog,
            self.streams,
            self.logger.warning,
            other_api=self._other_api_streams(),
        )
        try:
            self.sync_all()
        except TapSequinError:
            self._write_final_state()
            raise
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's last flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputClosed from None
        except Exception:
            self._write_final_state()
            self.run_control.check_interrupted()
            raise
        self.logger.info(self.summary())
        for stream in self._sequin_streams():
            failure = getattr(getattr(stream, "reading", None), "failure", None)
            if failure is not None:
                # Everything reachable is out; the run still could not do all of its job.
                raise failure

    def _other_api_streams(self) -> dict[str, str]:
        """The streams only the other ``api`` has, each with that api's name."""
        if self.api == API_SELF_HOSTED:
            return {name: API_V1 for name in V1_STREAMS if name not in SELF_HOSTED_STREAMS}
        return {name: API_SELF_HOSTED for name in SELF_HOSTED_STREAMS if name not in V1_STREAMS}

    def _sequin_streams(self) -> list[SequinStream]:
        return list(t.cast("dict[str, SequinStream]", self.streams).values())

    def summary(self) -> str:
        """One line on what the run did: what was extracted, what the tap sent."""
        from tap_sequin.streams.summary import run_summary

        return run_summary(self._sequin_streams())

    def _write_final_state(self) -> None:
        # Written even when equal to the last STATE (the SDK's state writer would skip it):
        # it also pushes out the RECORDs still gathered in the writer's block.
        with contextlib.suppress(BrokenPipeError, ValueError):  # stdout already gone
            self.write_message(StateMessage(value=self.state))

    # -- --test and --help -------------------------------------------------------

    TEST_HELP = (
        "Check the connection and stop: one request to the API (GET /v1/syncs, or the "
        "first of sync_ids; with api self-hosted, GET /health without the token, then "
        "GET /api/sinks) with the configured token and base_url, a short timeout and "
        "no retries; prints OK or FAILED with the cause (DNS, refused connection, TLS, "
        "401/403 on api_key, 404 on the path, an api that does not match the server) and "
        "exits 0 or 1. Writes no Singer messages. --test=schema prints the SCHEMA message "
        "only."
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
                    "A STATE message's value from an earlier run (JSON file): every stream "
                    "is FULL_TABLE and keeps no bookmark; with api self-hosted, the sinks "
                    "stream keeps the ids it listed, so that a sink missing from a later "
                    "listing is asked for by id before it counts as deleted."
                )
        command.help = (
            "Extract Sequin syncs (api v1) or a self-hosted Sequin server's sinks (api "
            "self-hosted) as Singer messages. Settings come from --config FILE "
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
