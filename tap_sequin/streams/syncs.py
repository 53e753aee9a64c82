"""The streams about syncs: ``syncs`` (the latest state) and ``sync_health_history``.

The streams only say *what*. Both are built from one reading of the syncs per run
(``sync_reading``): HTTP lives in ``client`` and ``fetch``, turning a raw sync into a row
in ``shaping``, soft deletes in ``sequin_stream``.
"""

from __future__ import annotations

import time
import typing as t

from tap_sequin.shaping.schemas import SYNC_HEALTH_HISTORY_SCHEMA, SYNC_SCHEMA
from tap_sequin.streams.base import SequinStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_sequin.streams.sync_reading import SyncReading
    from tap_sequin.tap import TapSequin


class SyncsStream(SequinStream):
    """Every configured sync (or every sync in the account), in a stable order.

    In listing mode (no ``sync_ids``) records carry the run's version, activated after the
    last one; syncs gone from Sequin are then soft-deleted by the target.
    """

    name = "syncs"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = None

    def __init__(self, tap: TapSequin) -> None:
        super().__init__(tap, SYNC_SCHEMA, "syncs")
        self._sequin_tap = tap

    @property
    def extracted(self) -> int:
        """Syncs read this run (each one RECORD)."""
        return self._sequin_tap.sync_reading.extracted

    @property
    def not_found(self) -> list[str]:
        """Configured sync ids Sequin answered 404 for, this run."""
        return self._sequin_tap.sync_reading.not_found

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield one row per sync: configured ids in their order, else the whole list."""
        tap = self._sequin_tap
        reading = tap.sync_reading
        listing = tap.settings.lists_every_sync
        if listing:
            # Records carry the version; it is activated only once all of them are out.
            self._stream_version = int(time.time() * 1000)
        yield from reading.rows()
        # Reached only after the SDK has written the last RECORD (it resumes this
        # generator to ask for the next one).
        if listing:
            incomplete = None if reading.complete else "the listing had unusable items"
            self.activate_if_delivered(reading.extracted, "syncs", incomplete)


class SyncHealthHistoryStream(SequinStream):
    """One row per sync per run: how each sync's health looked when this run read it.

    Primary key ``[sync_id, observed_at]``, so upserting targets keep every run's rows.
    Never activates a version: older runs' rows are history, not deleted syncs.
    """

    name = "sync_health_history"
    primary_keys: t.ClassVar[list[str]] = ["sync_id", "observed_at"]
    replication_key = None

    def __init__(self, tap: TapSequin) -> None:
        super().__init__(tap, SYNC_HEALTH_HISTORY_SCHEMA, "sync_health_history")
        self._sequin_tap = tap

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield this run's observation of every sync ``syncs`` read (or would have)."""
        reading: SyncReading = self._sequin_tap.sync_reading
        yield from reading.history()
