"""The ``backfills`` stream: every backfill of every sink the ``sinks`` listing gave.

One ``GET /api/sinks/{id}/backfills`` per sink (the server has no listing of all
backfills), ``max_concurrent_requests`` at a time through ``client/fetch.OrderedFetcher``,
handed back in the listing's order. A child of ``sinks``: the SDK syncs it after the
listing, which it does not repeat.

Soft deletes only when every backfill of every sink was read: the sinks listing complete
(including the check of sinks missing from it) and every sink's backfills answered. A sink
deleted between the listing and its backfills' request (404 naming it) has none left.
"""

from __future__ import annotations

import functools
import typing as t
from urllib.parse import quote

from tap_sequin.client.fetch import OrderedFetcher
from tap_sequin.shaping.backfills import BackfillShaper
from tap_sequin.shaping.self_hosted_schemas import BACKFILL_SCHEMA
from tap_sequin.streams.listing import ListingOutcome, shaped_items
from tap_sequin.streams.sinks import SinkChild

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

TEMPLATE = "/api/sinks/{id}/backfills"


class BackfillsStream(SinkChild):
    """Every backfill of every listed sink, sink by sink in the listing's order."""

    name = "backfills"
    schema = BACKFILL_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["id"]

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield one row per backfill; activate the version if every sink's were read."""
        from tap_sequin.client.api import NotFound

        parent = self.parent
        if parent is None:
            return
        sinks, parent.listed = parent.listed, []
        outcome = ListingOutcome()
        incomplete = (
            None
            if parent.incomplete is None
            else f"the sinks listing is not complete ({parent.incomplete})"
        )
        shaper = BackfillShaper(self.logger)
        self.start_version()
        if sinks:
            with self.client() as (client, stop):
                workers = min(self.settings.max_concurrent_requests, len(sinks))

                def fetch(sink: tuple[str, str | None]) -> t.Any:
                    return client.list_objects(
                        TEMPLATE.replace("{id}", quote(sink[0], safe="")),
                        what=f"backfills of sink {sink[0]}",
                        stream=self.name,
                        optional=True,
                        template=TEMPLATE,
                    )

                fetcher: OrderedFetcher[tuple[str, str | None], t.Any] = OrderedFetcher(
                    fetch, workers, stop, self.run.interruption
                )
                for (sink_id, sink_name), listing in fetcher.run(sinks):
                    if isinstance(listing, NotFound):
                        said = f' "{listing.summary}"' if listing.summary else ""
                        if listing.route_level:
                            incomplete = incomplete or (
                                f"GET {listing.path} answered HTTP 404{said}, naming no sink"
                            )
                        self.logger.warning(
                            "backfills of sink %s: HTTP 404%s (GET %s); skipped%s",
                            sink_id,
                            said,
                            listing.path,
                            "" if listing.route_level else " (the sink was deleted meanwhile)",
                        )
                        continue
                    shaper.expect_clean_text(listing.clean_text_only)
                    yield from shaped_items(
                        listing,
                        functools.partial(_shape, shaper, sink_id, sink_name),
                        noun="backfill",
                        where=f"backfills listing of sink {sink_id}",
                        logger=self.logger,
                        check_interrupted=self.run.check_interrupted,
                        outcome=outcome,
                    )
        shaper.log_summary()
        self.extracted = outcome.extracted
        if not outcome.complete:
            incomplete = incomplete or "a backfills listing had unusable items"
        self.activate_if_delivered(outcome.extracted, "backfills", incomplete)


def _shape(shaper: BackfillShaper, sink_id: str, sink_name: str | None, raw: t.Any) -> t.Any:
    return shaper.shape_of(raw, sink_id, sink_name)
