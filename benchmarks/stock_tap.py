"""The baseline: the stock Singer SDK pattern for "GET /v1/syncs/{id} for each id".

A minimal tap written the way the SDK's cookiecutter and docs suggest, with no tuning
either way: one ``RESTStream``, one partition per configured sync id (so the SDK keeps a
per-id entry in STATE and looks each one up by scanning that list: quadratic in the
number of ids), requests strictly one after another, the SDK's default record
conformance and per-message flush.

    python benchmarks/stock_tap.py --config FILE

Config: ``api_key``, ``base_url``, ``sync_ids`` (same keys as tap-sequin's).
"""

from __future__ import annotations

import typing as t

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.streams import RESTStream

# The sync's top-level fields; nested objects are left open (permissive).
_OPEN_OBJECT: dict[str, t.Any] = {"type": ["object", "null"], "additionalProperties": True}
SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "provider": {"type": ["string", "null"]},
        "stream_id": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
        "org_id": {"type": ["string", "null"]},
        "health": _OPEN_OBJECT,
        "collection_ids": {"type": ["array", "null"], "items": {"type": "string"}},
        "rate_limit": _OPEN_OBJECT,
        "credential_id": {"type": ["string", "null"]},
        "credential": _OPEN_OBJECT,
        "max_age_days": {"type": ["integer", "null"]},
        "sync_frequency": {"type": ["string", "null"]},
        "initial_backfill_completed_at": {"type": ["string", "null"]},
        "metadata": _OPEN_OBJECT,
        "created_at": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]},
    },
}


class SyncsStream(RESTStream[t.Any]):
    """One record per configured sync id."""

    name = "syncs"
    path = "/v1/syncs/{id}"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = None
    records_jsonpath = "$"
    schema = SCHEMA

    @property
    def url_base(self) -> str:
        return str(self.config["base_url"]).rstrip("/")

    @property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_key"])

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"id": sync_id} for sync_id in self.config["sync_ids"]]


class StockTap(Tap):
    """The stock-pattern tap."""

    name = "tap-sequin-stock"

    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True),
        th.Property("base_url", th.StringType, required=True),
        th.Property("sync_ids", th.ArrayType(th.StringType), required=True),
    ).to_dict()

    def discover_streams(self) -> list[SyncsStream]:
        return [SyncsStream(self)]


if __name__ == "__main__":
    StockTap.cli()
