"""One run's reading of the syncs, shared by the ``syncs`` and ``sync_health_history`` streams.

The syncs are read once per run (``GET /v1/syncs/{id}`` per configured id, in order and
concurrently, or ``GET /v1/syncs`` once) and shaped once; a sync is emitted once per run,
even when two configured ids (or two listing items) answer with it. Each shaped row goes to the
``syncs`` stream, and its health is noted for ``sync_health_history`` (when that stream is
selected): so the history costs no request, and deselecting either stream, or mapping its
records, never changes the other.

What is noted per sync is small (id, status, the health values), so the history of 10,000
syncs holds a few MB until the history stream writes it.
"""

from __future__ import annotations

import datetime
import logging
import operator
import threading
import typing as t
from urllib.parse import quote, urlsplit

from tap_sequin.client.fetch import OrderedFetcher
from tap_sequin.errors import ConfigError, SequinAPIError
from tap_sequin.shaping.health import SYNC_HISTORY_HEALTH_COLUMNS
from tap_sequin.shaping.syncs import MalformedSync, SyncShaper
from tap_sequin.streams.listing import ListingOutcome, shaped_items

if t.TYPE_CHECKING:
    from tap_sequin.client.api import Listing, SequinClient
    from tap_sequin.runtime.control import RunControl
    from tap_sequin.settings.parsing import Settings

# The columns of sync_health_history that come from a syncs row, in schema order.
_HISTORY_COLUMNS = ("status", *SYNC_HISTORY_HEALTH_COLUMNS)
_NOTED = operator.itemgetter("id", *_HISTORY_COLUMNS)

FetchOne = t.Callable[[t.Callable[[], t.Any], threading.Event], t.Any]


