"""The streams about syncs: ``syncs`` (the latest state) and ``sync_health_history``.

Both come from one reading of the syncs per run (``sync_reading``). ``sync_health_history``
is the SDK's child stream of ``syncs``: the SDK runs ``syncs`` first, and also when only
the history is selected (then it reads without writing RECORDs), and the history is
written once, after the last sync, from what the reading noted on the way.
"""

from __future__ import annotations

import typing as t

from tap_sequin.shaping.schemas import SYNC_HEALTH_HISTORY_SCHEMA, SYNC_SCHEMA
from tap_sequin.streams.base import SequinStream
from tap_sequin.streams.sync_reading import SyncReading

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class SyncsStream(SequinStream):
    """Every configured sync (or every sync in the account), in a stable order.

    In listing mode (no ``sync_ids``) records carry the run's version, activated after the
    last one; syncs gone from Sequin are then soft-deleted by the target.
    """

    name = "syncs"
    schema = SYNC_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["id"]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: SyncReading | None = None

    def read_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """Yield one row per sync: configured ids in their order, else the whole list."""
        history = [child for child in self.child_streams if child.selected]
        reading = SyncReading(self.settings, self.logger, self.run, keep_history=bool(history))
        self.reading = reading
        listing = self.settings.lists_every_sync and self.selected
        if listing:
            self.start_version()
        with self.client() as (client, stop):
            yield from reading.rows(client, stop, self.fetch_one)
        # Reached only after the SDK has written the last RECORD (it resumes this
        # generator to ask for the next one).
        if listing:
            incomplete = None if reading.complete else "the listing had unusable items"
            self.activate_if_delivered(reading.extracted, "syncs", incomplete)
        self.sync_children()


class SyncHealthHistoryStream(SequinStream):
    """One row per sync per run: how each sync's health looked when this run read it.

    Primary key ``[sync_id, observed_at]``, so upserting targets keep every run's rows.
    Never activates a version: older runs' rows are history, not deleted syncs.
    """

    name = "sync_health_history"
    schema = SYNC_HEALTH_HISTORY_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["sync_id", "observed_at"]
    parent_stream_type = SyncsStream

    @property
    def observed(self) -> SyncReading | None:
        """The reading of ``syncs`` this run, once ``syncs`` has read every sync."""
        return self.parent.reading if isinstance(self.parent, SyncsStream) else None

    @property
    def extracted(self) -> int:
        """Syncs observed this run."""
        return self.observed.extracted if self.observed is not None else 0

    def read_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """Yield this run's observation of every sync ``syncs`` read."""
        if self.observed is not None:
            yield from self.observed.history()
