"""HTTPS: the certificate is verified against the trust store requests documents
(``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``, a file or a c_rehash'd directory), through
a CONNECT proxy too, and the connection is kept alive."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import typing as t

import pytest
import trustme

from tap_sequin.errors import RetriesExhausted, SequinAPIError
from tap_sequin.sandbox import generate_syncs

from .conftest import TOKEN, run_cli, run_in_process

_TRUST = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _TRUST + _PROXIES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


SYNCS = {s["id"]: s for s in generate_syncs(4, 2)}


class _Syncs(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    connections: t.ClassVar[set[int]] = set()
    trickle: t.ClassVar[bool] = False  # send the body one byte every 0.3 s

    def do_GET(self) -> None:
        if "/v1/syncs/" in self.path:  # other streams' requests have clients of their own
            type(self).connections.add(self.client_address[1])
        sync = SYNCS.get(self.path.rsplit("/", 1)[-1])
        ok = sync is not None and self.headers["Authorization"] == f"Bearer {TOKEN}"
        body = json.dumps(sync if ok else {"summary": "Not found"}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not type(self).trickle:
            self.wfile.write(body)
            return
        for byte in body:
            time.sleep(0.3)
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

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
    server.handle_error = lambda *args: None  # type: ignore[method-assign]  # clients hang up
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


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_https_with_a_trusted_certificate_on_one_kept_alive_connection(
    variable: str,
    https_server: tuple[str, str, type[_Syncs]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca_file, handler = https_server
    _clear(monkeypatch)
    monkeypatch.setenv(variable, ca_file)

    run = run_in_process(_config(url))

    assert run.ids == list(SYNCS)
    assert len(handler.connections) == 1  # four sync requests, one TLS connection


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl rehash")
def test_https_with_a_ca_directory(
    https_server: tuple[str, str, type[_Syncs]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
) -> None:
    url, ca_file, _ = https_server
    directory = tmp_path / "certs"
    directory.mkdir()
    shutil.copy(ca_file, directory / "throwaway-ca.pem")
    subprocess.run(["openssl", "rehash", str(directory)], check=True)
    _clear(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(directory))

    run = run_in_process(_config(url))

    assert run.ids == list(SYNCS)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_that_does_not_exist_is_one_line_naming_the_variable(
    variable: str,
    https_server: tuple[str, str, type[_Syncs]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
) -> None:
    url, _, handler = https_server
    _clear(monkeypatch)
    missing = str(tmp_path / "nope.pem")
    env = {k: v for k, v in os.environ.items() if k.upper() not in _TRUST + _PROXIES}
    env[variable] = missing

    run = run_cli(_config(url), tmp_path, env=env)

    assert run.status == 1
    assert run.last_stderr_line.startswith(f"tap-sequin: error: setting '{variable}': names")
    assert "does not exist" in run.last_stderr_line
    assert "unexpected" not in run.stderr
    assert handler.connections == set()


@pytest.mark.parametrize("ssl_cert_file", [False, True], ids=["no CA", "SSL_CERT_FILE only"])
def test_https_with_an_untrusted_certificate_fails_at_once_and_says_what_to_check(
    ssl_cert_file: bool,
    https_server: tuple[str, str, type[_Syncs]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca_file, handler = https_server
    _clear(monkeypatch)
    if ssl_cert_file:
        # OpenSSL's variable; requests trusts certifi's bundle unless told otherwise.
        monkeypatch.setenv("SSL_CERT_FILE", ca_file)

    with pytest.raises(SequinAPIError) as caught:
        run_in_process(_config(url))

    message = str(caught.value)
    assert "certificate" in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert TOKEN not in message
    assert handler.connections == set()  # no request was ever sent in clear or retried


class _ConnectProxy(socketserver.ThreadingTCPServer):
    """A minimal CONNECT proxy: opens the tunnel, then copies bytes both ways."""

    daemon_threads = True
    allow_reuse_address = True
    tunnels: list[str]
    credentials: str | None = None  # "user:password" the proxy demands, if any
    authorizations: list[str | None]


class _Tunnel(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request = self.rfile.readline().decode("latin-1").split()
        headers: dict[str, str] = {}
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        assert isinstance(self.server, _ConnectProxy)
        given = headers.get("proxy-authorization")
        self.server.authorizations.append(given)
        wanted = self.server.credentials
        if wanted and given != "Basic " + base64.b64encode(wanted.encode()).decode():
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
            self.wfile.write(b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n")
            return
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


@pytest.fixture
def connect_proxy() -> t.Iterator[_ConnectProxy]:
    proxy = _ConnectProxy(("127.0.0.1", 0), _Tunnel)
    proxy.tunnels = []
    proxy.authorizations = []
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
def test_https_through_a_proxy_uses_a_connect_tunnel(
    variable: str,
    https_server: tuple[str, str, type[_Syncs]],
    connect_proxy: _ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca_file, _ = https_server
    _clear(monkeypatch)
    monkeypatch.setenv(variable, f"http://127.0.0.1:{connect_proxy.server_address[1]}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)

    run = run_in_process(_config(url))

    assert run.ids == list(SYNCS)
    port = url.rsplit(":", 1)[1]
    assert connect_proxy.tunnels
    assert set(connect_proxy.tunnels) == {f"CONNECT localhost:{port}"}


def test_proxy_credentials_in_https_proxy_reach_the_proxy(
    https_server: tuple[str, str, type[_Syncs]],
    connect_proxy: _ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca_file, _ = https_server
    connect_proxy.credentials = "proxyuser:s3cret-proxy-pass"
    _clear(monkeypatch)
    proxy_port = connect_proxy.server_address[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://proxyuser:s3cret-proxy-pass@127.0.0.1:{proxy_port}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)

    run = run_in_process(_config(url))

    assert run.ids == list(SYNCS)
    assert connect_proxy.tunnels
    expected = "Basic " + base64.b64encode(b"proxyuser:s3cret-proxy-pass").decode()
    assert set(connect_proxy.authorizations) == {expected}


def test_a_proxy_that_wants_credentials_it_did_not_get_is_named(
    https_server: tuple[str, str, type[_Syncs]],
    connect_proxy: _ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca_file, _ = https_server
    connect_proxy.credentials = "proxyuser:s3cret-proxy-pass"
    _clear(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{connect_proxy.server_address[1]}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)

    with pytest.raises(SequinAPIError) as caught:
        run_in_process(_config(url))

    assert "407" in str(caught.value)
    assert "HTTPS_PROXY" in str(caught.value)
    assert len(connect_proxy.authorizations) == 1  # not retried: it will not get better


def test_connection_check_names_an_untrusted_certificate(
    https_server: tuple[str, str, type[_Syncs]], monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any
) -> None:
    url, _, _ = https_server
    _clear(monkeypatch)

    run = run_cli({"api_key": TOKEN, "base_url": url}, tmp_path, "--test")

    assert run.status == 1
    assert run.stdout.startswith("FAILED:")
    assert "TLS" in run.stdout
    assert "certificate" in run.stdout
    assert "REQUESTS_CA_BUNDLE" in run.stdout


def test_request_timeout_bounds_a_trickling_https_answer(
    https_server: tuple[str, str, type[_Syncs]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file, handler = https_server
    _clear(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    handler.trickle = True  # every read succeeds: only a whole-attempt deadline ends it

    with pytest.raises(RetriesExhausted) as caught:
        run_in_process({**_config(url), "request_timeout": 1, "max_retries": 0})

    assert "no complete answer within request_timeout (1s)" in str(caught.value)


class _PlainPort(socketserver.ThreadingTCPServer):
    """A plain TCP port that answers a TLS ClientHello as a plain-HTTP server would."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer: bytes | None) -> None:
        # answer None: read and say nothing (a server waiting for a request line).
        self.answer = answer
        self.connections = 0
        self.closing = threading.Event()
        super().__init__(("127.0.0.1", 0), _PlainPortHandler)


class _PlainPortHandler(socketserver.BaseRequestHandler):
    server: _PlainPort

    def handle(self) -> None:
        self.server.connections += 1
        self.request.recv(4096)
        if self.server.answer is not None:
            self.request.sendall(self.server.answer)
        else:
            self.server.closing.wait(30)


@pytest.mark.parametrize(
    "answer", [None, b"HTTP/1.1 400 Bad Request\r\n\r\n"], ids=["silent", "400"]
)
def test_https_to_a_plain_http_port_fails_at_once_pointing_at_http(
    answer: bytes | None, tmp_path: t.Any
) -> None:
    server = _PlainPort(answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        config = {**_config(url), "max_retries": 5, "retry_backoff_seconds": 2}
        config["request_timeout"] = 2  # what a silent port costs: one attempt of this
        run = run_cli(config, tmp_path)
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()

    assert run.status == 1
    line = run.last_stderr_line
    assert "plain HTTP" in line
    assert "base_url should start with http://" in line
    assert "max_retries" not in line
    assert "retrying" not in run.stderr
    assert server.connections == 1
