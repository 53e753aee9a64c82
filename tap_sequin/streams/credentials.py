"""The ``credentials`` stream: one RECORD per credential from ``GET /v1/credentials``.

One request per run (the API does not paginate). Secrets are redacted exactly as in
``syncs``; records carry the run's version, activated after a complete listing, so
credentials gone from Sequin are soft-deleted by the target. An API that answers 404 (it
does not serve credentials) gives a warning and an empty stream; the other streams go on.
"""

from __future__ import annotations

import time
import typing as t

from tap_sequin.shaping.schemas import CREDENTIAL_SCHEMA
from tap_sequin.streams.base import SequinStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_sequin.tap import TapSequin


class CredentialsStream(SequinStream):
    """Every credential of the account, in the API's order."""

    name = "credentials"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = None

    def __init__(self, tap: TapSequin) -> None:
        super().__init__(tap, CREDENTIAL_SCHEMA, "credentials")
        self._sequin_tap = tap
        self.extracted = 0
        self.served = True

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield one row per credential; nothing (with a warning) if the API has none."""
        # Imported here, not at the top: --about and --discover never need HTTP or shaping.
        from tap_sequin.client.api import NotFound, SequinClient
        from tap_sequin.client.fetch import OrderedFetcher
        from tap_sequin.shaping.credentials import CredentialShaper, MalformedCredential

        tap = self._sequin_tap
        shaper = CredentialShaper(self.logger)
        with tap.stop_event() as stop:
            client = SequinClient(tap.settings, self.logger, stop)
            try:
                # On a worker, like the syncs listing, so a signal is noticed meanwhile.
                fetcher: OrderedFetcher[int, list[t.Any] | NotFound] = OrderedFetcher(
                    lambda _: client.list_credentials(), 1, stop, tap.interruption
                )
                listing = next(iter(fetcher.run([0])))[1]
            finally:
                stop.set()
                client.close()
        if isinstance(listing, NotFound):
            self.served = False
            self.activation = "no ACTIVATE_VERSION: GET /v1/credentials answered 404"
            self.logger.warning(
                "GET /v1/credentials answered 404: this API does not serve credentials; "
                "the credentials stream is empty this run and no row is marked deleted. "
                "Check base_url, or deselect the stream"
            )
            return
        shaper.expect_clean_text(getattr(listing, "clean_text_only", False))
        self._stream_version = int(time.time() * 1000)
        incomplete = None
        seen: set[str] = set()
        for position, raw in enumerate(listing):
            tap.check_interrupted()
            try:
                row = shaper.shape(raw)
            except MalformedCredential as exc:
                incomplete = "the listing had unusable items"
                self.logger.warning(
                    "credentials listing item %d: %s; skipped, and no credential is marked "
                    "deleted this run",
                    position,
                    exc,
                )
                continue
            if row["id"] in seen:
                self.logger.warning("credential %s: listed twice; extracted once", row["id"])
                continue
            seen.add(row["id"])
            self.extracted += 1
            yield row
        shaper.log_summary()
        self.activate_if_delivered(self.extracted, "credentials", incomplete)
