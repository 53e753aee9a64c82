"""The sandbox's `GET /v1/credentials`: every credential its syncs use, and a catalogue.

A credential from the listing carries what the one embedded in a sync lacks: `health`
(`{"status", "notes", "time"}`) and, for a custom OAuth app, the full `oauth_app` object with
its `client_secret` (masked as ten asterisks, as the API does by default, or clear with the
secret marker). A sync whose health says its credential is not `ok` gets a credential in
`error` with the same notes.

The catalogue adds, for every credential kind Sequin documents, one healthy credential with
masked secrets and one unhealthy credential with clear secrets (some with the top-level `kind`
that some doc pages show), so every kind is served, healthy and not, masked and clear,
whatever the number of syncs.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable
from typing import Any

from tap_sequin.sandbox.data import SECRET_MARKER, credential_properties, format_timestamp

OAUTH_MASK = "*" * 10

# Every kind named in Sequin's documentation, with its provider.
DOCUMENTED_KINDS: tuple[tuple[str, str], ...] = (
    ("stripe_key", "stripe"),
    ("stripe_oauth2", "stripe"),
    ("stripe_sequin", "stripe"),
    ("airtable_oauth2", "airtable"),
    ("github_app", "github"),
    ("checkout_champ_password", "checkout_champ"),
    ("hubspot_oauth2", "hubspot"),
    ("hubspot", "hubspot"),
    ("salesforce", "salesforce"),
    ("linear_oauth2", "linear"),
)

# 2024-01-01 00:00:00 UTC: the catalogue's timestamps count from here.
_CATALOGUE_EPOCH = 1704067200


def generate_credentials(syncs: Iterable[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The listing for `syncs` (as they are now): their credentials first, then the catalogue."""
    rng = random.Random(f"{seed}-credentials")  # noqa: S311 (reproducible test data)
    listing: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sync in syncs:
        embedded = sync.get("credential")
        if not isinstance(embedded, dict) or embedded.get("id") in seen:
            continue
        seen.add(str(embedded.get("id")))
        credential = copy.deepcopy(embedded)
        credential["health"] = _health_of_sync_credential(sync, credential)
        if credential.get("oauth_app_id"):
            credential["oauth_app"] = _oauth_app(rng, credential, masked=rng.random() < 0.5)
        listing.append(credential)
    for number, (kind, provider) in enumerate(DOCUMENTED_KINDS):
        for healthy in (True, False):
            listing.append(_catalogue_credential(rng, kind, provider, number, healthy))
    return listing


def _health_of_sync_credential(sync: dict[str, Any], credential: dict[str, Any]) -> Any:
    health = sync.get("health")
    part = health.get("credential") if isinstance(health, dict) else None
    time = credential.get("updated_at")
    if isinstance(part, dict) and part.get("status") not in (None, "ok"):
        return {"status": "error", "notes": list(part.get("notes") or []), "time": time}
    return {"status": "ok", "notes": [], "time": time}


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _oauth_app(rng: random.Random, credential: dict[str, Any], masked: bool) -> dict[str, Any]:
    secret = OAUTH_MASK if masked else f"{SECRET_MARKER}-oauth-{rng.getrandbits(32):08x}"
    return {
        "id": credential["oauth_app_id"],
        "name": f"{str(credential.get('provider')).title()} app",
        "provider": credential.get("provider"),
        "client_id": f"client-{rng.getrandbits(32):08x}",
        "client_secret": secret,
        "metadata": {},
        "inserted_at": credential.get("created_at"),
        "updated_at": credential.get("updated_at"),
    }


def _catalogue_credential(
    rng: random.Random, kind: str, provider: str, number: int, healthy: bool
) -> dict[str, Any]:
    created = format_timestamp(_CATALOGUE_EPOCH + number * 86400)
    checked = format_timestamp(_CATALOGUE_EPOCH + number * 86400 + 3600)
    credential: dict[str, Any] = {
        "id": _uuid(rng),
        "provider": provider,
        "properties": credential_properties(rng, kind, 900 + number, masked=healthy),
        "oauth_app_id": None,
        "oauth_app": {"kind": "sequin"},
        "metadata": {"catalogue": True},
        "health": {"status": "ok", "notes": [], "time": checked},
        "created_at": created,
        "updated_at": created,
    }
    if kind.endswith("oauth2"):
        credential["oauth_app_id"] = _uuid(rng)
        credential["oauth_app"] = _oauth_app(rng, credential, masked=healthy)
    if not healthy:
        credential["health"] = {
            "status": "error",
            "notes": [f"{provider.title()} rejected the credential: 401 Unauthorized."],
            "time": checked,
        }
        credential["kind"] = kind  # the top-level kind some doc pages show
    return credential
