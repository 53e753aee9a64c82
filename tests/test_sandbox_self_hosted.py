"""The sandbox's self-hosted mode behaves like Sequin's self-hosted server over real loopback
HTTP: shapes, tokens, 404s, /health, admin routes, runs and faults.

The expected shapes below are copied by hand from the server's source (the files named), as
an oracle independent of the sandbox's own code.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tap_sequin.sandbox import SECRET_MARKER, Faults, Rule, SelfHostedSandbox

TOKEN = "sandbox-token"

# lib/sequin/transforms/transforms.ex, to_external(%SinkConsumer{}); `health` may be absent.
SINK_KEYS = {
    "id", "name", "database", "status", "actions", "destination", "batch_size", "filter",
    "transform", "routing", "enrichment", "timestamp_format", "active_backfills",
    "max_retry_count", "load_shedding_policy", "message_grouping", "annotations", "source",
    "tables",
}  # fmt: skip
# to_external(%Backfill{})
BACKFILL_KEYS = {
    "id", "sink_consumer", "state", "table", "sort_column", "rows_initial_count",
    "rows_processed_count", "rows_ingested_count", "completed_at", "canceled_at",
    "inserted_at", "updated_at",
}  # fmt: skip
# lib/sequin_web/controllers/postgres_database_json.ex; `primary` only for a replica.
DATABASE_KEYS = {
    "id", "name", "hostname", "port", "database", "username", "password", "ssl", "ipv6",
    "use_local_tunnel", "pool_size", "queue_interval", "queue_target", "replication_slots",
}  # fmt: skip
PRIMARY_KEYS = {"hostname", "port", "database", "username", "ssl", "ipv6"}
SLOT_KEYS = {"publication_name", "slot_name", "status", "id"}
DESTINATION_TYPES = {
    "webhook", "sequin_stream", "kafka", "rabbitmq", "redis_stream", "redis_string", "sqs",
    "sns", "kinesis", "s2", "gcp_pubsub", "nats", "azure_event_hub", "typesense",
    "meilisearch", "elasticsearch",
}  # fmt: skip
HEALTH_STATUSES = {"healthy", "warning", "error", "initializing", "waiting", "paused"}
CHECK_NAMES = [
    "Sink configuration",
    "Message filtering",
    "Message ingestion",
    "Messages pending delivery",
    "Message delivery",
]
BACKFILL_STATES = {"active", "completed", "cancelled", "failed", "paused"}
SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# lib/sequin_web/plugs/verify_api_token.ex
HOW_TO = (
    "API tokens are generated in the Sequin console (console.sequin.io) and should be "
    "included in the Authorization header of your request. For example:\n\n"
    "Authorization: Bearer <your-api-token>\n"
)
NOT_BEARER = (
    "Please provide a valid API token in the Authorization header. Ensure your "
    f'Authorization value is prefixed with "Bearer".\n\n{HOW_TO}\n'
)
INVALID = (
    "The API token you provided is invalid or has expired. Your token may have been revoked "
    "or deleted in the Sequin console.\n"
)


class Answer:
    """A response read in full."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    sb: SelfHostedSandbox,
    method: str,
    path: str,
    *,
    token: str | None = TOKEN,
    headers: list[tuple[str, str]] | None = None,
    body: Any = None,
) -> Answer:
    """One request on a fresh connection; `headers` are sent as given (repeats kept)."""
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        sent = list(headers or [("Accept", "application/json")])
        if token is not None:
            sent.append(("Authorization", f"Bearer {token}"))
        data = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            sent.append(("Content-Type", "application/json"))
        for name, value in sent:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data or None)
        return Answer(conn.getresponse())
    finally:
        conn.close()


def get(sb: SelfHostedSandbox, path: str) -> Any:
    answer = call(sb, "GET", path)
    assert answer.status == 200, (path, answer.body)
    return answer.json()


@pytest.fixture
def sb() -> Iterator[SelfHostedSandbox]:
    with SelfHostedSandbox(sinks=12, seed=1) as sandbox:
        yield sandbox


def sinks(sb: SelfHostedSandbox) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = get(sb, "/api/sinks")["data"]
    return data


# -- shapes ------------------------------------------------------------------------------


