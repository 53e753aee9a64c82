"""The README's failure table on the wire, against the sandbox and small loopback servers.

(How each answer is judged is unit-tested with requests-mock in test_judging.)"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import typing as t
from pathlib import Path

import pytest
import requests

from tap_sequin.client.session import WireFailure, describe
from tap_sequin.errors import AuthError, RetriesExhausted, SequinAPIError
from tap_sequin.sandbox import Faults, Rule, Sandbox, generate_syncs

from .conftest import (
    TOKEN,
    config_for,
    make_sandbox,
    run_cli,
    run_in_process,
)


def _paths(sandbox: Sandbox, path: str) -> list[t.Any]:
    return [r for r in sandbox.requests if r.path == path]


@pytest.mark.parametrize("status", ["401", "403"])
def test_refused_token_stops_at_once_naming_api_key(status: str, tmp_path: Path) -> None:
    with make_sandbox(syncs=40, faults=Faults(rules=(Rule(path="*", kind=status),))) as sb:
        run = run_cli(config_for(sb, sync_ids=sb.sync_ids), tmp_path)
        requests = len(sb.requests)

    assert run.status == 1
    assert "api_key" in run.last_stderr_line
    assert f"HTTP {status}" in run.last_stderr_line
    assert TOKEN not in run.stdout + run.stderr
    # No retries and no storm: at most the requests already in flight (8 workers).
    assert requests <= 8
    assert run.records == []


def test_token_revoked_mid_run_stops_promptly_without_a_retry_storm() -> None:
    with make_sandbox(syncs=300, latency_ms=5) as sb:
        ids = sb.sync_ids
        rule = Rule(path=f"/v1/syncs/{ids[100]}", kind="401")
        sb.set_faults(Faults(rules=(rule,), not_found=()))
        with pytest.raises(AuthError) as caught:
            run_in_process(config_for(sb, sync_ids=ids))
        after = [r for r in sb.requests if r.status == 401]

    assert "api_key" in str(caught.value)
    assert ids[100] in str(caught.value)
    assert len(after) == 1
    assert len(sb.requests) < 100 + 2 * 8 + 1


def test_not_found_id_is_warned_and_the_others_are_extracted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    ids = sandbox.sync_ids[:4]
    sandbox.set_faults(Faults(not_found=frozenset({ids[1]})))

    run = run_cli(config_for(sandbox, sync_ids=ids), tmp_path)

    assert run.status == 0
    assert run.ids == [ids[0], ids[2], ids[3]]
    assert any(ids[1] in line and "not found" in line for line in run.stderr.splitlines())
    assert "1 not found" in run.last_stderr_line


def test_a_404_that_does_not_name_the_sync_extracts_the_rest_then_fails(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # A bare {"summary": "Not found"} is what a wrong path gets; it does not say the sync
    # is gone, so the run must not stay green, yet the other syncs are loaded.
    ids = sandbox.sync_ids[:4]
    sandbox.set_faults(Faults(rules=(Rule(f"/v1/syncs/{ids[1]}", "404", times=10),)))

    run = run_cli(config_for(sandbox, sync_ids=ids), tmp_path)

    assert run.status == 1
    assert run.ids == [ids[0], ids[2], ids[3]]
    assert [h["sync_id"] for h in run.records_of("sync_health_history")] == run.ids
    last = run.last_stderr_line
    assert last.startswith(f"tap-sequin: error: sync {ids[1]}: HTTP 404 that does not say")
    assert f"GET /v1/syncs/{ids[1]}," in last  # the path asked for, not a template
    assert "check sync_ids and base_url" in last.lower()
    assert run.of_type("STATE"), "a final STATE still goes out"


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
def test_429_waits_what_retry_after_says(as_date: bool) -> None:
    with make_sandbox(syncs=3) as sb:
        target = f"/v1/syncs/{sb.sync_ids[0]}"
        sb.set_faults(
            Faults(retry_after=1, retry_after_date=as_date, rules=(Rule(target, "429", times=1),))
        )
        run = run_in_process(config_for(sb, sync_ids=sb.sync_ids[:1]))
        first, second = _paths(sb, target)

    assert first.status == 429
    assert second.status == 200
    # An HTTP date has one-second resolution: it may round the wait down by up to 1 s.
    assert second.start - first.end >= (0.0 if as_date else 0.95)
    assert run.ids == sb.sync_ids[:1]


def test_429_slows_the_whole_client_not_only_the_request() -> None:
    with make_sandbox(syncs=12, latency_ms=50) as sb:
        ids = sb.sync_ids
        sb.set_faults(Faults(retry_after=1, rules=(Rule(f"/v1/syncs/{ids[0]}", "429", times=1),)))
        run = run_in_process(config_for(sb, sync_ids=ids, max_concurrent_requests=2))
        log = [r for r in sb.requests if r.path.startswith("/v1/syncs/")]

    limited = next(r for r in log if r.status == 429)
    # Other workers' requests already on the wire may finish; none may *start* during
    # the pause, except one the other worker sent before this one had read its 429.
    quiet = [r for r in log if limited.end + 0.05 < r.start < limited.end + 0.95]
    assert len(quiet) <= 1
    assert len([r for r in log if r.start > limited.end + 0.95]) >= 8
    assert len(log) == len(ids) + 1
    assert run.ids == ids


@pytest.mark.parametrize("kind", ["503", "500", "drop", "cut", "html", "html200", "empty"])
def test_transient_failures_are_retried_then_succeed(kind: str) -> None:
    with make_sandbox(syncs=4) as sb:
        target = f"/v1/syncs/{sb.sync_ids[2]}"
        sb.set_faults(Faults(rules=(Rule(target, kind, times=2),)))
        run = run_in_process(config_for(sb, sync_ids=sb.sync_ids))
        attempts = len(_paths(sb, target))

    assert run.ids == sb.sync_ids
    assert attempts == 3


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("503", "HTTP 503"),
        ("drop", "connection closed before an answer"),
        ("cut", "body cut off"),
        ("html200", "content-type text/html"),
        ("empty", "HTTP 200 with a body that is not JSON"),
    ],
)
def test_persistent_failure_names_the_id_and_the_last_problem(
    kind: str, expected: str, tmp_path: Path
) -> None:
    with make_sandbox(syncs=4) as sb:
        bad = sb.sync_ids[1]
        sb.set_faults(Faults(rules=(Rule(f"/v1/syncs/{bad}", kind),)))
        run = run_cli(config_for(sb, sync_ids=sb.sync_ids, max_retries=2), tmp_path)
        attempts = len(_paths(sb, f"/v1/syncs/{bad}"))

    assert run.status == 1
    line = run.last_stderr_line
    assert f"sync {bad}" in line
    assert expected in line
    assert "3 attempts" in line
    assert attempts == 3
    # Records before the failing id were delivered; nothing after it is invented;
    # the run still ends its output with a STATE message.
    assert run.ids == [sb.sync_ids[0]]
    assert run.messages[-1]["type"] == "STATE"


def test_slow_answers_past_request_timeout_are_retried_then_fail_never_hang() -> None:
    with make_sandbox(syncs=2) as sb:
        bad = sb.sync_ids[0]
        sb.set_faults(Faults(slow_ms=3000, rules=(Rule(f"/v1/syncs/{bad}", "slow"),)))
        # Had the timeout not cut the wait short, the 3 s answer would have been a 200.
        with pytest.raises(RetriesExhausted) as caught:
            run_in_process(config_for(sb, sync_ids=[bad], request_timeout=0.3, max_retries=1))

    assert "request_timeout" in str(caught.value)
    assert "2 attempts" in str(caught.value)
    assert bad in str(caught.value)


def test_error_body_summary_is_quoted() -> None:
    with make_sandbox(syncs=2) as sb:
        bad = sb.sync_ids[0]
        sb.set_faults(Faults(rules=(Rule(f"/v1/syncs/{bad}", "400"),)))
        with pytest.raises(SequinAPIError) as caught:
            run_in_process(config_for(sb, sync_ids=[bad]))

    message = str(caught.value)
    assert "HTTP 400" in message
    assert '"' in message  # the summary, in quotes
    assert bad in message


def test_listing_that_fails_is_a_clear_error_and_activates_nothing(tmp_path: Path) -> None:
    with make_sandbox(syncs=5) as sb:
        sb.set_faults(Faults(rules=(Rule("/v1/syncs", "503"),)))
        run = run_cli(config_for(sb, max_retries=1), tmp_path)

    assert run.status == 1
    assert "GET /v1/syncs" in run.last_stderr_line
    assert run.of_stream("ACTIVATE_VERSION", "syncs") == []
    assert run.records == []


def test_listing_with_a_malformed_body_is_a_clear_error(tmp_path: Path) -> None:
    with make_sandbox(syncs=5) as sb:
        sb.set_faults(Faults(rules=(Rule("/v1/syncs", "html200"),)))
        run = run_cli(config_for(sb, max_retries=0), tmp_path)

    assert run.status == 1
    assert "GET /v1/syncs" in run.last_stderr_line
    assert "text/html" in run.last_stderr_line
    assert run.of_stream("ACTIVATE_VERSION", "syncs") == []


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: t.ClassVar[list[dict[str, str]]] = []
    redirect_to = ""

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: t.Any) -> None:
        pass


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_redirect_to_another_host_does_not_carry_the_token() -> None:
    other = type("Other", (_Recorder,), {"seen": [], "redirect_to": ""})
    elsewhere = _serve(other)
    origin = type(
        "Origin",
        (_Recorder,),
        {"seen": [], "redirect_to": f"http://localhost:{elsewhere.server_port}"},
    )
    first = _serve(origin)
    try:
        config = config_for_url(f"http://127.0.0.1:{first.server_port}", sync_ids=["abc"])
        with pytest.raises(SequinAPIError) as caught:
            run_in_process(config)
    finally:
        for server in (first, elsewhere):
            server.shutdown()
            server.server_close()

    assert origin.seen
    assert origin.seen[0]["Authorization"] == f"Bearer {TOKEN}"
    assert all("Authorization" not in h for h in other.seen)
    assert "redirect to another host" in str(caught.value)
    assert "base_url" in str(caught.value)


def config_for_url(url: str, **overrides: t.Any) -> dict[str, t.Any]:
    return {"api_key": TOKEN, "base_url": url, "retry_backoff_seconds": 0.01, **overrides}


def test_listing_item_without_an_id_is_skipped_and_deletes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = generate_syncs(2, 1)
    body = json.dumps({"data": [good[0], {"name": "no id here"}, good[1]]}).encode()

    class Listing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: t.Any) -> None:
            pass

    server = _serve(Listing)
    try:
        run = run_in_process(config_for_url(f"http://127.0.0.1:{server.server_port}"))
    finally:
        server.shutdown()
        server.server_close()

    assert run.ids == [good[0]["id"], good[1]["id"]]
    assert run.of_type("ACTIVATE_VERSION") == []
    assert any("listing item 1" in r.getMessage() for r in caplog.records)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("case", ["dns", "refused"])
def test_a_host_that_does_not_exist_or_a_closed_local_port_fails_at_once_naming_base_url(
    case: str, tmp_path: Path
) -> None:
    # Neither is fixed by waiting: the DNS said the name does not exist, and nothing
    # listens on that port of this machine. Retries would only delay the hint.
    url = "https://api.sequinn.invalid" if case == "dns" else f"http://127.0.0.1:{_closed_port()}"
    expected = (
        "DNS lookup of api.sequinn.invalid failed (no such host)"
        if case == "dns"
        else "connection to 127.0.0.1 refused"
    )

    config = config_for_url(url, sync_ids=["abc"], max_retries=5, retry_backoff_seconds=2)
    run = run_cli(config, tmp_path)

    assert run.status == 1
    line = run.last_stderr_line
    assert line.startswith("tap-sequin: error: ")
    assert expected in line
    assert "check base_url" in line
    assert "max_retries" not in line
    assert "request_timeout" not in line
    assert "retrying" not in run.stderr


def _wire_failure(*chain: BaseException) -> WireFailure:
    # requests wraps urllib3's error, which wraps the socket's: as a real failure nests them.
    inner: BaseException = chain[-1]
    for outer in reversed(chain[:-1]):
        outer.__cause__ = inner
        inner = outer
    return describe(requests.exceptions.ConnectionError(inner), "api.example.com", 30)


def test_failures_that_may_pass_are_still_retried() -> None:
    lookup_failed = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    assert _wire_failure(OSError("lookup"), lookup_failed).retryable
    remote_refusal = ConnectionRefusedError(111, "Connection refused")
    assert _wire_failure(OSError("connect"), remote_refusal).retryable
    no_such_name = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert not _wire_failure(OSError("lookup"), no_such_name).retryable


def test_a_failing_stream_loses_no_other_stream_and_the_run_fails_naming_it(
    tmp_path: Path,
) -> None:
    with make_sandbox(syncs=5) as sb:
        sb.set_faults(Faults(rules=(Rule("/v1/credentials", "503"),)))
        run = run_cli(config_for(sb, max_retries=1), tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: credentials listing")
    # Every sync and its history are out, with their soft deletes; credentials get none.
    assert sorted(run.ids) == sorted(sb.sync_ids)
    assert len(run.records_of("sync_health_history")) == 5
    assert run.of_stream("ACTIVATE_VERSION", "syncs")
    assert run.of_stream("ACTIVATE_VERSION", "credentials") == []
    assert run.messages[-1]["type"] == "STATE"


def test_a_failing_self_hosted_stream_loses_no_other_stream(tmp_path: Path) -> None:
    from tap_sequin.sandbox import SelfHostedSandbox

    from .conftest import self_hosted_config_for

    with SelfHostedSandbox(sinks=12, seed=1, run=2, token=TOKEN) as sb:
        sb.set_faults(Faults(rules=(Rule("/api/postgres_databases", "500"),)))
        run = run_cli(self_hosted_config_for(sb, max_retries=1), tmp_path)

    assert run.status == 1
    assert "postgres_databases" in run.last_stderr_line
    assert len(run.records_of("sinks")) == 12
    assert len(run.records_of("sink_health_history")) == 12
    assert run.records_of("backfills")
    assert run.records_of("http_endpoints")