class SyncReading:
    """Reads the run's syncs once; yields ``syncs`` rows and keeps the health history rows."""

    def __init__(
        self,
        settings: Settings,
        logger: logging.Logger | logging.LoggerAdapter[t.Any],
        run: RunControl,
        *,
        keep_history: bool,
    ) -> None:
        self._settings = settings
        self._logger = logger
        self._run = run
        self._keep_history = keep_history
        self._history: list[tuple[t.Any, ...]] = []
        self.observed_at = ""
        self.not_found: list[str] = []
        # Ids whose 404 did not say the sync is gone; the run fails once every stream is out.
        self.unexplained_404: list[str] = []
        self.failure: SequinAPIError | None = None
        self.outcome = ListingOutcome()

    @property
    def extracted(self) -> int:
        """Syncs read this run (each one ``syncs`` row)."""
        return self.outcome.extracted

    @property
    def complete(self) -> bool:
        """Whether every listed item became a row: only then may deletions apply."""
        return self.outcome.complete

    def rows(
        self, client: SequinClient, stop: threading.Event, fetch_one: FetchOne
    ) -> t.Iterator[dict[str, t.Any]]:
        """Yield one ``syncs`` row per sync: configured ids in their order, else the list.

        ``fetch_one(call, stop)`` runs one call on a worker, so a signal is noticed meanwhile.
        """
        self.observed_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
        shaper = SyncShaper(t.cast(logging.Logger, self._logger))
        if self._settings.lists_every_sync:
            rows = self._every_sync(fetch_one(client.list_syncs, stop), shaper)
        else:
            rows = self._configured_syncs(client, shaper, stop)
        for row in rows:
            if self._keep_history:
                self._history.append(_NOTED(row))
            yield row
        # Each problem was warned about once; say how many syncs it touched.
        shaper.log_summary()

    def history(self) -> t.Iterator[dict[str, t.Any]]:
        """The ``sync_health_history`` rows of the syncs read so far."""
        observed_at = self.observed_at
        noted, self._history = self._history, []  # held no longer than needed
        for sync_id, *values in noted:
            row = {"sync_id": sync_id, "observed_at": observed_at}
            row.update(zip(_HISTORY_COLUMNS, values, strict=True))
            yield row

    def _fetcher(
        self, fetch: t.Callable[[t.Any], t.Any], workers: int, stop: threading.Event
    ) -> OrderedFetcher[t.Any, t.Any]:
        return OrderedFetcher(fetch, workers, stop, self._run.interruption)

    def _configured_syncs(
        self, client: SequinClient, shaper: SyncShaper, stop: threading.Event
    ) -> t.Iterator[dict[str, t.Any]]:
        from tap_sequin.client.api import NotFound

        settings = self._settings
        # No more workers than ids: each is a thread with its own connection.
        workers = min(settings.max_concurrent_requests, len(settings.sync_ids))
        fetcher = self._fetcher(client.get_sync, workers, stop)
        path = last_path = "/v1/syncs/{id}"
        # Sequin's id of each sync emitted -> the configured id it was read as: two ids
        # answering with one sync must not give two rows with one primary key.
        emitted: dict[str, str] = {}
        for sync_id, raw in fetcher.run(settings.sync_ids):
            if isinstance(raw, NotFound):
                self.not_found.append(sync_id)
                path = raw.path.rsplit("/", 1)[0] + "/{id}" if raw.path else path
                last_path = raw.path or path
                said = f' "{raw.summary}"' if raw.summary else ""
                if raw.route_level:
                    # A bare "Not found" (or no summary: a proxy's, a web server's) does not
                    # say the sync is gone; the run extracts the rest, then fails (see below).
                    self.unexplained_404.append(sync_id)
                self._logger.warning(
                    "sync %s: HTTP 404%s (GET %s); skipped%s. Check sync_ids",
                    sync_id,
                    said,
                    raw.path or path,
                    ", the other syncs are extracted" if len(settings.sync_ids) > 1 else "",
                )
                continue
            shaper.expect_clean_text(getattr(raw, "clean_text_only", False))
            try:
                row = shaper.shape(raw)
            except MalformedSync as exc:
                raise SequinAPIError(
                    f"sync {sync_id}", f"HTTP 200 but {exc}; check base_url", status=200
                ) from None
            first = emitted.setdefault(row["id"], sync_id)
            if first != sync_id:
                self._logger.warning(
                    "sync %s: Sequin answered with sync %s, already extracted as configured "
                    "id %s; extracted once. Check sync_ids",
                    sync_id,
                    row["id"],
                    first,
                )
                continue
            if row["id"] != sync_id:
                self._logger.warning(
                    "sync %s: Sequin answered with sync %s; loaded under the id it gave",
                    sync_id,
                    row["id"],
                )
            self.outcome.extracted += 1
            yield row
        if self.extracted == 0 and self.not_found:
            # Every configured id answered 404: far more likely a wrong base_url or
            # sync_ids than syncs that all vanished; a green run here would hide it.
            count = len(self.not_found)
            which = "the configured sync" if count == 1 else f"none of the {count} configured syncs"
            every = "GET" if count == 1 else "every GET"
            # One id: its own path; several: the template they share.
            one = quote(self.not_found[0], safe="") if count == 1 else "{id}"
            path = f"{urlsplit(settings.base_url).path}/v1/syncs/{one}"
            raise ConfigError(
                "sync_ids",
                f"{which} could {'not ' if count == 1 else ''}be read from base_url "
                f"{settings.base_url} ({every} {path} answered 404); check base_url and sync_ids",
            )
        if self.unexplained_404:
            count = len(self.unexplained_404)
            shown = ", ".join(self.unexplained_404[:10])
            self.failure = SequinAPIError(
                f"sync{'' if count == 1 else 's'} {shown}",
                f"HTTP 404 that does not say the sync is gone "
                f"(GET {last_path if count == 1 else path}, no sync named in "
                f"the answer); the other {self.extracted} were extracted. Check sync_ids and "
                "base_url",
                status=404,
            )

    def _every_sync(self, listing: Listing, shaper: SyncShaper) -> t.Iterator[dict[str, t.Any]]:
        shaper.expect_clean_text(listing.clean_text_only)
        yield from shaped_items(
            listing,
            shaper.shape,
            noun="sync",
            where="listing",
            logger=self._logger,
            check_interrupted=self._run.check_interrupted,
            outcome=self.outcome,
        )