def test_sinks_have_the_servers_fields_every_health_status_and_one_without_health(
    sb: SelfHostedSandbox,
) -> None:
    listed = sinks(sb)
    assert len(listed) == 12
    assert [s["id"] for s in listed] == sb.sink_ids
    statuses, missing = set(), 0
    for sink in listed:
        assert set(sink) - {"health"} == SINK_KEYS
        assert UUID.match(sink["id"])
        assert sink["destination"]["type"] in DESTINATION_TYPES
        assert set(sink["actions"]) <= {"insert", "update", "delete"}
        assert sink["status"] in {"active", "disabled", "paused"}
        if "health" not in sink:
            missing += 1
            continue
        health = sink["health"]
        assert set(health) == {"name", "status", "checks"}
        assert health["name"] == "Consumer health"
        statuses.add(health["status"])
        assert [c["name"] for c in health["checks"]] == CHECK_NAMES
        for check in health["checks"]:
            assert set(check) <= {"name", "status", "error"}
            if check["status"] in {"error", "warning", "stale"}:
                assert check["error"], check
        if sink["status"] != "active":
            assert health["status"] == "paused"
        # Each list item is what GET by id answers, and GET by name too.
        assert get(sb, f"/api/sinks/{sink['id']}") == sink
        assert get(sb, f"/api/sinks/{sink['name']}") == sink
    assert statuses == HEALTH_STATUSES
    assert missing == 1
    # The fields the server may send as null are null for some sinks.
    for field in ("source", "tables", "max_retry_count"):
        assert any(s[field] is None for s in listed), field
        assert any(s[field] is not None for s in listed), field
    assert len({s["destination"]["type"] for s in listed}) >= 10
    failing = [c for s in listed for c in s.get("health", {}).get("checks", []) if "error" in c]
    assert any(c["status"] == "error" for c in failing)


def test_backfills_cover_every_state_with_counts_and_timestamps(sb: SelfHostedSandbox) -> None:
    states = set()
    for sink in sinks(sb):
        backfills = get(sb, f"/api/sinks/{sink['id']}/backfills")["data"]
        assert get(sb, f"/api/sinks/{sink['name']}/backfills")["data"] == backfills
        active = [b for b in backfills if b["state"] == "active"]
        assert sink["active_backfills"] == active
        for backfill in backfills:
            assert set(backfill) == BACKFILL_KEYS
            assert backfill["sink_consumer"] == sink["name"]
            states.add(backfill["state"])
            counts = [backfill[f"rows_{k}_count"] for k in ("initial", "processed", "ingested")]
            assert all(isinstance(n, int) for n in counts)
            assert counts[0] >= counts[1] >= counts[2] >= 0
            assert SECONDS.match(backfill["inserted_at"])
            assert SECONDS.match(backfill["updated_at"])
            assert (backfill["completed_at"] is not None) == (backfill["state"] == "completed")
            assert (backfill["canceled_at"] is not None) == (backfill["state"] == "cancelled")
            for stamp in (backfill["completed_at"], backfill["canceled_at"]):
                assert stamp is None or MICROS.match(stamp)
            one = get(sb, f"/api/sinks/{sink['id']}/backfills/{backfill['id']}")
            assert one == backfill
    assert states == BACKFILL_STATES


def test_databases_have_slots_and_a_replica_with_its_primary(sb: SelfHostedSandbox) -> None:
    databases = get(sb, "/api/postgres_databases")["data"]
    replicas = [d for d in databases if "primary" in d]
    assert len(replicas) == 1
    assert set(replicas[0]["primary"]) == PRIMARY_KEYS
    for db in databases:
        assert set(db) - {"primary"} == DATABASE_KEYS
        assert [set(slot) for slot in db["replication_slots"]] == [SLOT_KEYS]
        assert get(sb, f"/api/postgres_databases/{db['name']}") == db
    assert {d["replication_slots"][0]["status"] for d in databases} == {"active", "disabled"}
    assert {s["database"] for s in sinks(sb)} <= {d["name"] for d in databases}


