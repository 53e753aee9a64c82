"""The sandbox's seeded data set: syncs in the exact JSON shape of Sequin's v1 API.

The first sync is the documented example of `GET /v1/syncs/{id}`; the rest are drawn from a
`random.Random(seed)`, so the same `(n, seed)` always gives the same list. Secrets are either
masked the way the API masks them (`"***********"`) or left in clear text carrying
`SECRET_MARKER`, so a test can search a tap's output for the marker to prove nothing leaked.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from tap_sequin.sandbox.health import older_health
from tap_sequin.sandbox.runs import apply_run

T = TypeVar("T")

SECRET_MARKER = "sandbox-secret"  # noqa: S105 (a marker to search for)
MASK = "***********"

EXAMPLE_SYNC_ID = "c906b4a4-0cda-4f46-bd80-255f570c195d"

# Verbatim from the API reference page "Get a sync" (key order included).
EXAMPLE_SYNC: dict[str, Any] = {
    "id": EXAMPLE_SYNC_ID,
    "provider": "stripe",
    "stream_id": "f0f70b52-5243-489c-879b-a1ae3f02abfd",
    "name": "Choam Corp - HubSpot Production",
    "status": "active",
    "org_id": "75958cea-c981-4116-9a0d-c1e99e826688",
    "health": {"status": "healthy", "sync_id": EXAMPLE_SYNC_ID},
    "collection_ids": ["hubspot:contact", "hubspot:company"],
    "rate_limit": {"allowed_requests": 1000, "interval": 60, "max_concurrent_requests": 0},
    "credential_id": "27879937-bd5d-490b-a943-edf486b04300",
    "credential": {
        "id": "27879937-bd5d-490b-a943-edf486b04300",
        "provider": "stripe",
        "properties": {
            "kind": "stripe_key",
            "name": "TEST ACCOUNT",
            "secret": MASK,
            "test": True,
        },
        "oauth_app_id": None,
        "oauth_app": {"kind": "sequin"},
        "metadata": {"custom_credential_property": 42},
        "created_at": "2023-12-15 01:29:29",
        "updated_at": "2023-12-15 01:29:29",
    },
    "max_age_days": 365,
    "sync_frequency": "continuous",
    "initial_backfill_completed_at": "2023-12-15 01:29:29",
    "metadata": {"custom_property": 42},
    "created_at": "2023-12-15 01:29:29",
    "updated_at": "2023-12-15 01:29:29",
}

# The sandbox's first sync: the documented example (its id, credential and timestamps),
# with a name and collections that agree with its provider. The reference page pairs
# provider "stripe" with a HubSpot name and HubSpot collections, which every demo would
# show as a contradiction.
FIRST_SYNC: dict[str, Any] = {
    **copy.deepcopy(EXAMPLE_SYNC),
    "name": "Choam Corp - Stripe Production",
    "collection_ids": ["stripe:customer", "stripe:invoice"],
}

# Credential kinds named in the reference, with the provider that uses each. The last three
# kinds are not in the reference: they stand for the "more may appear" shapes a tap must
# tolerate, and carry secrets under other key names (one of them nested).
CREDENTIAL_KINDS: tuple[tuple[str, str], ...] = (
    ("stripe_key", "stripe"),
    ("airtable_oauth2", "airtable"),
    ("github_app", "github"),
    ("checkout_champ_password", "checkout_champ"),
    ("hubspot_oauth2", "hubspot"),
    ("linear_oauth2", "linear"),
    ("stripe_oauth2", "stripe"),
    ("salesforce_oauth2", "salesforce"),
    ("sendgrid_api_key", "sendgrid"),
    ("shopify_access_token", "shopify"),
)

COLLECTIONS: dict[str, tuple[str, ...]] = {
    "stripe": ("customer", "charge", "invoice", "subscription", "payment_intent", "product"),
    "airtable": ("base", "table", "record"),
    "github": ("repository", "issue", "pull_request", "commit", "user"),
    "checkout_champ": ("order", "customer", "purchase"),
    "hubspot": ("contact", "company", "deal", "ticket", "owner"),
    "linear": ("issue", "project", "team", "cycle", "user"),
    "salesforce": ("account", "contact", "lead", "opportunity"),
    "sendgrid": ("contact", "list", "segment"),
    "shopify": ("order", "product", "customer"),
}

HEALTH_STATUSES = ("healthy",) * 6 + ("error", "warn", "ok")
COMPANIES = ("Choam", "Arrakis Spice", "Ix Tech", "Tleilax", "Richese", "Atreides", "Zürich Ltd")
ENVIRONMENTS = ("Production", "Staging", "Dev", 'EU "shadow"', "日本")

# 2023-01-01 .. 2024-07-01, UTC epoch seconds.
_EPOCH_FROM = 1672531200
_EPOCH_TO = 1719792000


_days: dict[int, str] = {}


def format_timestamp(epoch: float) -> str:
    """Format epoch seconds the way the API does: `YYYY-MM-DD HH:MM:SS`, UTC, no zone."""
    seconds = int(epoch)
    day, rest = divmod(seconds, 86400)
    date = _days.get(day)
    if date is None:
        # strftime per call would be a third of the cost of generating 10,000 syncs.
        date = _days[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{date} {hours:02d}:{minutes:02d}:{secs:02d}"


def generate_syncs(n: int = 50, seed: int = 1, run: int = 1) -> list[dict[str, Any]]:
    """Return `n` syncs in list order, as in `run`; the same arguments give equal lists.

    The first sync is the documented example (``FIRST_SYNC``: its name and collections
    made to match its provider); the next ones cover every credential kind, half of them
    with unmasked secrets. Every name names its sync's provider. Ids are UUID strings,
    unique within the list. A few syncs' health depends on `run` (see
    `tap_sequin.sandbox.runs`).
    """
    if n <= 0:
        return []
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    syncs = [copy.deepcopy(FIRST_SYNC)]
    for index in range(1, n):
        syncs.append(random_sync(rng, index))
    apply_run(syncs, run)
    return syncs


def _uuid(rng: random.Random) -> str:
    # A version-4 UUID from the seeded stream; by hand, as uuid.UUID is slow in bulk.
    bits = rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)
    h = f"{bits | (0x4000 << 64) | (0x8000 << 48):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _pick(rng: random.Random, options: Sequence[T]) -> T:
    # rng.choice and rng.randrange cost several times more than one rng.random().
    return options[int(rng.random() * len(options))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low))


def _secret(rng: random.Random, index: int, prefix: str, masked: bool) -> str:
    if masked:
        return MASK
    return f"{prefix}{SECRET_MARKER}-{index}-{rng.getrandbits(32):08x}"


def credential_properties(
    rng: random.Random, kind: str, index: int, masked: bool
) -> dict[str, Any]:
    """The `properties` of a credential of `kind`; secrets masked, or clear with the marker."""

    def secret(prefix: str = "") -> str:
        return _secret(rng, index, prefix, masked)

    if kind == "stripe_key":
        return {
            "kind": kind,
            "name": _pick(rng, ("TEST ACCOUNT", "LIVE ACCOUNT", "Platform")),
            "secret": secret("sk_test_"),
            "test": rng.random() < 0.5,
        }
    if kind == "airtable_oauth2":
        return {
            "kind": kind,
            "airtable_uid": f"usr{rng.getrandbits(40):010x}",
            "refresh_token": secret(),
            "scope": "data.records:read schema.bases:read",
        }
    if kind == "github_app":
        return {
            "kind": kind,
            "account_type": _pick(rng, ("Organization", "User")),
            "account_login": f"octo-{index}",
            "installation_id": _between(rng, 10_000_000, 99_999_999),
        }
    if kind == "checkout_champ_password":
        return {"kind": kind, "login_id": f"api-user-{index}", "password": secret()}
    if kind == "hubspot_oauth2":
        return {
            "kind": kind,
            "hub_id": _between(rng, 1_000_000, 9_999_999),
            "access_token": secret("CL"),
            "refresh_token": secret("na1-"),
            "scope": "crm.objects.contacts.read",
        }
    if kind == "linear_oauth2":
        return {"kind": kind, "access_token": secret("lin_oauth_"), "scope": "read"}
    if kind == "stripe_oauth2":
        return {
            "kind": kind,
            "stripe_user_id": f"acct_{rng.getrandbits(64):016x}",
            "access_token": secret("sk_live_"),
            "refresh_token": secret("rt_"),
            "livemode": rng.random() < 0.5,
        }
    if kind == "salesforce_oauth2":
        return {
            "kind": kind,
            "instance_url": f"https://org{index}.my.salesforce.com",
            "refresh_token": secret(),
            "connected_app": {"client_id": f"3MVG{index}", "client_secret": secret()},
        }
    if kind == "stripe_sequin":
        return {"kind": kind, "stripe_user_id": f"acct_{rng.getrandbits(64):016x}"}
    if kind == "hubspot":
        return {
            "kind": kind,
            "hub_domain": f"hub-{index}.hubspot.com",
            "hub_id": _between(rng, 1_000_000, 9_999_999),
            "hubspot_user": f"ops{index}@example.com",
            "hubspot_user_id": _between(rng, 10_000, 99_999),
            "refresh_token": secret("na1-"),
            "scopes": ["crm.objects.contacts.read", "oauth"],
        }
    if kind == "salesforce":
        return {
            "kind": kind,
            "instance_url": f"https://org{index}.my.salesforce.com",
            "refresh_token": secret(),
        }
    if kind == "sendgrid_api_key":
        return {"kind": kind, "api_key": secret("SG.")}
    return {"kind": kind, "shop": f"shop-{index}.myshopify.com", "token": secret("shpat_")}


def _metadata(rng: random.Random, key: str) -> dict[str, Any] | None:
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.35:
        return {}
    if roll < 0.8:
        return {key: _between(rng, 0, 100)}
    return {"team": _pick(rng, ("data", "growth")), "tags": ["a", "b"], "nested": {"x": 1}}


def _health(rng: random.Random, sync_id: str, provider: str, now: str) -> dict[str, Any]:
    status = _pick(rng, HEALTH_STATUSES)
    if rng.random() < 0.3:
        return older_health(status, provider, now)
    return {"status": status, "sync_id": sync_id}


def random_sync(rng: random.Random, index: int) -> dict[str, Any]:
    """One generated sync; `index` (its place in the list) picks its credential kind early on."""
    # The first syncs after the example walk through every credential kind, masked for odd
    # indexes and clear for even ones, so any n >= 2 * len(CREDENTIAL_KINDS) covers both.
    if index <= 2 * len(CREDENTIAL_KINDS):
        kind, provider = CREDENTIAL_KINDS[(index - 1) % len(CREDENTIAL_KINDS)]
        masked = index > len(CREDENTIAL_KINDS)
    else:
        kind, provider = _pick(rng, CREDENTIAL_KINDS)
        masked = rng.random() < 0.5
    sync_id = _uuid(rng)
    credential_id = _uuid(rng)
    cred_created = _between(rng, _EPOCH_FROM, _EPOCH_TO)
    created = cred_created + _between(rng, 0, 86400 * 30)
    updated = created + (0 if rng.random() < 0.3 else _between(rng, 1, 86400 * 200))
    backfill = None if rng.random() < 0.2 else created + _between(rng, 60, 86400 * 3)
    oauth_app_id = _uuid(rng) if kind.endswith("oauth2") and rng.random() < 0.4 else None
    things = COLLECTIONS[provider]
    first = _between(rng, 0, len(things))
    chosen = (things[first:] + things[:first])[: _between(rng, 0, len(things))]
    collection_ids = [f"{provider}:{thing}" for thing in chosen]
    company = _pick(rng, COMPANIES)
    sync: dict[str, Any] = {
        "id": sync_id,
        "provider": provider,
        "stream_id": _uuid(rng),
        "name": f"{company} Corp - {provider.title()} {_pick(rng, ENVIRONMENTS)} #{index}",
        "status": "disabled" if rng.random() < 0.2 else "active",
        "org_id": EXAMPLE_SYNC["org_id"],
        "health": _health(rng, sync_id, provider, format_timestamp(updated)),
        "collection_ids": collection_ids,
        "rate_limit": {
            "allowed_requests": _pick(rng, (100, 1000, 5000)),
            "interval": _pick(rng, (1, 10, 60)),
            "max_concurrent_requests": _pick(rng, (0, 0, 4, 10)),
        },
        "credential_id": credential_id,
        "credential": {
            "id": credential_id,
            "provider": provider,
            "properties": credential_properties(rng, kind, index, masked),
            "oauth_app_id": oauth_app_id,
            "oauth_app": {"kind": "custom", "id": oauth_app_id}
            if oauth_app_id
            else {"kind": "sequin"},
            "metadata": _metadata(rng, "custom_credential_property"),
            "created_at": format_timestamp(cred_created),
            "updated_at": format_timestamp(cred_created + _between(rng, 0, 86400)),
        },
        "max_age_days": _pick(rng, (None, None, 30, 90, 365)),
        "sync_frequency": _pick(rng, ("continuous", "continuous", "4h")),
        "initial_backfill_completed_at": None if backfill is None else format_timestamp(backfill),
        "metadata": _metadata(rng, "custom_property"),
        "created_at": format_timestamp(created),
        "updated_at": format_timestamp(updated),
    }
    if index % 3 == 0:
        # The customer's own key, set at creation; whether the API echoes it is unconfirmed,
        # so only some syncs carry it (no random draw: the rest of the data stays as it was).
        sync["external_id"] = f"{company.split()[0].lower()}-{index:05d}"
    return sync
