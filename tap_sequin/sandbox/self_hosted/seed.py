"""The seeded world of a self-hosted Sequin server: sinks, databases, endpoints, backfills.

Everything is drawn from the seed; sink `i` from its own `random.Random`, so the first sinks
of a larger world are those of a smaller one. The first eleven places are fixed so that any
world of 11 or more sinks shows every case:

| place | destination | health | also |
| --- | --- | --- | --- |
| 0 | webhook | healthy | a backfill that progresses each run |
| 1 | kafka | `Message delivery` error in some runs | a completed and a cancelled backfill |
| 2 | sqs | warning (stale ingestion) | a backfill that stalls after run 2 |
| 3 | gcp_pubsub | error (configuration), on the replica | a failed backfill |
| 4 | rabbitmq | `Messages pending delivery` warning in some runs | |
| 5 | redis_stream | initializing | a paused backfill |
| 6 | nats | waiting | on the database whose slot is disabled |
| 7 | elasticsearch | paused (sink `paused`) | |
| 8 | typesense | no `health` key at all | |
| 9 | sequin_stream | paused (sink `disabled`) | |
| 10 | azure_event_hub | healthy, one `notice` check | |
"""

from __future__ import annotations

import copy
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from tap_sequin.sandbox.self_hosted.backfills import Plan
from tap_sequin.sandbox.self_hosted.destinations import DESTINATION_TYPES, destination, secret
from tap_sequin.sandbox.self_hosted.health import PATTERNS, health, moving_checks
from tap_sequin.sandbox.self_hosted.sensitive import Sensitive

# (destination type, health pattern or None for no health key, sink status, database, plans)
FIXED: tuple[tuple[str, str | None, str, int, tuple[str, ...]], ...] = (
    ("webhook", "healthy", "active", 0, ("progressing",)),
    ("kafka", "healthy", "active", 0, ("completed", "cancelled")),
    ("sqs", "warning", "active", 0, ("stalled",)),
    ("gcp_pubsub", "config_error", "active", 1, ("failed",)),
    ("rabbitmq", "healthy", "active", 0, ()),
    ("redis_stream", "initializing", "active", 0, ("paused",)),
    ("nats", "waiting", "active", 2, ()),
    ("elasticsearch", "paused", "paused", 0, ()),
    ("typesense", None, "active", 0, ()),
    ("sequin_stream", "paused", "disabled", 0, ()),
    ("azure_event_hub", "notice", "active", 0, ()),
)
TABLES = ("public.orders", "public.customers", "public.invoices", "billing.payments")
ENTITIES = ("orders", "customers", "invoices", "payments", "shipments", "events")