def test_http_endpoints_carry_userinfo_secret_headers_and_encrypted_headers(
    sb: SelfHostedSandbox,
) -> None:
    endpoints = get(sb, "/api/destinations/http_endpoints")["data"]
    assert any(re.match(r"^https://[^/@]+:[^/@]+@", e.get("url", "")) for e in endpoints)
    assert any(e.get("local") is True and e["path"].startswith("/") for e in endpoints)
    headers = {k: v for e in endpoints for k, v in e["headers"].items()}
    assert any(SECRET_MARKER in v for v in headers.values())  # in clear, as the server sends
    encrypted = [v for e in endpoints for v in e["encrypted_headers"].values()]
    assert encrypted
    assert all(SECRET_MARKER not in v and "*" in v for v in encrypted)
    for endpoint in endpoints:
        assert get(sb, f"/api/destinations/http_endpoints/{endpoint['id']}") == endpoint
    webhooks = [s["destination"] for s in sinks(sb) if s["destination"]["type"] == "webhook"]
    assert {w["http_endpoint"] for w in webhooks} <= {e["name"] for e in endpoints}


def obfuscated(secret: str) -> str:
    # lib/sequin/string.ex obfuscate/1, written out again as the oracle.
    n = len(secret)
    if n <= 5:
        return "*" * n
    if n <= 9:
        return secret[0] + "*" * (n - 2) + secret[-1]
    return secret[:3] + "*" * min(n - 4, 20) + secret[-1]


def test_obfuscation_follows_the_servers_rule() -> None:
    from tap_sequin.sandbox.self_hosted.sensitive import obfuscate

    # The examples of the server's own doc tests, then the 20-star cap.
    assert obfuscate("12345") == "*****"
    assert obfuscate("password") == "p******d"
    assert obfuscate("secretcode") == "sec******e"
    assert obfuscate("a" * 40 + "z") == "aaa" + "*" * 20 + "z"


def test_secrets_are_obfuscated_except_where_the_server_sends_them_in_clear(
    sb: SelfHostedSandbox,
) -> None:
    secrets = sb.secrets()
    assert len(secrets) > 20
    sink_body = call(sb, "GET", "/api/sinks").body.decode()
    for secret in secrets:
        assert secret not in sink_body
    every_body = "".join(
        call(sb, "GET", path).body.decode()
        for path in ("/api/sinks", "/api/postgres_databases", "/api/destinations/http_endpoints")
    )
    for value in sb.obfuscated_secrets():
        assert json.dumps(value)[1:-1] in every_body
    # Sinks ignore show_sensitive (the server's controller never passes it on)...
    assert call(sb, "GET", "/api/sinks?show_sensitive=true").body.decode() == sink_body
    # ...databases honour it.
    hidden = get(sb, "/api/postgres_databases")["data"]
    shown = get(sb, "/api/postgres_databases?show_sensitive=true")["data"]
    for plain, clear in zip(hidden, shown, strict=True):
        assert SECRET_MARKER in clear["password"]
        assert plain["password"] == obfuscated(clear["password"])
        assert {**plain, "password": None} == {**clear, "password": None}
    one = get(sb, f"/api/postgres_databases/{shown[0]['id']}?show_sensitive=true")
    assert one == shown[0]


def test_secrets_in_clear_sends_every_secret_in_clear() -> None:
    with SelfHostedSandbox(sinks=12, seed=1, secrets_in_clear=True) as sb:
        body = b"".join(
            call(sb, "GET", path).body
            for path in (
                "/api/sinks",
                "/api/postgres_databases",
                "/api/destinations/http_endpoints",
            )
        ).decode()
        for secret in sb.secrets():
            assert json.dumps(secret)[1:-1] in body


def test_keys_are_sorted_as_the_servers_encoder_writes_them(sb: SelfHostedSandbox) -> None:
    body = call(sb, "GET", "/api/sinks").body
    assert body.startswith(b'{"data":[{"actions":')
    first = sinks(sb)[0]
    assert list(first) == sorted(first)


