"""``tap-sequin --test``: one attempt, a short timeout, and the cause named in one line."""

from __future__ import annotations

import socket
import typing as t
from pathlib import Path

import pytest

from tap_sequin.sandbox import Faults, Rule, Sandbox

from .conftest import TOKEN, config_for, make_sandbox, run_cli
from .rawhttp import Answer, RawServer, Request


def _check(config: dict[str, t.Any], tmp_path: Path) -> tuple[int, str, str]:
    run = run_cli(config, tmp_path, "--test", timeout=60)
    assert TOKEN not in run.stdout + run.stderr
    return run.status, run.stdout.strip(), run.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_misspelt_host_is_named_as_a_dns_failure_after_one_attempt(tmp_path: Path) -> None:
    config = {"api_key": TOKEN, "base_url": "https://api.sequinn.invalid", "max_retries": 5}

    status, out, err = _check(config, tmp_path)

    assert status == 1
    assert out.startswith("FAILED:")
    assert "DNS lookup of api.sequinn.invalid failed" in out
    assert "GET /v1/syncs" in out
    assert "retrying" not in err


def test_a_refused_connection_is_named(tmp_path: Path) -> None:
    config = {"api_key": TOKEN, "base_url": f"http://127.0.0.1:{_closed_port()}"}

    status, out, err = _check(config, tmp_path)

    assert status == 1
    assert "refused" in out
    assert "retrying" not in err


@pytest.mark.parametrize("code", ["401", "403"])
def test_a_refused_token_is_named(code: str, tmp_path: Path) -> None:
    with make_sandbox(syncs=3, faults=Faults(rules=(Rule("*", code),))) as sb:
        status, out, _ = _check(config_for(sb), tmp_path)
        asked = len(sb.requests)

    assert status == 1
    assert f"HTTP {code}" in out
    assert "api_key" in out
    assert asked == 1


@pytest.mark.parametrize("sync_ids", [None, ["c906b4a4"]], ids=["listing", "sync_ids"])
def test_a_wrong_base_url_path_is_a_404_on_the_path_naming_base_url(
    sync_ids: list[str] | None, sandbox: Sandbox, tmp_path: Path
) -> None:
    # The server's generic route 404 ({"summary": "Not found"}), not "no such sync".
    config = config_for(sandbox, base_url=f"{sandbox.url}/sequin", sync_ids=sync_ids)

    status, out, _ = _check(config, tmp_path)

    assert status == 1
    assert "HTTP 404" in out
    assert "GET /sequin/v1/syncs" in out
    assert "base_url" in out
    assert len(sandbox.requests) == 1


def test_a_missing_sync_is_named_with_sync_ids(sandbox: Sandbox, tmp_path: Path) -> None:
    status, out, _ = _check(config_for(sandbox, sync_ids=["no-such-sync"]), tmp_path)

    assert status == 1
    assert "accepted the token" in out
    assert "sync no-such-sync is not found" in out
    assert "sync_ids" in out


def test_a_5xx_is_not_retried(tmp_path: Path) -> None:
    with make_sandbox(syncs=3, faults=Faults(rules=(Rule("*", "503"),))) as sb:
        status, out, _ = _check(config_for(sb, max_retries=5), tmp_path)
        asked = len(sb.requests)

    assert status == 1
    assert "HTTP 503" in out
    assert asked == 1


def test_the_check_waits_at_most_ten_seconds_for_its_answer(tmp_path: Path) -> None:
    def never(request: Request) -> Answer:
        return b"", "hold"  # reads the request, never answers

    with RawServer(never) as server:
        config = {"api_key": TOKEN, "base_url": server.url, "request_timeout": 300}
        status, out, _ = _check(config, tmp_path)
        asked = len(server.requests)

    assert status == 1
    # The limit is --test's own, not a request_timeout the user set.
    assert "no complete answer within 8s, --test's own limit" in out
    assert "request_timeout" not in out
    assert asked == 1


def test_https_to_a_plain_http_port_names_the_likely_cause(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    https = sandbox.url.replace("http://", "https://")
    config = config_for(sandbox, base_url=https, request_timeout=30)
    status, out, _ = _check(config, tmp_path)

    assert status == 1
    assert "plain HTTP" in out
    assert "base_url should start with http://" in out


def test_one_visible_sync_is_singular(tmp_path: Path) -> None:
    with make_sandbox(syncs=1) as sb:
        status, out, _ = _check(config_for(sb), tmp_path)
    assert status == 0
    assert "accepted the token; 1 sync is visible" in out


def test_the_check_says_ok_with_the_count(sandbox: Sandbox, tmp_path: Path) -> None:
    status, out, _ = _check(config_for(sandbox), tmp_path)

    assert status == 0
    assert out.startswith("OK:")
    assert "12 syncs are visible" in out


def test_an_unreachable_proxy_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
    run = run_cli(config_for(sandbox), tmp_path, "--test", env=env)

    assert run.status == 1
    assert "proxy in HTTPS_PROXY/HTTP_PROXY/ALL_PROXY" in run.stdout
    assert sandbox.requests == []
