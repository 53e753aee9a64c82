"""Proxy variables from the environment are honoured (read once per run)."""

from __future__ import annotations

import http.client
import http.server
import threading
import typing as t
from urllib.parse import urlsplit

import pytest

from tap_sequin.sandbox import Sandbox

from .conftest import TOKEN, config_for, run_in_process


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A minimal HTTP forward proxy: takes absolute-form GETs, relays them."""

    protocol_version = "HTTP/1.1"
    relayed: t.ClassVar[list[str]] = []

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        type(self).relayed.append(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
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
    handler = type("Proxy", (_ForwardProxy,), {"relayed": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", handler
    server.shutdown()
    server.server_close()


def _clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_requests_go_through_the_proxy_in_the_environment(
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy_url, handler = proxy
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)

    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:3]))

    assert run.ids == sandbox.sync_ids[:3]
    # Concurrent workers: any order on the wire, records still in order.
    syncs = [url for url in handler.relayed if "/v1/syncs/" in url]
    assert sorted(syncs) == sorted(f"{sandbox.url}/v1/syncs/{i}" for i in run.ids)
    assert TOKEN not in "".join(handler.relayed)


def test_no_proxy_is_honoured(
    sandbox: Sandbox,
    proxy: tuple[str, type[_ForwardProxy]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy_url, handler = proxy
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:2]))

    assert run.ids == sandbox.sync_ids[:2]
    assert handler.relayed == []