# -- tokens, unknown paths, /health -------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "summary"),
    [
        ([], f"Please provide a valid API token in the Authorization header.\n\n{HOW_TO}\n"),
        ([("Authorization", f"bearer {TOKEN}")], NOT_BEARER),
        (
            [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")],
            f"Please provide exactly one Authorization header in your request.\n\n{HOW_TO}\n",
        ),
        ([("Authorization", "Bearer wrong")], INVALID),
        # HTTP drops the trailing space, so this is no "Bearer " prefix at all.
        ([("Authorization", "Bearer ")], NOT_BEARER),
    ],
)
def test_refused_tokens_get_401_in_the_servers_words(
    sb: SelfHostedSandbox, headers: list[tuple[str, str]], summary: str
) -> None:
    for path in ("/api/sinks", f"/api/sinks/{sb.sink_ids[0]}/backfills", "/api/postgres_databases"):
        answer = call(sb, "GET", path, token=None, headers=headers)
        assert answer.status == 401
        assert answer.json() == {"summary": summary}


def test_token_can_be_changed_and_revoked(sb: SelfHostedSandbox) -> None:
    sb.set_token("new")
    assert call(sb, "GET", "/api/sinks").status == 401
    assert call(sb, "GET", "/api/sinks", token="new").status == 200
    sb.revoke_token()
    assert call(sb, "GET", "/api/sinks", token="new").json() == {"summary": INVALID}
    sb.set_token("again")
    sb.set_faults(Faults(revoked=True))
    assert call(sb, "GET", "/api/sinks", token="again").json() == {"summary": INVALID}


def test_unknown_paths_get_phoenix_404_whatever_the_token(sb: SelfHostedSandbox) -> None:
    for path in ("/v1/syncs", "/api/sync", "/api/sinks/x/y", "/api", "/"):
        for token in (TOKEN, None):
            answer = call(sb, "GET", path, token=token)
            assert answer.status == 404
            assert answer.json() == {"errors": {"detail": "Not Found"}}
    # A method with no route is an unknown path too.
    assert call(sb, "PATCH", "/api/sinks", body={}).json() == {"errors": {"detail": "Not Found"}}
    # Phoenix answers its HTML format's plain text unless the client asks for JSON alone.
    for accept in ("*/*", "application/json, */*", "text/html"):
        answer = call(sb, "GET", "/v1/syncs", headers=[("Accept", accept)])
        assert (answer.status, answer.body) == (404, b"Not Found")
        assert answer.headers["content-type"].startswith("text/html")


def test_unknown_objects_get_the_controllers_404(sb: SelfHostedSandbox) -> None:
    missing = "0b6f3a4e-0000-4000-8000-000000000000"
    for path, entity in (
        (f"/api/sinks/{missing}", "consumer"),
        ("/api/sinks/no-such-sink", "consumer"),
        (f"/api/sinks/{missing}/backfills", "consumer"),
        (f"/api/sinks/{sb.sink_ids[0]}/backfills/{missing}", "backfill"),
        ("/api/postgres_databases/nope", "postgres database"),
        ("/api/destinations/http_endpoints/nope", "http endpoint"),
    ):
        answer = call(sb, "GET", path)
        assert answer.status == 404
        expected = f"Not found: No `{entity}` found matching the provided ID or name"
        assert answer.json() == {"summary": expected}


def test_write_routes_are_refused_after_the_token(sb: SelfHostedSandbox) -> None:
    sink = sb.sink_ids[0]
    assert call(sb, "DELETE", f"/api/sinks/{sink}", token=None).status == 401
    answer = call(sb, "DELETE", f"/api/sinks/{sink}")
    assert answer.status == 405
    assert "read-only" in answer.json()["summary"]
    assert call(sb, "GET", f"/api/sinks/{sink}").status == 200


def test_health_needs_no_token_and_can_fail(sb: SelfHostedSandbox) -> None:
    answer = call(sb, "GET", "/health", token=None)
    assert answer.status == 200
    assert answer.json()["ok"] is True
    assert answer.json()["rev"]
    assert "content-type" not in answer.headers  # the server sets none
    sb.set_server_error("failed to reach Redis")
    answer = call(sb, "GET", "/health", token=None)
    assert answer.status == 500
    assert answer.json() == {
        "ok": False,
        "error": "Error with service: failed to reach Redis",
        "details": None,
    }
    sb.set_server_error(None)
    assert call(sb, "GET", "/health", token=None).status == 200


# -- admin routes -------------------------------------------------------------------------


def admin(sb: SelfHostedSandbox, method: str, route: str, body: Any = None) -> Answer:
    return call(sb, method, f"/_sandbox/{route}", token=None, body=body)


