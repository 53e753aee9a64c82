"""The ``syncs`` stream: one RECORD per Sequin sync.

The stream only says *what*: which syncs to read and in which order. HTTP lives
in ``client`` (one request) and ``fetch`` (many, concurrently, in order);
turning a raw sync into a row lives in ``shaping``.
"""

from __future__ import annotations

import threading
import time
import typing as t

from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import Stream

from tap_sequin.errors import SequinAPIError
from tap_sequin.schema import SYNC_SCHEMA

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_sequin.client import NotFound, SequinClient
    from tap_sequin.shaping import SyncShaper
    from tap_sequin.tap import TapSequin


class SyncsStream(Stream):
    """Every configured sync (or every sync in the account), in a stable order."""

    name = "syncs"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = None
    # Shaping already emits exactly the schema's JSON types; re-conforming every
    # record would only spend CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapSequin) -> None:
        super().__init__(tap, schema=SYNC_SCHEMA, name="syncs")
        self._sequin_tap = tap
        self.extracted = 0
        self.not_found: list[str] = []
        self.deletions_applied = False
        self._everything_selected: bool | None = None

    @property
    def emit_activate_version_messages(self) -> bool:
        # The SDK would announce the new version *before* the first record, and
        # target-postgres would soft-delete every existing row at once: a run that
        # then fails leaves nothing live. We activate after the last record instead.
        return False

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> t.Generator[RecordMessage, None, None]:
        # The SDK walks every record against the selection mask, nested objects
        # included; when nothing is deselected (the usual case) that walk removes
        # nothing and costs more CPU than shaping the record.
        if self._everything_selected is None:
            self._everything_selected = all(self.mask.values())
        if not self._everything_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield one row per sync: configured ids in their order, else the whole list."""
        # Imported here, not at the top: --about and --discover never need HTTP or shaping.
        from tap_sequin.client import SequinClient
        from tap_sequin.shaping import SyncShaper

        tap = self._sequin_tap
        settings = tap.settings
        shaper = SyncShaper(self.logger)
        with tap.stop_event() as stop:
            client = SequinClient(settings, self.logger, stop)
            try:
                if settings.lists_every_sync:
                    yield from self._every_sync(client, shaper, stop)
                else:
                    yield from self._configured_syncs(client, shaper, stop)
                # Each problem was warned about once; say how many syncs it touched.
                shaper.log_summary()
            finally:
                # Also reached when the SDK closes this generator early (dry runs):
                # stop the workers, then close their connections.
                stop.set()
                client.close()

    def _configured_syncs(
        self, client: SequinClient, shaper: SyncShaper, stop: threading.Event
    ) -> t.Iterator[dict[str, t.Any]]:
        from tap_sequin.client import NotFound
        from tap_sequin.fetch import OrderedFetcher
        from tap_sequin.shaping import MalformedSync

        tap = self._sequin_tap
        fetcher: OrderedFetcher[str, dict[str, t.Any] | NotFound] = OrderedFetcher(
            client.get_sync,
            tap.settings.max_concurrent_requests,
            stop,
            tap.interruption,
        )
        for sync_id, raw in fetcher.run(tap.settings.sync_ids):
            if isinstance(raw, NotFound):
                self.not_found.append(sync_id)
                self.logger.warning(
                    "sync %s: not found (HTTP 404); skipped, the other syncs are extracted. "
                    "Check sync_ids",
                    sync_id,
                )
                continue
            try:
                row = shaper.shape(raw)
            except MalformedSync as exc:
                raise SequinAPIError(
                    f"sync {sync_id}", f"HTTP 200 but {exc}; check base_url", status=200
                ) from None
            if row["id"] != sync_id:
                self.logger.warning(
                    "sync %s: Sequin answered with sync %s; loaded under the id it gave",
                    sync_id,
                    row["id"],
                )
            self.extracted += 1
            yield row

    def _every_sync(
        self, client: SequinClient, shaper: SyncShaper, stop: threading.Event
    ) -> t.Iterator[dict[str, t.Any]]:
        from tap_sequin.fetch import OrderedFetcher
        from tap_sequin.shaping import MalformedSync

        tap = self._sequin_tap
        # The listing runs on a worker too, so a signal is noticed while it downloads.
        fetcher: OrderedFetcher[int, list[t.Any]] = OrderedFetcher(
            lambda _: client.list_syncs(), 1, stop, tap.interruption
        )
        listing = next(iter(fetcher.run([0])))[1]
        # Records carry the version; it is activated only once all of them are out.
        version = int(time.time() * 1000)
        self._stream_version = version
        complete = True
        seen: set[str] = set()
        for position, raw in enumerate(listing):
            tap.check_interrupted()
            try:
                row = shaper.shape(raw)
            except MalformedSync as exc:
                complete = False
                self.logger.warning(
                    "listing item %d: %s; skipped, and no sync is marked deleted this run",
                    position,
                    exc,
                )
                continue
            if row["id"] in seen:
                self.logger.warning("sync %s: listed twice; extracted once", row["id"])
                continue
            seen.add(row["id"])
            self.extracted += 1
            yield row
        # Reached only after the SDK has written the last RECORD (it resumes this
        # generator to ask for the next one). BATCH files carry no version, so a
        # batched run never deletes.
        if complete and not self.get_batch_config(self.config):
            self.activate_version()

    def activate_version(self) -> None:
        """Tell the target that rows of older versions are gone (soft delete)."""
        self._write_activate_version_message(t.cast(int, self._stream_version))
        self.deletions_applied = True
