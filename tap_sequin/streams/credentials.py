"""The ``credentials`` stream: one RECORD per credential from ``GET /v1/credentials``.

One request per run (the API does not paginate). Secrets are redacted exactly as in
``syncs``. An API that answers 404 (it does not serve credentials) gives a warning and an
empty stream; the other streams go on.
"""

from __future__ import annotations

import typing as t

from tap_sequin.shaping.credentials import CredentialShaper
from tap_sequin.shaping.schemas import CREDENTIAL_SCHEMA
from tap_sequin.streams.listing import ListingStream


class CredentialsStream(ListingStream):
    """Every credential of the account, in the API's order."""

    name = "credentials"
    schema = CREDENTIAL_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["id"]
    path = "/v1/credentials"
    noun = "credential"
    shaper = CredentialShaper
    optional = True