def test_admin_changes_health_status_and_one_check(sb: SelfHostedSandbox) -> None:
    sink = sinks(sb)[0]
    assert sink["health"]["status"] == "healthy"
    changed = admin(sb, "PATCH", f"sinks/{sink['id']}", {"health_status": "warning"}).json()
    assert changed["health"]["status"] == "warning"
    assert get(sb, f"/api/sinks/{sink['id']}")["health"]["status"] == "warning"

    check = {"name": "Message delivery", "status": "error", "error": "HTTP 503 from endpoint"}
    admin(sb, "PATCH", f"sinks/{sink['name']}", {"check": check})
    health = get(sb, f"/api/sinks/{sink['id']}")["health"]
    assert health["status"] == "error"
    assert health["checks"][-1] == check
    assert [c["name"] for c in health["checks"]] == CHECK_NAMES
    listed = next(s for s in sinks(sb) if s["id"] == sink["id"])
    assert listed["health"] == health

    admin(
        sb,
        "PATCH",
        f"sinks/{sink['id']}",
        {"check": {"name": "Message delivery", "status": "healthy"}},
    )
    health = get(sb, f"/api/sinks/{sink['id']}")["health"]
    assert health["status"] == "healthy"
    assert "error" not in health["checks"][-1]


def test_admin_health_null_leaves_the_key_out(sb: SelfHostedSandbox) -> None:
    sink_id = sb.sink_ids[0]
    admin(sb, "PATCH", f"sinks/{sink_id}", {"health": None})
    assert "health" not in get(sb, f"/api/sinks/{sink_id}")
    assert "health" not in next(s for s in sinks(sb) if s["id"] == sink_id)


def test_a_hidden_sink_is_left_out_of_the_list_but_answers_by_id(sb: SelfHostedSandbox) -> None:
    sink = sinks(sb)[3]
    admin(sb, "PATCH", f"sinks/{sink['id']}", {"hidden": True})
    assert sink["id"] not in [s["id"] for s in sinks(sb)]
    assert len(sinks(sb)) == 11
    assert get(sb, f"/api/sinks/{sink['id']}") == sink
    assert call(sb, "GET", f"/api/sinks/{sink['id']}/backfills").status == 200
    admin(sb, "PATCH", f"sinks/{sink['id']}", {"hidden": False})
    assert [s["id"] for s in sinks(sb)] == sb.sink_ids


def test_a_deleted_sink_answers_404_by_id(sb: SelfHostedSandbox) -> None:
    sink_id = sb.sink_ids[1]
    assert admin(sb, "DELETE", f"sinks/{sink_id}").json() == {"id": sink_id, "deleted": True}
    assert sink_id not in [s["id"] for s in sinks(sb)]
    assert call(sb, "GET", f"/api/sinks/{sink_id}").status == 404
    assert call(sb, "GET", f"/api/sinks/{sink_id}/backfills").status == 404
    assert admin(sb, "DELETE", f"sinks/{sink_id}").status == 404


def test_admin_server_health_route(sb: SelfHostedSandbox) -> None:
    admin(sb, "POST", "server_health", {"error": "Redis is unreachable"})
    assert call(sb, "GET", "/health", token=None).status == 500
    admin(sb, "POST", "server_health", {"error": None})
    assert call(sb, "GET", "/health", token=None).status == 200


@pytest.mark.parametrize(
    "body",
    [
        [1],
        {"health_status": "sick"},
        {"check": {"name": "Message delivery", "status": "on fire"}},
        {"check": {"status": "error"}},
        {"hidden": "yes"},
        {"health": 5},
        {"colour": "red"},
    ],
)
def test_bad_admin_bodies_get_400_and_change_nothing(sb: SelfHostedSandbox, body: Any) -> None:
    sink_id = sb.sink_ids[0]
    before = get(sb, f"/api/sinks/{sink_id}")
    answer = admin(sb, "PATCH", f"sinks/{sink_id}", body)
    assert answer.status == 400
    assert answer.json()["summary"].startswith("Bad admin request: ")
    assert get(sb, f"/api/sinks/{sink_id}") == before