def new_id(rng: random.Random) -> str:
    """A random version-4 UUID, as Sequin gives its objects."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Sink:
    """A sink as the world keeps it: fields with `Sensitive` secrets, health apart."""

    fields: dict[str, Any]
    health: dict[str, Any] | None
    place: int
    backfills: list[Plan] = field(default_factory=list)
    hidden: bool = False


@dataclass
class Seeded:
    """The whole seeded world, before any change."""

    sinks: list[Sink]
    databases: list[dict[str, Any]]
    endpoints: list[dict[str, Any]]


def databases(rng: random.Random) -> list[dict[str, Any]]:
    """A primary, its read replica, and an older database whose slot is disabled."""
    out = []
    for name, host, slot_status in (
        ("production", "db.internal", "active"),
        ("production-replica", "replica.db.internal", "active"),
        ("legacy", "legacy-db.internal", "disabled"),
    ):
        db: dict[str, Any] = {
            "id": new_id(rng),
            "name": name,
            "hostname": host,
            "port": 5432,
            "database": "app",
            "username": "sequin",
            "password": secret(rng, "pg"),
            "ssl": True,
            "ipv6": False,
            "use_local_tunnel": False,
            "pool_size": 10,
            "queue_interval": 1000,
            "queue_target": 50,
            "replication_slots": [
                {
                    "publication_name": "sequin_pub",
                    "slot_name": f"sequin_{name.replace('-', '_')}",
                    "status": slot_status,
                    "id": new_id(rng),
                }
            ],
        }
        if name.endswith("-replica"):
            db["primary"] = {
                "hostname": "db.internal",
                "port": 5432,
                "database": "app",
                "username": "sequin",
                "ssl": True,
                "ipv6": False,
            }
        out.append(db)
    return out


def endpoints(rng: random.Random) -> list[dict[str, Any]]:
    """One endpoint with a password in its URL, one with secret headers, one local."""
    hook_password = secret(rng, "userinfo").value
    return [
        {
            "id": new_id(rng),
            "name": "orders-webhook",
            "url": f"https://hooks:{hook_password}@hooks.example.com/sequin/orders",
            "headers": {
                "Authorization": f"Bearer {secret(rng, 'bearer').value}",
                "X-Team": "billing",
            },
            "encrypted_headers": {},
        },
        {
            "id": new_id(rng),
            "name": "crm-endpoint",
            "url": "https://api.crm.example.com/ingest?source=sequin",
            "headers": {"X-Api-Key": secret(rng, "api-key").value, "Content-Language": "en"},
            "encrypted_headers": {"X-Signing-Secret": secret(rng, "signing")},
        },
        {
            "id": new_id(rng),
            "name": "local-dev",
            "local": True,
            "path": "/webhooks/dev",
            "headers": {},
            "encrypted_headers": {"Authorization": Sensitive(f"Bearer {secret(rng, 'dev').value}")},
        },
    ]


def sink(place: int, seed: int, run: int, dbs: list[dict[str, Any]], eps: list[str]) -> Sink:
    """The sink at `place`, as it is in `run`."""
    rng = random.Random(f"{seed}-sink-{place}")  # noqa: S311 (test data)
    if place < len(FIXED):
        kind, pattern, status, db_index, plans = FIXED[place]
    else:
        kind = rng.choice(DESTINATION_TYPES)
        status = rng.choices(("active", "paused", "disabled"), (90, 5, 5))[0]
        pattern = rng.choices(("healthy", "warning", "error", "notice", None), (70, 10, 10, 8, 2))[
            0
        ]
        if status != "active":
            pattern = "paused"
        db_index = rng.choices((0, 1, 2), (80, 15, 5))[0]
        plans = rng.choices(((), ("completed",), ("progressing",), ("failed",)), (60, 25, 10, 5))[0]
    entity = ENTITIES[place % len(ENTITIES)]
    name = f"{entity}-to-{kind.replace('_', '-')}-{place:03d}"
    table = TABLES[place % len(TABLES)]
    grouped = rng.random() < 0.5
    fields: dict[str, Any] = {
        "id": new_id(rng),
        "name": name,
        "database": dbs[db_index]["name"],
        "status": status,
        "actions": ["insert", "update", "delete"] if rng.random() < 0.7 else ["insert"],
        "destination": destination(kind, rng, name, eps[place % len(eps)]),
        "batch_size": rng.choice((1, 10, 100)),
        "filter": rng.choice(("none", "none", "only-paid")),
        "transform": rng.choice(("none", "strip-pii")),
        "routing": "none",
        "enrichment": rng.choice(("none", "none", "add-customer")),
        "timestamp_format": rng.choice(("iso8601", "unix_microsecond")),
        "max_retry_count": rng.choice((None, 5, 20)),
        "load_shedding_policy": rng.choice(("pause_on_full", "discard_on_full")),
        "message_grouping": grouped,
        "annotations": rng.choice(({}, {"team": "billing", "pager": "#payments-oncall"})),
        "source": (
            None
            if rng.random() < 0.3
            else {
                "include_schemas": ["public", "billing"],
                "exclude_schemas": None,
                "include_tables": None,
                "exclude_tables": ["public.audit_log"],
            }
        ),
        "tables": (
            None
            if rng.random() < 0.2
            else [{"name": table, "group_column_names": ["id"] if grouped else []}]
        ),
    }
    checks = moving_checks(place, run)
    if checks is None and pattern is not None:
        checks = copy.deepcopy(PATTERNS[pattern])
    state = None if checks is None else health(checks, paused=status != "active")
    backfills = [
        Plan(
            id=new_id(rng),
            plan=plan,
            table=table if plan != "failed" else None,
            sort_column="updated_at" if plan != "failed" else None,
            rows_initial=rng.randrange(10_000, 2_000_000),
            age_hours=rng.randrange(6, 2000) if plan not in ("progressing", "stalled") else 1,
        )
        for plan in plans
    ]
    return Sink(fields, state, place, backfills)


def seed_world(sinks: int, seed: int = 1, run: int = 1) -> Seeded:
    """`sinks` sinks, three databases and three HTTP endpoints, as they are in `run`."""
    rng = random.Random(f"{seed}-self-hosted")  # noqa: S311 (test data)
    dbs = databases(rng)
    eps = endpoints(rng)
    names = [str(e["name"]) for e in eps]
    return Seeded([sink(p, seed, run, dbs, names) for p in range(sinks)], dbs, eps)
