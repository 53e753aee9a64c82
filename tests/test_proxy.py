"""Proxy variables from the environment behave as requests documents them.

``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` with or without ``user:password@``,
``NO_PROXY`` with host names or CIDR blocks. (HTTPS through a CONNECT tunnel: test_tls.)
"""

from __future__ import annotations

import base64
import http.client
import http.server
import threading
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tap_sequin.errors import SequinAPIError
from tap_sequin.sandbox import Faults, Rule, Sandbox

from .conftest import TOKEN, config_for, run_cli, run_in_process


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A minimal HTTP forward proxy: takes absolute-form GETs, relays them."""

    protocol_version = "HTTP/1.1"
    relayed: t.ClassVar[list[str]] = []
    authorizations: t.ClassVar[list[str | None]] = []
    credentials: t.ClassVar[str | None] = None  # "user:password" demanded, if any

    def do_GET(self) -> None:
        given = self.headers.get("Proxy-Authorization")
        type(self).authorizations.append(given)
        wanted = type(self).credentials
        if wanted and given != "Basic " + base64.b64encode(wanted.encode()).decode():
            self.send_response(407)
            self.send_header("Proxy-Authenticate", "Basic")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        target = urlsplit(self.path)
        type(self).relayed.append(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        hop = {"proxy-connection", "proxy-authorization"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        upstream.request("GET", target.path, headers=headers)
        answer = upstream.getresponse()
        body = answer.read()
        upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type") or "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: t.Any) -> None:
        pass


@pytest.fixture
def proxy() -> t.Iterator[tuple[str, type[_ForwardProxy]]]:
    handler = type("Proxy", (_ForwardProxy,), {"relayed": [], "authorizations": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", handler
    server.shutdown()
    server.server_close()


def _clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "all_proxy"])
def test_requests_go_through_the_proxy_in_the_environment(
    variable: str,
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy_url, handler = proxy
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv(variable, proxy_url)

    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:3]))

    assert run.ids == sandbox.sync_ids[:3]
    # Concurrent workers: any order on the wire, records still in order.
    syncs = [url for url in handler.relayed if "/v1/syncs/" in url]
    assert sorted(syncs) == sorted(f"{sandbox.url}/v1/syncs/{i}" for i in run.ids)
    assert TOKEN not in "".join(handler.relayed)


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "127.0.0.0/8", "example.com, 127.0.0.0/24"])
def test_no_proxy_is_honoured(
    no_proxy: str,
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy_url, handler = proxy
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", no_proxy)

    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:2]))

    assert run.ids == sandbox.sync_ids[:2]
    assert handler.relayed == []


def test_proxy_credentials_in_the_url_reach_the_proxy_and_only_the_proxy(
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy_url, handler = proxy
    handler.credentials = "proxyuser:s3cret-proxy-pass"
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy_url.replace("://", "://proxyuser:s3cret-proxy-pass@"))

    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:3]))

    assert run.ids == sandbox.sync_ids[:3]
    expected = "Basic " + base64.b64encode(b"proxyuser:s3cret-proxy-pass").decode()
    assert handler.authorizations
    assert set(handler.authorizations) == {expected}
    # Exactly one request per id: none was refused (407) and repeated.
    assert sorted(r.path for r in sandbox.requests if "/v1/syncs/" in r.path) == sorted(
        f"/v1/syncs/{i}" for i in run.ids
    )


def test_a_proxy_demanding_credentials_is_a_clear_error_not_retried(
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy_url, handler = proxy
    handler.credentials = "proxyuser:s3cret-proxy-pass"
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)

    with pytest.raises(SequinAPIError) as caught:
        run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:1]))

    assert "HTTP 407" in str(caught.value)
    assert "HTTP_PROXY" in str(caught.value)
    assert len(handler.authorizations) == 1


def test_debug_logs_carry_neither_the_token_nor_the_proxy_password(
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    proxy_url, handler = proxy
    handler.credentials = "proxyuser:s3cret-proxy-pass"
    _clear_proxy_env(monkeypatch)
    env = {
        "HTTP_PROXY": proxy_url.replace("://", "://proxyuser:s3cret-proxy-pass@"),
        "LOGLEVEL": "DEBUG",
        "TAP_SEQUIN_LOGLEVEL": "DEBUG",
    }
    ids = sandbox.sync_ids[:3]
    # One 503 on the way, so retry warnings are logged too.
    sandbox.set_faults(Faults(rules=(Rule(f"/v1/syncs/{ids[0]}", "503", times=1),)))

    run = run_cli(config_for(sandbox, sync_ids=ids), tmp_path, env=env)

    assert run.status == 0
    assert run.ids == ids
    # The check means something: urllib3's and the client's own lines are there.
    assert "urllib3.connectionpool" in run.stderr
    assert f"/v1/syncs/{ids[0]}" in run.stderr
    assert "http_request_duration" in run.stderr
    assert "through the proxy 127.0.0.1" in run.stderr
    for secret in (TOKEN, "s3cret-proxy-pass", "cHJveHl1c2VyOnMzY3JldC1wcm94eS1wYXNz"):
        assert secret not in run.stdout + run.stderr