def test_admin_routes_are_not_logged_or_faulted(sb: SelfHostedSandbox) -> None:
    sb.set_faults(Faults(rules=(Rule(path="*", kind="503"),)))
    assert admin(sb, "PATCH", f"sinks/{sb.sink_ids[0]}", {"hidden": True}).status == 200
    assert call(sb, "GET", "/api/sinks").status == 503
    assert [r.path for r in sb.requests] == ["/api/sinks"]


# -- seeds and runs -----------------------------------------------------------------------


def bodies(sb: SelfHostedSandbox) -> list[bytes]:
    paths = ["/api/sinks", "/api/postgres_databases", "/api/destinations/http_endpoints"]
    paths += [f"/api/sinks/{i}/backfills" for i in sb.sink_ids]
    return [call(sb, "GET", p).body for p in paths]


def bodies_of(seed: int) -> list[bytes]:
    with SelfHostedSandbox(sinks=30, seed=seed) as sb:
        return bodies(sb)


def test_same_seed_same_world_other_seed_other_world() -> None:
    first = bodies_of(7)
    assert bodies_of(7) == first
    other = bodies_of(8)
    assert other[0] != first[0]
    assert other[1] != first[1]


def test_a_larger_world_starts_with_the_smaller_one() -> None:
    with SelfHostedSandbox(sinks=3) as small, SelfHostedSandbox(sinks=40) as large:
        assert sinks(large)[:3] == sinks(small)


def observe(sb: SelfHostedSandbox) -> dict[str, Any]:
    """Per sink name: its health status, failing checks and backfills, in this run."""
    out = {}
    for sink in sinks(sb):
        health = sink.get("health") or {}
        failing = [c["name"] for c in health.get("checks", []) if c["status"] != "healthy"]
        backfills = get(sb, f"/api/sinks/{sink['id']}/backfills")["data"]
        out[sink["name"]] = (health.get("status"), failing, backfills)
    return out


def test_runs_start_and_end_incidents_and_move_backfills() -> None:
    runs = []
    with SelfHostedSandbox(sinks=12, seed=3) as sb:
        for run in range(1, 8):
            sb.set_run(run)
            runs.append(observe(sb))
    names = list(runs[0])
    statuses = {name: [r[name][0] for r in runs] for name in names}
    # Some sink goes unhealthy and back, more than once over seven runs.
    moving = [n for n, s in statuses.items() if len(set(s)) > 1]
    assert len(moving) >= 2
    for name in moving:
        series = statuses[name]
        assert series[0] == "healthy"
        starts = sum(1 for a, b in itertools.pairwise(series) if a == "healthy" != b)
        ends = sum(1 for a, b in itertools.pairwise(series) if a != "healthy" == b)
        assert starts >= 2, series
        assert ends >= 1, series
    # A failing check names itself while the incident lasts.
    assert any("Message delivery" in r[n][1] for r in runs for n in moving)
    backfills = {
        (n, b["id"]): [next(x for x in r[n][2] if x["id"] == b["id"]) for r in runs]
        for n in names
        for b in runs[0][n][2]
    }
    progressing = [
        s for s in backfills.values() if s[0]["state"] == "active" and s[-1]["state"] == "completed"
    ]
    assert progressing, "a backfill progresses to completion"
    for series in progressing:
        counts = [b["rows_processed_count"] for b in series]
        assert counts == sorted(counts)
        assert counts[0] < counts[-1]
        assert series[-1]["completed_at"] is not None
    stalled = [
        s
        for s in backfills.values()
        if s[1]["state"] == s[2]["state"] == "active"
        and s[1]["rows_processed_count"] == s[2]["rows_processed_count"]
    ]
    assert stalled, "a backfill makes no progress between two runs"
    assert stalled[0][0]["rows_processed_count"] < stalled[0][1]["rows_processed_count"]
    assert stalled[0][1]["updated_at"] == stalled[0][2]["updated_at"]


def test_starting_in_a_run_matches_moving_to_it() -> None:
    with SelfHostedSandbox(sinks=12, seed=2, run=3) as started:
        expected = bodies(started)
    with SelfHostedSandbox(sinks=12, seed=2) as moved:
        moved.set_run(3)
        assert bodies(moved) == expected


# -- faults and latency -------------------------------------------------------------------


