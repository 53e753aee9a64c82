"""`tap-sequin-sandbox` as a user meets it: --help, flag checks, its URL line, admin routes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tap_sequin.sandbox.admin import ROUTES
from tap_sequin.sandbox.data import EXAMPLE_SYNC_ID

from .conftest import manual

SANDBOX = [sys.executable, "-m", "tap_sequin.sandbox"]


def sandbox_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SANDBOX, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_help_shows_defaults_the_url_line_and_every_admin_route() -> None:
    done = sandbox_cli("--help")
    assert done.returncode == 0
    text = done.stdout
    assert "(default: 50)" in text  # --syncs
    assert "(default: sandbox-token)" in text  # --token
    assert "(default: 0)" in text  # --port
    assert "The first line on stdout is the base URL" in text
    for route, _ in ROUTES:
        assert route in text
    assert "GET /v1/credentials" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--syncs", "-5"], "argument --syncs: must be 0 or more, got -5"),
        (["--syncs", "many"], "argument --syncs: 'many' is not an integer"),
        (["--port", "70000"], "argument --port: must be 0 (any free port) to 65535"),
        (["--rate-429", "1.5"], "argument --rate-429: is a share of requests, from 0 to 1"),
        (["--latency-ms", "-1"], "argument --latency-ms: must be 0 or more"),
        (["--rule", "nonsense"], "is not PATH=KIND[*TIMES]"),
        (["--token", ""], "argument --token: must be a non-empty token without spaces"),
        (["--token", "two words"], "argument --token: must be a non-empty token"),
        (["--log", "/nonexistent/x.log"], "argument --log: cannot write /nonexistent/x.log"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args: list[str], message: str) -> None:
    done = sandbox_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr.strip().splitlines()[-1]


@pytest.fixture
def running() -> Iterator[str]:
    proc = subprocess.Popen(
        [*SANDBOX, "--syncs", "3", "--token", "t0k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def call(method: str, url: str, body: object = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_first_line_is_the_url_and_admin_routes_change_health(running: str) -> None:
    assert running.startswith("http://127.0.0.1:")
    sync_url = f"{running}/v1/syncs/{EXAMPLE_SYNC_ID}"
    before = call("GET", sync_url, token="t0k")
    changed = call(
        "PATCH", f"{running}/_sandbox/syncs/{EXAMPLE_SYNC_ID}", {"health_status": "error"}
    )
    after = call("GET", sync_url, token="t0k")
    assert after["health"]["status"] == "error" == changed["health"]["status"]
    assert after["updated_at"] == before["updated_at"], "health is no edit of the sync"

    call(
        "PATCH",
        f"{running}/_sandbox/syncs/{EXAMPLE_SYNC_ID}",
        {"created_at": "2023-11-05 05:30:00"},
    )
    assert call("GET", sync_url, token="t0k")["created_at"] == "2023-11-05 05:30:00"

    call("DELETE", f"{running}/_sandbox/syncs/{EXAMPLE_SYNC_ID}")
    listed = call("GET", f"{running}/v1/syncs", token="t0k")
    assert EXAMPLE_SYNC_ID not in [s["id"] for s in listed["data"]]


def call_status(method: str, url: str, body: object) -> tuple[int, str]:
    try:
        call(method, url, body)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["summary"]
    return 200, ""


@pytest.mark.parametrize(
    ("route", "body", "expected"),
    [
        ("latency", {"latency_ms": -5}, '"latency_ms" must be a number, 0 or more'),
        ("latency", {"latency_ms": "fast"}, '"latency_ms" must be a number'),
        ("token", {"token": 5}, '"token" must be a non-empty string or null'),
        ("token", {"token": ""}, '"token" must be a non-empty string or null'),
        ("faults", [1], "the body must be a JSON object"),
        ("faults", {"rate_492": 0.1}, "unknown key 'rate_492'; known: "),
        ("faults", {"rules": "503"}, '"rules" must be a list of objects'),
        ("faults", {"rules": [{"paht": "/v1/syncs"}]}, "a rule takes only "),
    ],
)
def test_bad_admin_bodies_are_refused_in_the_routes_words(
    running: str, route: str, body: object, expected: str
) -> None:
    status, said = call_status("POST", f"{running}/_sandbox/{route}", body)
    assert status == 400
    assert said.startswith("Bad admin request: ")
    assert expected in said
    # No Python internals (class names, "__init__()", "object has no attribute").
    assert "__init__" not in said
    assert "attribute" not in said
    # The API still answers with the old token and no delay fault.
    assert call("GET", f"{running}/v1/syncs", token="t0k")["data"]


def test_readme_lists_every_admin_route() -> None:
    readme = manual()
    for route, _ in ROUTES:
        assert f"`{route}`" in readme, route
