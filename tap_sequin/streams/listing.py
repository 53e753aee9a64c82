"""Streams that list: one ``GET`` of a whole collection, one RECORD per usable item.

``shaped_items`` is the one listing loop (skip unusable items, drop duplicates, count,
yield) every listing goes through. ``ListingStream`` is a stream declared by what it
lists: a subclass names the path, the shaper and the noun, and gets the request, the
loop, and soft deletes after a complete listing.
"""

from __future__ import annotations

import logging
import typing as t

from tap_sequin.shaping.objects import Malformed, ObjectShaper
from tap_sequin.streams.base import SequinStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# A broken listing can hold thousands of unusable items: name a few, count the rest.
SKIPS_SHOWN = 10


class ListingOutcome:
    """What a listing gave: the rows extracted, and whether every item became a row."""

    def __init__(self) -> None:
        self.extracted = 0
        # Only a complete listing may mark rows deleted.
        self.complete = True


def shaped_items(
    listing: t.Iterable[t.Any],
    shape: t.Callable[[t.Any], dict[str, t.Any]],
    *,
    noun: str,
    where: str,
    logger: logging.Logger | logging.LoggerAdapter[t.Any],
    check_interrupted: t.Callable[[], None],
    outcome: ListingOutcome,
) -> t.Iterator[dict[str, t.Any]]:
    """Yield one row per usable item of ``listing``, each ``id`` once.

    An item ``shape`` refuses (``Malformed``) is skipped with a warning (the first
    ``SKIPS_SHOWN`` are named, the rest counted) and makes the listing incomplete.
    ``where`` names the listing in those warnings (``listing``, ``credentials listing``).
    """
    skipped = 0
    seen: set[str] = set()
    for position, raw in enumerate(listing):
        check_interrupted()
        try:
            row = shape(raw)
        except Malformed as exc:
            outcome.complete = False
            skipped += 1
            if skipped <= SKIPS_SHOWN:
                logger.warning(
                    "%s item %d: %s; skipped, and no %s is marked deleted this run",
                    where,
                    position,
                    exc,
                    noun,
                )
            continue
        if row["id"] in seen:
            logger.warning("%s %s: listed twice; extracted once", noun, row["id"])
            continue
        seen.add(row["id"])
        outcome.extracted += 1
        yield row
    if skipped > SKIPS_SHOWN:
        logger.warning(
            "%d %s items in all were skipped (the first %d are named above)",
            skipped,
            where,
            SKIPS_SHOWN,
        )


class ListingStream(SequinStream):
    """A stream of every object one ``GET path`` lists, in the API's order.

    Records carry the run's version, activated after a complete listing, so objects gone
    from Sequin are soft-deleted by the target. With ``optional``, a 404 means this API
    does not serve the collection: a warning and an empty stream, the other streams go on.
    """

    path: t.ClassVar[str]
    noun: t.ClassVar[str]  # "credential": in messages and in the run's summary
    shaper: t.ClassVar[type[ObjectShaper]]
    optional: t.ClassVar[bool] = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome = ListingOutcome()
        self.served = True

    @property
    def where(self) -> str:
        """How warnings name this listing: ``credentials listing``."""
        return f"{self.name} listing"

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield one row per listed object; nothing (with a warning) if it is not served."""
        # Imported here, not at the top: --about and --discover never need HTTP.
        from tap_sequin.client.api import NotFound

        self.outcome = outcome = ListingOutcome()
        with self.client() as (client, stop):
            listing = self.fetch_one(
                lambda: client.list_objects(
                    self.path, what=self.where, stream=self.name, optional=self.optional
                ),
                stop,
            )
        if isinstance(listing, NotFound):
            self.served = False
            self.activation = f"no ACTIVATE_VERSION: GET {self.path} answered 404"
            self.logger.warning(
                "GET %s answered 404: this API does not serve %ss; the %s stream is empty "
                "this run and no row is marked deleted. Check base_url, or deselect the stream",
                self.path,
                self.noun,
                self.name,
            )
            return
        shaper = self.shaper(self.logger)
        shaper.expect_clean_text(getattr(listing, "clean_text_only", False))
        self.start_version()
        listed: list[str] = []
        for row in shaped_items(
            listing,
            shaper.shape,
            noun=self.noun,
            where=self.where,
            logger=self.logger,
            check_interrupted=self.run.check_interrupted,
            outcome=outcome,
        ):
            self.note(row)
            listed.append(row["id"])
            yield row
        shaper.log_summary()
        incomplete = None if outcome.complete else "the listing had unusable items"
        # Reached only after the SDK has written the last RECORD (it resumes this
        # generator to ask for the next one).
        incomplete = self.check_listing(listed, incomplete)
        if self.selected:
            # A deselected stream runs only for its selected children: no RECORD, no version.
            self.activate_if_delivered(outcome.extracted, f"{self.noun}s", incomplete)

    def note(self, row: dict[str, t.Any]) -> None:
        """Called with each row as it is listed (for child streams); nothing by default."""

    def check_listing(self, listed_ids: list[str], incomplete: str | None) -> str | None:
        """After the listing: why it may not be complete (None: it is), given ``incomplete``
        (the listing's own reason, if any). A subclass may look further."""
        return incomplete
