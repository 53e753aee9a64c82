"""HTTPS: the certificate is verified, and the connection is kept alive."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import socketserver
import ssl
import threading
import typing as t

import pytest
import trustme

from tap_sequin.errors import SequinAPIError
from tap_sequin.sandbox import generate_syncs

from .conftest import TOKEN, catalog_selecting, run_in_process

SYNCS = {s["id"]: s for s in generate_syncs(4, 2)}


class _Syncs(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    connections: t.ClassVar[set[int]] = set()

    def do_GET(self) -> None:
        type(self).connections.add(self.client_address[1])
        sync = SYNCS.get(self.path.rsplit("/", 1)[-1])
        ok = sync is not None and self.headers["Authorization"] == f"Bearer {TOKEN}"
        body = json.dumps(sync if ok else {"summary": "Not found"}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: t.Any) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: t.Any) -> t.Iterator[tuple[str, str, type[_Syncs]]]:
    """An HTTPS server for 'localhost' signed by a throwaway CA: (url, CA file, handler)."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    handler = type("Handler", (_Syncs,), {"connections": set()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.server_port}", str(ca_file), handler
    server.shutdown()
    server.server_close()


def _config(url: str) -> dict[str, t.Any]:
    return {
        "api_key": TOKEN,
        "base_url": url,
        "sync_ids": list(SYNCS),
        "max_concurrent_requests": 1,
        "retry_backoff_seconds": 0.01,
    }


def test_https_with_a_trusted_certificate_on_one_kept_alive_connection(
    https_server: tuple[str, str, type[_Syncs]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file, handler = https_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)

    run = run_in_process(_config(url), catalog=catalog_selecting(_config(url), "syncs"))

    assert run.ids == list(SYNCS)
    assert len(handler.connections) == 1  # four requests, one TLS connection


def test_https_with_an_untrusted_certificate_fails_at_once_and_says_what_to_check(
    https_server: tuple[str, str, type[_Syncs]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = https_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)

    with pytest.raises(SequinAPIError) as caught:
        run_in_process(_config(url))

    message = str(caught.value)
    assert "certificate" in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert TOKEN not in message


class _ConnectProxy(socketserver.ThreadingTCPServer):
    """A minimal CONNECT proxy: opens the tunnel, then copies bytes both ways."""

    daemon_threads = True
    allow_reuse_address = True
    tunnels: list[str]


class _Tunnel(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request = self.rfile.readline().decode("latin-1").split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        assert isinstance(self.server, _ConnectProxy)
        self.server.tunnels.append(" ".join(request[:2]))
        host, port = request[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        pump = threading.Thread(target=_copy, args=(upstream, self.connection), daemon=True)
        pump.start()
        _copy(self.connection, upstream)
        pump.join(timeout=5)
        upstream.close()


def _copy(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_https_through_https_proxy_uses_a_connect_tunnel(
    https_server: tuple[str, str, type[_Syncs]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file, _ = https_server
    proxy = _ConnectProxy(("127.0.0.1", 0), _Tunnel)
    proxy.tunnels = []
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    try:
        run = run_in_process(_config(url))
    finally:
        proxy.shutdown()
        proxy.server_close()

    assert run.ids == list(SYNCS)
    port = url.rsplit(":", 1)[1]
    assert proxy.tunnels
    assert set(proxy.tunnels) == {f"CONNECT localhost:{port}"}
