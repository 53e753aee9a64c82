"""The streams about a self-hosted server's sinks: ``sinks`` and ``sink_health_history``.

``sinks`` lists ``GET /api/sinks`` once per run; its children (``sink_health_history`` and
``backfills``, which the SDK runs after it, and which make the SDK run it even when only
they are selected) are built from that one listing.

Soft deletes: the server leaves a sink it fails to serialise out of its list without a word,
so a sink missing from one listing is no proof that it was deleted. ``sinks`` keeps the ids
it listed in its STATE; a sink listed before and missing now is asked for by id, and counts
as deleted only when the server answers 404 naming no such sink. Any other answer (the sink
is there, an error, a 404 from no route) means no ACTIVATE_VERSION this run, with the reason
in the log, and the id is kept to be asked for again next run.
"""

from __future__ import annotations

import datetime
import typing as t

from tap_sequin.client.fetch import OrderedFetcher
from tap_sequin.errors import AuthError, SequinAPIError
from tap_sequin.sdk_internals import mark_state_changed
from tap_sequin.shaping.self_hosted_schemas import SINK_HEALTH_HISTORY_SCHEMA, SINK_SCHEMA
from tap_sequin.shaping.sink_health import SINK_HEALTH_COLUMNS
from tap_sequin.shaping.sinks import SinkShaper
from tap_sequin.streams.base import SequinStream
from tap_sequin.streams.listing import ListingStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

    from tap_sequin.client.api import SequinClient

# The sinks stream's STATE key holding the ids of the sinks it listed.
LISTED_IDS = "listed_ids"
SINK_PATH = "/api/sinks/{id}"
# Names of the missing sinks shown in one log line at most.
SHOWN = 10

_HISTORY_COLUMNS = tuple(c for c in SINK_HEALTH_COLUMNS if c != "health")


class SinksStream(ListingStream):
    """Every sink of the server, in the server's order."""

    name = "sinks"
    schema = SINK_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["id"]
    path = "/api/sinks"
    noun = "sink"
    shaper = SinkShaper

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.observed_at = ""
        self.history: list[dict[str, t.Any]] = []
        # (id, name) of every listed sink, for backfills.
        self.listed: list[tuple[str, str | None]] = []
        # Why the listing may not be complete (None: it is), for the children's soft deletes.
        self.incomplete: str | None = None
        self._keep_history = False
        self._keep_sinks = False

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield one row per listed sink; then sync the selected children from the listing."""
        children = [child for child in self.child_streams if child.selected]
        self._keep_history = any(isinstance(c, SinkHealthHistoryStream) for c in children)
        self._keep_sinks = any(not isinstance(c, SinkHealthHistoryStream) for c in children)
        self.history, self.listed, self.incomplete = [], [], None
        self.observed_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
        yield from super().get_records(context)
        if not self.served:
            self.incomplete = f"GET {self.path} answered 404"
        for child in children:
            if isinstance(child, SinkChild):
                child.parent = self
            child.sync()

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        """None per record: the children are synced once, after the last sink (above)."""
        return ()

    def note(self, row: dict[str, t.Any]) -> None:
        """Keep what the children need of each listed sink (only what they need)."""
        if self._keep_history:
            entry = {"sink_id": row["id"], "observed_at": self.observed_at}
            entry["sink_name"] = row["name"]
            entry["status"] = row["status"]
            entry.update((column, row[column]) for column in _HISTORY_COLUMNS)
            self.history.append(entry)
        if self._keep_sinks:
            self.listed.append((row["id"], row["name"]))

    def check_listing(self, listed_ids: list[str], incomplete: str | None) -> str | None:
        """Ask for each sink listed last run and missing now; keep the listed ids in STATE.

        Also when only the children are selected: a hidden sink's backfills are not gone.
        """
        state = self.stream_state
        previous = state.get(LISTED_IDS)
        listed = set(listed_ids)
        missing = (
            [i for i in previous if isinstance(i, str) and i not in listed]
            if isinstance(previous, list)
            else []
        )
        unexplained = self._unexplained(missing) if missing else []
        state[LISTED_IDS] = [*listed_ids, *(sink_id for sink_id, _ in unexplained)]
        mark_state_changed(self)
        if unexplained and incomplete is None:
            count = len(unexplained)
            shown = "; ".join(f"{sink_id}: {why}" for sink_id, why in unexplained[:SHOWN])
            incomplete = (
                f"{count} sink{'' if count == 1 else 's'} listed before "
                f"{'is' if count == 1 else 'are'} missing from the listing without being "
                f"gone ({shown}); the server leaves out a sink it fails to serialise"
            )
        self.incomplete = incomplete
        return incomplete

    def _unexplained(self, missing: list[str]) -> list[tuple[str, str]]:
        """The missing ids not proven deleted, each with why; the others are logged."""
        from tap_sequin.client.api import NotFound

        unexplained: list[tuple[str, str]] = []
        deleted: list[str] = []
        with self.client() as (client, stop):
            workers = min(self.settings.max_concurrent_requests, len(missing))
            fetcher: OrderedFetcher[str, t.Any] = OrderedFetcher(
                lambda sink_id: _ask(client, sink_id), workers, stop, self.run.interruption
            )
            for sink_id, answer in fetcher.run(missing):
                if isinstance(answer, NotFound) and not answer.route_level:
                    deleted.append(sink_id)
                elif isinstance(answer, NotFound):
                    unexplained.append(
                        (sink_id, f"GET {answer.path} answered a 404 that names no sink")
                    )
                elif isinstance(answer, str):
                    unexplained.append((sink_id, answer))
                else:
                    unexplained.append(
                        (sink_id, f"GET {SINK_PATH} answers HTTP 200: the sink exists")
                    )
        if deleted:
            self.logger.info(
                "%d sink%s listed last run answered 404 by id (deleted): %s",
                len(deleted),
                "" if len(deleted) == 1 else "s",
                ", ".join(deleted[:SHOWN]),
            )
        return unexplained


def _ask(client: SequinClient, sink_id: str) -> t.Any:
    """The sink by id, a ``NotFound``, or (on any other failure) why it could not be read."""
    try:
        return client.get_object(SINK_PATH, sink_id, noun="sink", stream="sinks")
    except AuthError:
        raise
    except SequinAPIError as exc:
        return str(exc)


class SinkChild(SequinStream):
    """A stream built from the ``sinks`` listing, after it (the SDK's child stream)."""

    parent_stream_type = SinksStream

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.parent: SinksStream | None = None
        self.extracted = 0


class SinkHealthHistoryStream(SinkChild):
    """One row per sink per run: how each sink's health looked when this run listed it.

    Primary key ``[sink_id, observed_at]``, so upserting targets keep every run's rows.
    Never activates a version: older runs' rows are history, not deleted sinks.
    """

    name = "sink_health_history"
    schema = SINK_HEALTH_HISTORY_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["sink_id", "observed_at"]

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield this run's observation of every sink ``sinks`` listed."""
        if self.parent is None:
            return
        rows, self.parent.history = self.parent.history, []  # held no longer than needed
        self.extracted = len(rows)
        yield from rows
