"""The sandbox behaves like Sequin's v1 API over real loopback HTTP, faults included."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from tap_sequin.sandbox import (
    EXAMPLE_SYNC_ID,
    MASK,
    SECRET_MARKER,
    Faults,
    Rule,
    Sandbox,
    generate_syncs,
)

TOKEN = "sandbox-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLE_PATH = f"/v1/syncs/{EXAMPLE_SYNC_ID}"

# Copied by hand from the API reference page "Get a sync", as an oracle independent of the
# sandbox's own copy.
DOCUMENTED_EXAMPLE = """
{
  "id": "c906b4a4-0cda-4f46-bd80-255f570c195d",
  "provider": "stripe",
  "stream_id": "f0f70b52-5243-489c-879b-a1ae3f02abfd",
  "name": "Choam Corp - HubSpot Production",
  "status": "active",
  "org_id": "75958cea-c981-4116-9a0d-c1e99e826688",
  "health": {
    "status": "healthy",
    "sync_id": "c906b4a4-0cda-4f46-bd80-255f570c195d"
  },
  "collection_ids": ["hubspot:contact", "hubspot:company"],
  "rate_limit": {
    "allowed_requests": 1000,
    "interval": 60,
    "max_concurrent_requests": 0
  },
  "credential_id": "27879937-bd5d-490b-a943-edf486b04300",
  "credential": {
    "id": "27879937-bd5d-490b-a943-edf486b04300",
    "provider": "stripe",
    "properties": {
      "kind": "stripe_key",
      "name": "TEST ACCOUNT",
      "secret": "***********",
      "test": true
    },
    "oauth_app_id": null,
    "oauth_app": {
      "kind": "sequin"
    },
    "metadata": { "custom_credential_property": 42 },
    "created_at": "2023-12-15 01:29:29",
    "updated_at": "2023-12-15 01:29:29"
  },
  "max_age_days": 365,
  "sync_frequency": "continuous",
  "initial_backfill_completed_at": "2023-12-15 01:29:29",
  "metadata": { "custom_property": 42 },
  "created_at": "2023-12-15 01:29:29",
  "updated_at": "2023-12-15 01:29:29"
}
"""
# What the sandbox serves first: the documented example with its name and collections
# made to match its provider ("stripe"; the reference names HubSpot).
FIRST_SYNC = {
    **json.loads(DOCUMENTED_EXAMPLE),
    "name": "Choam Corp - Stripe Production",
    "collection_ids": ["stripe:customer", "stripe:invoice"],
}


class Answer:
    """A response read in full."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    sb: Sandbox,
    method: str,
    path: str,
    *,
    token: str | None = TOKEN,
    body: Any = None,
    conn: http.client.HTTPConnection | None = None,
) -> Answer:
    """One request, on `conn` if given (kept open) or on a fresh connection (closed)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        c.request(method, path, body=data, headers=headers)
        return Answer(c.getresponse())
    finally:
        if own:
            c.close()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(syncs=50, seed=1) as sandbox:
        yield sandbox


# -- the API as documented ---------------------------------------------------------------


def test_documented_example_is_served_as_documented_with_its_provider_s_name(
    sb: Sandbox,
) -> None:
    answer = call(sb, "GET", EXAMPLE_PATH)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert int(answer.headers["content-length"]) == len(answer.body)
    assert answer.json() == FIRST_SYNC
    assert list(answer.json()) == list(json.loads(DOCUMENTED_EXAMPLE))  # key order too


def test_list_returns_every_sync_in_list_order(sb: Sandbox) -> None:
    answer = call(sb, "GET", "/v1/syncs")
    assert answer.status == 200
    data = answer.json()["data"]
    assert list(answer.json()) == ["data"]
    assert [s["id"] for s in data] == sb.sync_ids
    assert len(data) == 50
    assert data[0] == FIRST_SYNC
    for sync in data[1:5]:
        assert call(sb, "GET", f"/v1/syncs/{sync['id']}").json() == sync


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_missing_or_wrong_token_gets_401(sb: Sandbox, token: str | None) -> None:
    for path in ("/v1/syncs", EXAMPLE_PATH, "/v1/syncs/nope"):
        answer = call(sb, "GET", path, token=token)
        assert answer.status == 401
        assert answer.json() == {"summary": "Your API key is wrong"}


def test_token_can_be_changed_and_revoked(sb: Sandbox) -> None:
    sb.set_token("new")
    assert call(sb, "GET", "/v1/syncs").status == 401
    assert call(sb, "GET", "/v1/syncs", token="new").status == 200
    sb.revoke_token()
    assert call(sb, "GET", "/v1/syncs", token="new").status == 401
    sb.set_faults(Faults(revoked=True))
    sb.set_token("again")
    assert call(sb, "GET", "/v1/syncs", token="again").status == 401


def test_unknown_sync_route_and_method(sb: Sandbox) -> None:
    missing = str(uuid.uuid4())
    answer = call(sb, "GET", f"/v1/syncs/{missing}")
    assert answer.status == 404
    assert missing in answer.json()["summary"]
    assert call(sb, "GET", "/v1/nothing").status == 404
    assert "summary" in call(sb, "GET", "/elsewhere", token=None).json()
    answer = call(sb, "PUT", EXAMPLE_PATH, body={})
    assert answer.status == 405
    assert "summary" in answer.json()
    assert "GET" in answer.headers["allow"]


def test_head_announces_the_body_without_sending_it(sb: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as s:
        s.sendall(f"HEAD {EXAMPLE_PATH} HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        s.sendall(f"GET {EXAMPLE_PATH} HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"}"):
            data += s.recv(65536)
    first, second = data.split(b"HTTP/1.1 200 OK")[1:]
    length = int(re.search(rb"content-length: (\d+)", first).group(1))  # type: ignore[union-attr]
    assert first.endswith(b"\r\n\r\n")  # no body after the HEAD answer
    assert len(second.split(b"\r\n\r\n", 1)[1]) == length


def test_malformed_request_gets_400_and_close(sb: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as s:
        s.sendall(b"NONSENSE\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400")
    assert b"summary" in data


# -- changing the world ----------------------------------------------------------------


def test_delete_over_api_and_in_process(sb: Sandbox) -> None:
    first, second = sb.sync_ids[1], sb.sync_ids[2]
    assert call(sb, "DELETE", f"/v1/syncs/{first}", token=None).status == 401
    assert call(sb, "DELETE", f"/v1/syncs/{first}").status == 200
    sb.delete_sync(second)
    assert call(sb, "GET", f"/v1/syncs/{first}").status == 404
    assert call(sb, "DELETE", f"/v1/syncs/{first}").status == 404
    ids = [s["id"] for s in call(sb, "GET", "/v1/syncs").json()["data"]]
    assert first not in ids
    assert second not in ids
    assert ids == sb.sync_ids
    assert len(ids) == 48


def test_patch_bumps_updated_at_and_list_reflects_it(sb: Sandbox) -> None:
    before = call(sb, "GET", EXAMPLE_PATH).json()
    answer = call(sb, "PATCH", EXAMPLE_PATH, body={"name": "Renamed", "status": "disabled"})
    assert answer.status == 200
    after = answer.json()
    assert after["name"] == "Renamed"
    assert after["status"] == "disabled"
    assert after["updated_at"] > before["updated_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", after["updated_at"])
    assert call(sb, "GET", "/v1/syncs").json()["data"][0] == after
    assert call(sb, "PATCH", EXAMPLE_PATH, body={"bogus": 1}).status == 422
    assert call(sb, "PATCH", EXAMPLE_PATH, body={"name": "x"}, token=None).status == 401


def test_health_changes_do_not_bump_updated_at(sb: Sandbox) -> None:
    sync_id = sb.sync_ids[3]
    before = call(sb, "GET", f"/v1/syncs/{sync_id}").json()
    after = call(sb, "PATCH", f"/v1/syncs/{sync_id}", body={"health": {"status": "error"}}).json()
    assert after["health"]["status"] == "error"
    assert after["updated_at"] == before["updated_at"]
    sb.update_sync(sync_id, health_status="warn")
    listed = call(sb, "GET", "/v1/syncs").json()["data"][3]
    assert listed["health"]["status"] == "warn"
    assert listed["updated_at"] == before["updated_at"]
    changed = sb.update_sync(sync_id, name="Edited", max_age_days=None)
    assert changed["updated_at"] > before["updated_at"]
    assert call(sb, "GET", f"/v1/syncs/{sync_id}").json() == changed


def test_added_sync_appears_at_the_end(sb: Sandbox) -> None:
    added = sb.add_sync()
    assert sb.sync_ids[-1] == added["id"]
    assert call(sb, "GET", "/v1/syncs").json()["data"][-1] == added
    created = call(sb, "POST", "/v1/syncs", body={"name": "Fresh"})
    assert created.status == 201
    assert sb.sync_ids[-1] == created.json()["id"]


# -- faults ------------------------------------------------------------------------------


def test_429_carries_retry_after_in_seconds_or_as_a_date(sb: Sandbox) -> None:
    sb.set_faults(Faults(rate_429=1.0, retry_after=2))
    answer = call(sb, "GET", EXAMPLE_PATH)
    assert answer.status == 429
    assert answer.headers["retry-after"] == "2"
    assert "summary" in answer.json()
    sb.set_faults(Faults(rate_429=1.0, retry_after=30, retry_after_date=True))
    when = parsedate_to_datetime(call(sb, "GET", "/v1/syncs").headers["retry-after"])
    assert 25 <= when.timestamp() - time.time() <= 31


def test_5xx_faults_use_gateway_statuses_with_summaries(sb: Sandbox) -> None:
    sb.set_faults(Faults(rate_5xx=1.0))
    statuses = set()
    for sync_id in sb.sync_ids[:30]:
        answer = call(sb, "GET", f"/v1/syncs/{sync_id}")
        assert "summary" in answer.json()
        statuses.add(answer.status)
    assert statuses <= {500, 502, 503, 504}
    assert len(statuses) >= 3


def test_dropped_connection_is_logged(sb: Sandbox) -> None:
    sb.set_faults(Faults(rules=(Rule(path=EXAMPLE_PATH, kind="drop", times=1),)))
    with pytest.raises(http.client.RemoteDisconnected):
        call(sb, "GET", EXAMPLE_PATH)
    assert call(sb, "GET", EXAMPLE_PATH).status == 200
    dropped, served = sb.requests
    assert (dropped.status, dropped.error, dropped.fault) == (None, "dropped", "drop")
    assert served.status == 200


def test_cut_body_is_shorter_than_announced(sb: Sandbox) -> None:
    sb.set_faults(Faults(rate_cut=1.0))
    with pytest.raises(http.client.IncompleteRead):
        call(sb, "GET", EXAMPLE_PATH)
    assert sb.requests[0].fault == "cut"


def test_html_and_empty_bodies(sb: Sandbox) -> None:
    sb.set_faults(Faults(rate_html=1.0))
    answer = call(sb, "GET", EXAMPLE_PATH)
    assert answer.status == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.body.startswith(b"<html>")
    sb.set_faults(Faults(rate_html200=1.0))
    answer = call(sb, "GET", "/v1/syncs")
    assert (answer.status, answer.headers["content-type"][:9]) == (200, "text/html")
    sb.set_faults(Faults(rate_empty=1.0))
    answer = call(sb, "GET", EXAMPLE_PATH)
    assert (answer.status, answer.body, answer.headers["content-length"]) == (200, b"", "0")


def test_slow_answer_does_not_hold_up_others(sb: Sandbox) -> None:
    sb.set_faults(Faults(rules=(Rule(path=EXAMPLE_PATH, kind="slow"),), slow_ms=600))
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(call, sb, "GET", EXAMPLE_PATH)
        time.sleep(0.05)
        assert call(sb, "GET", "/v1/syncs").status == 200
        assert slow.result().status == 200
    record = next(r for r in sb.requests if r.path == EXAMPLE_PATH)
    listing = next(r for r in sb.requests if r.path == "/v1/syncs")
    assert record.end - record.start >= 0.55
    # Served while the slow one was still waiting: it did not queue behind it.
    assert record.start < listing.start < listing.end < record.end


def test_chosen_ids_answer_404_but_stay_listed(sb: Sandbox) -> None:
    gone = sb.sync_ids[5]
    sb.set_faults(Faults(not_found=[gone]))
    assert call(sb, "GET", f"/v1/syncs/{gone}").status == 404
    assert gone in [s["id"] for s in call(sb, "GET", "/v1/syncs").json()["data"]]


def test_rule_fails_the_first_times_then_serves(sb: Sandbox) -> None:
    other = f"/v1/syncs/{sb.sync_ids[1]}"
    sb.set_faults(Faults(rules=[Rule(path=EXAMPLE_PATH, kind="503", times=2)]))
    assert [call(sb, "GET", EXAMPLE_PATH).status for _ in range(4)] == [503, 503, 200, 200]
    assert call(sb, "GET", other).status == 200
    sb.set_faults(Faults(rules=[Rule(path="/v1/syncs/*", kind="500", times=1, per_path=True)]))
    assert [call(sb, "GET", p).status for p in (other, other, EXAMPLE_PATH)] == [500, 200, 500]
    sb.set_faults(Faults(rules=[Rule(path=re.compile(r"/v1/syncs"), kind="401")]))
    assert call(sb, "GET", "/v1/syncs").json() == {"summary": "Your API key is wrong"}
    assert call(sb, "GET", EXAMPLE_PATH).status == 200


def faulted(seed: int) -> list[tuple[str, str | None]]:
    faults = Faults(rate_429=0.2, rate_5xx=0.2, rate_empty=0.1)
    with Sandbox(syncs=30, seed=seed, faults=faults) as sandbox:
        paths = [f"/v1/syncs/{i}" for i in sandbox.sync_ids] * 2 + ["/v1/syncs"] * 5

        def get(path: str) -> None:
            call(sandbox, "GET", path)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(get, paths))
        records = sorted(sandbox.requests, key=lambda r: (r.path, str(r.fault)))
        return [(r.path, r.fault) for r in records]


def test_faults_are_deterministic_under_a_seed_even_when_concurrent() -> None:
    first, again, other = faulted(7), faulted(7), faulted(8)
    assert first == again
    assert first != other
    assert 0.2 < sum(f is not None for _, f in first) / len(first) < 0.8


def test_list_endpoint_gets_faults_too(sb: Sandbox) -> None:
    sb.set_faults(Faults(rules=[Rule(path="/v1/syncs", kind="502", times=1)]))
    assert call(sb, "GET", "/v1/syncs").status == 502
    assert call(sb, "GET", "/v1/syncs").status == 200


# -- timing, concurrency and the log ---------------------------------------------------


def test_latency_overlaps_across_connections() -> None:
    with Sandbox(syncs=10, latency_ms=200) as sandbox:
        ids = sandbox.sync_ids[:8]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: call(sandbox, "GET", f"/v1/syncs/{i}"), ids))
        assert [a.status for a in answers] == [200] * 8
        # The 200 ms waits overlapped instead of running one after another.
        assert sandbox.stats().peak_in_flight >= 6
        assert all(r.end - r.start >= 0.19 for r in sandbox.requests)


def test_log_records_each_request_on_its_connection(sb: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    try:
        call(sb, "GET", EXAMPLE_PATH, conn=conn)
        call(sb, "GET", "/v1/syncs?x=1", conn=conn)
        call(sb, "GET", EXAMPLE_PATH, token="bad", conn=conn)
    finally:
        conn.close()
    call(sb, "GET", EXAMPLE_PATH)
    log = sb.requests
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", EXAMPLE_PATH, 200),
        ("GET", "/v1/syncs", 200),
        ("GET", EXAMPLE_PATH, 401),
        ("GET", EXAMPLE_PATH, 200),
    ]
    assert log[1].query == "x=1"
    assert len({r.connection for r in log[:3]}) == 1
    assert log[3].connection != log[0].connection
    assert all(r.start <= r.end <= time.monotonic() for r in log)
    assert sb.stats()["requests"] == 4
    sb.clear_log()
    assert sb.requests == []


def test_keep_alive_requests_do_not_stall(sb: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    try:
        for _ in range(50):
            assert call(sb, "GET", EXAMPLE_PATH, conn=conn).status == 200
            assert call(sb, "PATCH", EXAMPLE_PATH, body={"name": "n"}, conn=conn).status == 200
    finally:
        conn.close()
    log = sb.requests
    assert len({r.connection for r in log}) == 1
    # From one answer written to the next request read: a Nagle/delayed-ACK stall makes
    # that 40 ms every time; the median is robust to a busy machine's odd hiccup.
    gaps = sorted(b.start - a.end for a, b in itertools.pairwise(log))
    assert gaps[len(gaps) // 2] < 0.02


def test_connection_close_is_honoured(sb: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as s:
        s.sendall(
            f"GET /v1/syncs HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := s.recv(65536):  # ends only if the server closes
            data += chunk
    assert b"connection: close" in data.split(b"\r\n\r\n")[0]


def test_admin_routes_drive_a_running_sandbox(sb: Sandbox) -> None:
    def admin(method: str, path: str, body: Any = None) -> Any:
        return call(sb, method, f"/_sandbox/{path}", token=None, body=body).json()

    admin("POST", "faults", {"rules": [{"path": EXAMPLE_PATH, "kind": "504", "times": 1}]})
    assert call(sb, "GET", EXAMPLE_PATH).status == 504
    assert [r["status"] for r in admin("GET", "log")["data"]] == [504]
    assert admin("GET", "stats")["requests"] == 1
    admin("POST", "token", {"token": None})
    assert call(sb, "GET", EXAMPLE_PATH).status == 401
    admin("DELETE", "log")
    assert sb.requests == []


def test_admin_patch_replaces_each_field_health_included(sb: Sandbox) -> None:
    sync_id = sb.sync_ids[4]
    path = f"/_sandbox/syncs/{sync_id}"
    before = sb.sync(sync_id)

    def patch(body: Any) -> Answer:
        return call(sb, "PATCH", path, token=None, body=body)

    replaced = {"status": "warn", "provider": {"status": "warn", "notes": ["slow"]}}
    assert patch({"health": replaced}).json()["health"] == replaced, "replaced, not merged"
    assert patch({"health": "healthy"}).json()["health"] == "healthy"  # a wrong shape, served
    assert patch({"health": None}).json()["health"] is None
    assert sb.sync(sync_id)["health"] is None
    assert call(sb, "GET", f"/v1/syncs/{sync_id}").json()["health"] is None
    assert patch({"health_status": "error"}).json()["health"] == {"status": "error"}
    assert sb.sync(sync_id)["updated_at"] == before["updated_at"], "health is no edit"
    assert patch({"metadata": None}).json()["metadata"] is None

    for body in ([1], "x", 3):
        answer = patch(body)
        assert answer.status == 400
        assert answer.json() == {"summary": "Bad admin request: the body must be a JSON object"}
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        conn.request("PATCH", path, body=b"{not json")
        answer = Answer(conn.getresponse())
    finally:
        conn.close()
    assert answer.status == 400
    assert answer.json() == {"summary": "Bad admin request: the body is not JSON"}


def test_start_and_stop_are_idempotent_and_leave_no_thread() -> None:
    threads = threading.active_count()
    sandbox = Sandbox(syncs=3)
    sandbox.start()
    sandbox.start()
    port = sandbox.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    call(sandbox, "GET", "/v1/syncs", conn=conn)  # a connection still open at stop
    sandbox.stop()
    sandbox.stop()
    conn.close()
    assert threading.active_count() == threads
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# -- the data set ----------------------------------------------------------------------


def test_generated_syncs_are_deterministic_and_varied() -> None:
    syncs = generate_syncs(60, seed=3)
    assert syncs == generate_syncs(60, seed=3)
    assert syncs[1:] != generate_syncs(60, seed=4)[1:]
    assert syncs[0] == FIRST_SYNC
    for sync in syncs:  # a name and collections that match the provider
        label = sync["provider"].replace("_", " ").title().replace(" ", "_")
        assert f" - {label} " in sync["name"], (sync["provider"], sync["name"])
        assert all(c.startswith(f"{sync['provider']}:") for c in sync["collection_ids"])
    ids = [s["id"] for s in syncs]
    assert len(set(ids)) == 60
    assert all(str(uuid.UUID(i)) == i for i in ids)
    kinds = {s["credential"]["properties"]["kind"] for s in syncs}
    documented = {
        "stripe_key",
        "airtable_oauth2",
        "github_app",
        "checkout_champ_password",
        "hubspot_oauth2",
        "linear_oauth2",
        "stripe_oauth2",
    }
    assert documented <= kinds
    clear, masked = set(), set()
    for sync in syncs:
        for key, value in _leaves(sync["credential"]["properties"]):
            if value == MASK:
                masked.add(key)
            elif isinstance(value, str) and SECRET_MARKER in value:
                clear.add(key)
    secret_keys = {"secret", "password", "refresh_token", "access_token", "client_secret"}
    assert secret_keys | {"api_key", "token"} <= clear
    assert secret_keys <= masked
    for field in ("max_age_days", "initial_backfill_completed_at", "metadata"):
        values = [s[field] for s in syncs]
        assert None in values
        assert any(v is not None for v in values)
    assert {s["status"] for s in syncs} == {"active", "disabled"}
    assert {"healthy", "error", "warn"} <= {s["health"]["status"] for s in syncs}
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    assert all(stamp.fullmatch(s["created_at"]) for s in syncs)
    assert all(s["created_at"] <= s["updated_at"] for s in syncs)
    assert all(re.fullmatch(r"[a-z_]+:[a-z_]+", c) for s in syncs for c in s["collection_ids"])


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    else:
        yield key, value


def test_ten_thousand_syncs_are_quick_to_generate() -> None:
    started = time.process_time()
    syncs = generate_syncs(10_000, seed=1)
    assert time.process_time() - started < 1.0
    assert len({s["id"] for s in syncs}) == 10_000


# -- the command line ------------------------------------------------------------------


def test_cli_prints_url_serves_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "tap_sequin.sandbox", "--port", "0", "--syncs", "5"]
    command += ["--rule", f"{EXAMPLE_PATH}=503*1", "--log", str(log)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        port = int(url.rsplit(":", 1)[1])
        for expected in (503, 200):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", EXAMPLE_PATH, headers=AUTH)
                assert conn.getresponse().status == expected
            finally:
                conn.close()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["method"], r["path"], r["status"]) for r in lines] == [
        ("GET", EXAMPLE_PATH, 503),
        ("GET", EXAMPLE_PATH, 200),
    ]
    assert all(r["start"] <= r["end"] for r in lines)


def test_cli_rejects_impossible_fault_rates() -> None:
    command = [sys.executable, "-m", "tap_sequin.sandbox", "--rate-429", "0.7", "--rate-5xx", "0.7"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "sum to at most 1" in result.stderr


def test_cli_flags_map_onto_faults() -> None:
    from tap_sequin.sandbox.__main__ import build_parser, faults_from_args

    flags = "--rate-drop 0.05 --rate-html-200 0.1 --slow-ms 250 --rule /v1/syncs/abc=503*2"
    flags += " --rule /v1/syncs*=drop --not-found a b"
    args = build_parser().parse_args(flags.split())
    faults = faults_from_args(args)
    assert (faults.rate_drop, faults.rate_html200, faults.slow_ms) == (0.05, 0.1, 250.0)
    assert faults.not_found == frozenset({"a", "b"})
    assert faults.rules == (
        Rule(path="/v1/syncs/abc", kind="503", times=2),
        Rule(path="/v1/syncs*", kind="drop"),
    )
    assert Faults.from_dict(faults.to_dict()) == faults
    with pytest.raises(ValueError, match="unknown fault kind"):
        Rule(kind="teapot")


def test_serves_a_given_list_of_syncs() -> None:
    syncs = generate_syncs(3, seed=9)
    syncs[1]["name"] = "Mine"
    with Sandbox(syncs=syncs) as sandbox:
        syncs[1]["name"] = "changed after start"  # the sandbox keeps its own copy
        assert sandbox.sync_ids == [s["id"] for s in syncs]
        assert call(sandbox, "GET", f"/v1/syncs/{syncs[1]['id']}").json()["name"] == "Mine"


# -- health shapes, runs and credentials --------------------------------------------------


def test_both_documented_health_shapes_and_external_ids_are_served(sb: Sandbox) -> None:
    syncs = call(sb, "GET", "/v1/syncs").json()["data"]
    current = [s["health"] for s in syncs if set(s["health"]) == {"status", "sync_id"}]
    older = [s["health"] for s in syncs if set(s["health"]) == {"status", "credential", "provider"}]
    assert len(current) + len(older) == len(syncs)
    assert current
    assert older
    for health in older:
        assert set(health["credential"]) == {"status", "notes", "time"}
        assert set(health["provider"]) == {"status", "notes"}  # the provider part has no time
    assert any(h["provider"]["notes"] for h in older), "some unhealthy sync says why"
    external = [s["external_id"] for s in syncs if "external_id" in s]
    assert 0 < len(external) < len(syncs)
    assert len(set(external)) == len(external)


def test_run_number_moves_some_syncs_health_deterministically() -> None:
    by_run = {}
    for run in range(1, 9):
        with Sandbox(syncs=10, seed=4, run=run) as sandbox:
            by_run[run] = {
                s["id"]: s["health"]["status"] for s in map(sandbox.sync, sandbox.sync_ids)
            }
    moved = {i for i in by_run[1] if len({by_run[r][i] for r in by_run}) > 1}
    assert len(moved) == 2
    first = list(by_run[1])[2]
    statuses = [by_run[run][first] for run in range(1, 9)]
    assert statuses == [
        "healthy",
        "error",
        "error",
        "healthy",
        "healthy",
        "error",
        "error",
        "healthy",
    ]
    # Syncs that do not move keep their generated health in every run.
    for sync_id in set(by_run[1]) - moved:
        assert {by_run[r][sync_id] for r in by_run} == {by_run[1][sync_id]}


def test_set_run_on_a_running_sandbox_matches_starting_in_that_run() -> None:
    with Sandbox(syncs=10, seed=4) as running, Sandbox(syncs=10, seed=4, run=3) as third:
        running.set_run(3)
        assert call(running, "GET", "/v1/syncs").body == call(third, "GET", "/v1/syncs").body
        assert (
            call(running, "GET", "/v1/credentials").body
            == call(third, "GET", "/v1/credentials").body
        )


def test_credentials_cover_every_documented_kind_healthy_and_not_masked_and_clear(
    sb: Sandbox,
) -> None:
    from tap_sequin.sandbox.credentials import DOCUMENTED_KINDS, OAUTH_MASK

    answer = call(sb, "GET", "/v1/credentials")
    assert answer.status == 200
    credentials = answer.json()["data"]
    assert len({c["id"] for c in credentials}) == len(credentials)
    used = {s["credential_id"] for s in map(sb.sync, sb.sync_ids)}
    assert used <= {c["id"] for c in credentials}
    for kind, _ in DOCUMENTED_KINDS:
        of_kind = [c for c in credentials if c["properties"]["kind"] == kind]
        assert {c["health"]["status"] for c in of_kind} >= {"ok", "error"}, kind
    for credential in credentials:
        assert set(credential["health"]) == {"status", "notes", "time"}
    unhealthy = [c for c in credentials if c["health"]["status"] != "ok"]
    assert all(c["health"]["notes"] for c in unhealthy)
    leaves = [value for c in credentials for _, value in _leaves(c)]
    assert MASK in leaves
    assert OAUTH_MASK in leaves
    assert any(isinstance(v, str) and SECRET_MARKER in v for v in leaves)
    oauth_apps = [c["oauth_app"] for c in credentials if c["oauth_app_id"]]
    assert oauth_apps
    assert all("client_secret" in app for app in oauth_apps)


def test_credentials_need_the_token_and_follow_the_syncs_health(sb: Sandbox) -> None:
    assert call(sb, "GET", "/v1/credentials", token="wrong").status == 401
    sync = sb.sync(sb.sync_ids[3])
    sb.set_health(sync["id"], {"status": "warn", "credential": {"status": "error", "notes": ["x"]}})
    listed = {c["id"]: c for c in call(sb, "GET", "/v1/credentials").json()["data"]}
    assert listed[sync["credential_id"]]["health"]["status"] == "error"
    assert listed[sync["credential_id"]]["health"]["notes"] == ["x"]


def test_cli_run_option_is_validated() -> None:
    from tap_sequin.sandbox.__main__ import build_parser

    assert build_parser().parse_args([]).run == 1
    command = [sys.executable, "-m", "tap_sequin.sandbox", "--run", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "--run" in result.stderr