def test_faults_apply_to_the_self_hosted_routes(sb: SelfHostedSandbox) -> None:
    sink_id = sb.sink_ids[0]
    sb.set_faults(
        Faults(
            rules=(
                Rule(path="/api/sinks", kind="503", times=1),
                Rule(path=f"/api/sinks/{sink_id}/backfills", kind="401", times=1),
                Rule(path="/health", kind="html", times=1),
            ),
            not_found=frozenset({sink_id}),
        )
    )
    assert call(sb, "GET", "/api/sinks").status == 503
    assert call(sb, "GET", "/api/sinks").status == 200
    answer = call(sb, "GET", f"/api/sinks/{sink_id}/backfills")
    assert answer.status == 401
    assert answer.json() == {"summary": INVALID}  # the self-hosted server's words
    assert call(sb, "GET", f"/api/sinks/{sink_id}").status == 404
    assert sink_id in [s["id"] for s in sinks(sb)]
    answer = call(sb, "GET", "/health", token=None)
    assert answer.status == 502
    assert answer.headers["content-type"].startswith("text/html")
    sb.set_faults(Faults(rate_429=1.0, retry_after=3))
    answer = call(sb, "GET", "/api/postgres_databases")
    assert (answer.status, answer.headers["retry-after"]) == (429, "3")
    faulted = [r.fault for r in sb.requests]
    assert faulted.count("429") == 1
    assert faulted.count("503") == 1


def test_latency_delays_self_hosted_requests_concurrently() -> None:
    with SelfHostedSandbox(sinks=8, latency_ms=200) as sb:
        paths = [f"/api/sinks/{i}/backfills" for i in sb.sink_ids]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda p: call(sb, "GET", p), paths))
        assert [a.status for a in answers] == [200] * 8
        assert sb.stats().peak_in_flight >= 6
        assert all(r.end - r.start >= 0.19 for r in sb.requests)


# -- the command ----------------------------------------------------------------------------


def test_cli_serves_the_self_hosted_api_in_the_given_run() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_sequin.sandbox", "--api", "self-hosted", "--sinks", "5",
         "--run", "2", "--token", "t0k", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        port = int(url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/sinks", headers={"Authorization": "Bearer t0k"})
        served = json.loads(conn.getresponse().read())["data"]
        conn.close()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    with SelfHostedSandbox(sinks=5, seed=4, run=2) as sb:
        assert served == sinks(sb)
    assert served[1]["health"]["status"] == "error"  # run 2: the moving sink's incident


def test_cli_refuses_an_unknown_api_and_lists_the_self_hosted_admin_routes() -> None:
    from tap_sequin.sandbox.self_hosted.admin import ROUTES

    done = subprocess.run(
        [sys.executable, "-m", "tap_sequin.sandbox", "--api", "v2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "argument --api: invalid choice: 'v2'" in done.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "tap_sequin.sandbox", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tap_sequin.sandbox", "--secrets-in-clear"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "argument --secrets-in-clear: only with --api self-hosted" in done.stderr
    assert "--api {v1,self-hosted}" in shown
    for route, _ in ROUTES:
        assert route in shown


# -- the documentation --------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "sandbox.md"


def test_docs_list_every_self_hosted_admin_route_and_flag() -> None:
    from tap_sequin.sandbox.__main__ import build_parser
    from tap_sequin.sandbox.self_hosted.admin import ROUTES

    text = DOC.read_text()
    for route, _ in ROUTES:
        assert f"`{route}`" in text, route
    flags = set(re.findall(r"\| `(--[a-z0-9-]+)", text))
    known = {o for action in build_parser()._actions for o in action.option_strings}
    assert flags
    assert flags <= known
    for flag in re.findall(r"`(--[a-z0-9-]+)", text):
        assert flag in known, flag


def test_docs_curl_example_sets_a_check_as_shown() -> None:
    text = DOC.read_text()
    example = re.search(r'curl -s -X PATCH "\$URL(/_sandbox/sinks/[^"]+)" \\\n\s+-d \'(.+)\'', text)
    assert example is not None
    route, body = example.group(1), json.loads(example.group(2))
    with SelfHostedSandbox(sinks=12, seed=5) as sb:
        answer = call(sb, "PATCH", route, token=None, body=body)
        assert answer.status == 200
        health = answer.json()["health"]
        assert health["status"] == "error"
        assert body["check"] in health["checks"]
