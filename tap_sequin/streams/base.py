"""What the tap's streams share: settings, the client, and soft deletes only when safe.

ACTIVATE_VERSION tells the target that rows of older versions are gone (target-postgres sets
``_sdc_deleted_at`` on them). It is sent after the last RECORD of a complete listing, and
only when every listed object reached the output as a RECORD of the stream under every name
the stream is written as. A stream map that filters, removes or re-routes records, a
``batch_config`` (BATCH files carry no version), an incomplete listing: each means no
activation, and one log line that says why. The SDK's own ``emit_activate_version_messages``
would announce the version *before* the first record, so a run that then failed left
nothing live; it stays off.
"""

from __future__ import annotations

import contextlib
import threading
import time
import typing as t
from collections import Counter

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import RemoveRecordTransform

from tap_sequin.client.fetch import OrderedFetcher
from tap_sequin.errors import AuthError, SequinAPIError, Unreachable
from tap_sequin.sdk_internals import (
    RecordCounting,
    quiet_handled_failures,
    set_record_version,
    write_activate_version,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.tap_base import Tap

    from tap_sequin.client.api import SequinClient
    from tap_sequin.runtime.control import RunControl
    from tap_sequin.settings.parsing import Settings

ACTIVATED = "ACTIVATE_VERSION sent"
_V = t.TypeVar("_V")


class SequinStream(RecordCounting):
    """Base of the tap's streams. A subclass declares ``name``, ``schema`` and
    ``primary_keys``; it receives the run's ``RunControl`` from the tap."""

    # Shaping already emits exactly the schema's JSON types; re-conforming every
    # record would only spend CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    replication_key = None
    schema: t.ClassVar[dict[str, t.Any]]

    def __init__(self, tap: Tap, run: RunControl) -> None:
        super().__init__(tap, schema=type(self).schema, name=self.name)
        quiet_handled_failures(self.logger)
        self.run = run
        # RECORD messages written, by the stream name they were written as.
        self.delivered: Counter[str] = Counter()
        # For the run's summary: what this stream did about soft deletes (None: not its job).
        self.activation: str | None = None
        self.version = 0
        # The stream whose rows this one derives from, set before this one is synced.
        self.parent: SequinStream | None = None
        # Why this stream could not read everything this run (the run fails at its end).
        self.failure: SequinAPIError | None = None

    @property
    def settings(self) -> Settings:
        """The run's settings (checked by the tap before any stream runs)."""
        return self.run.settings

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """``read_records``, with a failure of the API ending this stream only.

        The records read before it are out, nothing is marked deleted, the other streams
        still run, and the run fails at its end naming it (``failure``). A refused token
        or an unreachable ``base_url`` (the same for every stream), a setting, a signal end
        the run at once.
        """
        self.failure = None
        try:
            yield from self.read_records(context)
        except SequinAPIError as exc:
            if isinstance(exc, (AuthError, Unreachable)):  # the same for every stream
                raise
            self.failure = exc
            self.activation = None
            self.logger.warning(
                "Stream '%s' stopped: %s. Its records so far are out and none is marked "
                "deleted; the other streams go on, and the run fails at its end.",
                self.name,
                exc,
            )

    def read_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """This stream's rows (a subclass says how)."""
        raise NotImplementedError

    @property
    def emit_activate_version_messages(self) -> bool:
        # Never the SDK's way (before the first record); see activate_if_delivered().
        return False

    @contextlib.contextmanager
    def client(self) -> t.Iterator[tuple[SequinClient, threading.Event]]:
        """A client for this stream's requests, and the stop event that ends them.

        On the way out (also when the SDK closes a generator early, as in dry runs) the
        workers are stopped, then their connections closed.
        """
        # Imported here, not at the top: --about and --discover never need HTTP.
        from tap_sequin.client.api import SequinClient

        with self.run.stop_event() as stop:
            client = SequinClient(self.settings, self.logger, stop)
            try:
                yield client, stop
            finally:
                stop.set()
                client.close()

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        """None per record: a parent here syncs its children once, after its last record
        (``sync_children``), from what it noted on the way."""
        return ()

    def sync_children(self) -> None:
        """Sync each selected child stream once, now; a child reads its ``parent``."""
        for child in self.child_streams:
            if child.selected:
                if isinstance(child, SequinStream):
                    child.parent = self
                child.sync()

    def fetch_one(self, call: t.Callable[[], _V], stop: threading.Event) -> _V:
        """``call()`` on a worker thread, so a signal is noticed while it downloads."""
        fetcher: OrderedFetcher[int, _V] = OrderedFetcher(
            lambda _: call(), 1, stop, self.run.interruption
        )
        return next(iter(fetcher.run([0])))[1]

    def start_version(self) -> None:
        """From now on RECORDs carry this run's version (activated only once all are out)."""
        self.version = int(time.time() * 1000)
        set_record_version(self, self.version)

    def activate_if_delivered(self, listed: int, noun: str, incomplete: str | None) -> None:
        """After the last RECORD of a listing of ``listed`` objects: activate, or say why not.

        ``incomplete`` is why the listing itself was not complete (None: it was).
        """
        reason = incomplete or self._why_not_delivered(listed, noun)
        if reason is None:
            write_activate_version(self, self.version)
            self.activation = ACTIVATED
            return
        self.activation = f"no ACTIVATE_VERSION: {reason}"
        self.logger.warning(
            "Stream '%s': no ACTIVATE_VERSION this run, so no row is marked deleted: %s.",
            self.name,
            reason,
        )

    def _why_not_delivered(self, listed: int, noun: str) -> str | None:
        if self.get_batch_config(self.config):
            return "batch_config is set and BATCH files carry no version"
        primary = self.stream_maps[0]
        if isinstance(primary, RemoveRecordTransform):
            return f"a stream map removes stream '{self.name}'"
        if primary.stream_alias != self.name:
            return f"a stream map re-routes '{self.name}' to '{primary.stream_alias}'"
        for stream_map in self.stream_maps:
            if isinstance(stream_map, RemoveRecordTransform):
                continue
            got = self.delivered[stream_map.stream_alias]
            if got != listed:
                return (
                    f"only {got} of {listed} {noun} reached the output as records of "
                    f"'{stream_map.stream_alias}' (a stream map filters them)"
                )
        return None
