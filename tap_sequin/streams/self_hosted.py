"""The self-hosted server's other listings: ``postgres_databases`` and ``http_endpoints``.

Each is one ``GET`` of the whole collection (the server does not paginate), with soft
deletes after a complete listing, as every ``ListingStream``.
"""

from __future__ import annotations

import typing as t

from tap_sequin.shaping.databases import DatabaseShaper
from tap_sequin.shaping.endpoints import EndpointShaper
from tap_sequin.shaping.self_hosted_schemas import HTTP_ENDPOINT_SCHEMA, POSTGRES_DATABASE_SCHEMA
from tap_sequin.streams.listing import ListingStream


class PostgresDatabasesStream(ListingStream):
    """Every Postgres database the server replicates from; never a password."""

    name = "postgres_databases"
    schema = POSTGRES_DATABASE_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["id"]
    path = "/api/postgres_databases"
    noun = "postgres database"
    shaper = DatabaseShaper


class HttpEndpointsStream(ListingStream):
    """Every HTTP endpoint (the webhook sinks' destinations); secrets redacted."""

    name = "http_endpoints"
    schema = HTTP_ENDPOINT_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["id"]
    path = "/api/destinations/http_endpoints"
    noun = "http endpoint"
    shaper = EndpointShaper
