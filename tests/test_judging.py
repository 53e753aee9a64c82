"""How the client judges each kind of answer: the README's failure table, row by row,
with ``requests-mock`` standing in for Sequin (what only the wire shows is in
test_failures, test_wire, test_concurrency and test_signals)."""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
import typing as t

import pytest
import requests_mock as rm

from tap_sequin.client.api import NotFound, SequinClient
from tap_sequin.errors import AuthError, RetriesExhausted, SequinAPIError
from tap_sequin.settings.parsing import parse_settings

from .conftest import TOKEN

BASE = "https://sequin.example"
SYNC = {"id": "abc", "name": "orders"}


class _Stop(threading.Event):
    """A stop event that records the waits asked of it instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(t.cast(float, timeout))
        return False


class _Throttle:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def wait_turn(self, stop: threading.Event) -> None:
        pass

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


class Harness(t.NamedTuple):
    client: SequinClient
    stop: _Stop
    throttle: _Throttle


@pytest.fixture
def harness() -> t.Iterator[Harness]:
    made = _harness()
    yield made
    made.client.close()


def _harness(**overrides: t.Any) -> Harness:
    config = {"api_key": TOKEN, "base_url": BASE, "max_retries": 3, **overrides}
    stop, throttle = _Stop(), _Throttle()
    client = SequinClient(
        parse_settings(config),
        logging.getLogger("test"),
        stop,
        throttle,  # type: ignore[arg-type]
    )
    return Harness(client, stop, throttle)


def _sync_url(sync_id: str = "abc") -> str:
    return f"{BASE}/v1/syncs/{sync_id}"


def test_a_sync_comes_back_with_the_token_sent(harness: Harness, requests_mock: rm.Mocker) -> None:
    requests_mock.get(_sync_url(), json=SYNC)

    assert harness.client.get_sync("abc") == SYNC
    sent = requests_mock.last_request.headers
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert sent["Accept"] == "application/json"


def test_a_wrapped_sync_is_unwrapped(harness: Harness, requests_mock: rm.Mocker) -> None:
    requests_mock.get(_sync_url(), json={"data": SYNC})

    assert harness.client.get_sync("abc") == SYNC


def test_nan_and_infinity_are_not_numbers(harness: Harness, requests_mock: rm.Mocker) -> None:
    requests_mock.get(_sync_url(), text='{"id": "abc", "x": NaN, "y": -Infinity}')

    assert harness.client.get_sync("abc") == {"id": "abc", "x": None, "y": None}


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_stops_at_once_naming_api_key(
    status: int, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), status_code=status, json={"summary": "Your API key is wrong."})

    with pytest.raises(AuthError) as caught:
        harness.client.get_sync("abc")

    assert requests_mock.call_count == 1
    message = str(caught.value)
    assert f'HTTP {status} "Your API key is wrong."' in message
    assert "api_key" in message
    assert "GET /v1/syncs/abc" in message
    assert TOKEN not in message


@pytest.mark.parametrize(
    ("answer", "route_level"),
    [
        ({"json": {"summary": "Sync abc not found"}}, False),
        ({"json": {"summary": "Not found"}}, True),
        ({"text": "<html>404</html>", "headers": {"Content-Type": "text/html"}}, True),
    ],
    ids=["sequin names the sync", "sequin's generic route 404", "a proxy's page"],
)
def test_a_404_for_a_sync_is_not_found_with_what_the_server_said(
    answer: dict[str, t.Any], route_level: bool, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), status_code=404, **answer)

    found = harness.client.get_sync("abc")

    assert isinstance(found, NotFound)
    assert found.path == "/v1/syncs/abc"
    assert found.route_level is route_level
    assert requests_mock.call_count == 1


def test_a_404_on_the_listing_names_the_path_and_base_url(requests_mock: rm.Mocker) -> None:
    harness = _harness(base_url=f"{BASE}/sequin")
    requests_mock.get(f"{BASE}/sequin/v1/syncs", status_code=404, json={"summary": "Not found"})

    with pytest.raises(SequinAPIError) as caught:
        harness.client.list_syncs()

    message = str(caught.value)
    assert "listing (GET /sequin/v1/syncs)" in message
    assert 'HTTP 404 "Not found"' in message
    assert "base_url" in message


def test_a_listing_whose_body_is_not_json_is_retried_then_names_the_path(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    page = {
        "status_code": 200,
        "text": "<html>proxy</html>",
        "headers": {"Content-Type": "text/html"},
    }
    requests_mock.get(f"{BASE}/v1/syncs", [page] * 4)

    with pytest.raises(RetriesExhausted) as caught:
        harness.client.list_syncs()

    assert requests_mock.call_count == 4  # max_retries 3
    message = str(caught.value)
    assert "listing (GET /v1/syncs)" in message
    assert "not JSON (content-type text/html" in message


def test_answers_about_another_sync_are_retried_and_never_returned(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), [{"json": {**SYNC, "id": "other"}}, {"json": SYNC}])

    assert harness.client.get_sync("abc") == SYNC
    assert requests_mock.call_count == 2


def test_credentials_are_listed_and_a_404_is_not_found(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(f"{BASE}/v1/credentials", json={"data": [{"id": "cred"}]})
    assert harness.client.list_objects(
        "/v1/credentials", what="credentials listing", stream="credentials", optional=True
    ) == [{"id": "cred"}]

    requests_mock.get(f"{BASE}/v1/credentials", status_code=404, json={"summary": "Not found"})
    assert isinstance(
        harness.client.list_objects(
            "/v1/credentials", what="credentials listing", stream="credentials", optional=True
        ),
        NotFound,
    )


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retry_after_is_waited_for_on_every_retryable_status_by_every_worker(
    status: int, harness: Harness, requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    requests_mock.get(
        _sync_url(),
        [{"status_code": status, "headers": {"Retry-After": "40"}, "json": {}}, {"json": SYNC}],
    )

    assert harness.client.get_sync("abc") == SYNC
    assert harness.stop.waits == [40.0]
    assert harness.throttle.pauses == [40.0]
    assert "retrying in 40.0s (the server's Retry-After: 40; attempt 2 of 4)" in caplog.text


def test_retry_after_as_an_http_date_and_a_cap(
    harness: Harness, requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    requests_mock.get(
        _sync_url(),
        [
            {"status_code": 503, "headers": {"Retry-After": soon}, "json": {}},
            {"status_code": 503, "headers": {"Retry-After": "3600"}, "json": {}},
            {"json": SYNC},
        ],
    )

    assert harness.client.get_sync("abc") == SYNC
    assert 25 <= harness.stop.waits[0] <= 30
    assert harness.stop.waits[1] == 300.0
    assert "capped at 300s" in caplog.text


@pytest.mark.parametrize("said", ["0", "-5", "past-date", "1_000", "\u0661\u0662"])
def test_a_retry_after_below_the_backoff_or_not_seconds_never_means_an_immediate_retry(
    said: str, harness: Harness, requests_mock: rm.Mocker
) -> None:
    # Retry-After: 0, a negative value, a date already past (clock skew), or text that is
    # not RFC 9110 delta-seconds: the retries still back off (retry_backoff_seconds 1).
    if said == "past-date":
        said = email.utils.formatdate(time.time() - 30, usegmt=True)
    answers = [{"status_code": 503, "headers": {"Retry-After": said}, "json": {}}] * 3
    requests_mock.get(_sync_url(), [*answers, {"json": SYNC}])

    assert harness.client.get_sync("abc") == SYNC
    assert len(harness.stop.waits) == 3
    assert all(wait >= 0.5 for wait in harness.stop.waits), harness.stop.waits


def test_a_429_without_retry_after_backs_off_and_pauses_every_worker(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), [{"status_code": 429, "json": {}}, {"json": SYNC}])

    assert harness.client.get_sync("abc") == SYNC
    assert harness.throttle.pauses == harness.stop.waits
    assert 0.5 <= harness.stop.waits[0] <= 1.0  # retry_backoff_seconds 1, equal jitter


def test_a_5xx_without_retry_after_backs_off_alone(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), [{"status_code": 500, "json": {}}, {"json": SYNC}])

    assert harness.client.get_sync("abc") == SYNC
    assert harness.throttle.pauses == []
    assert len(harness.stop.waits) == 1


BAD_ANSWERS: dict[str, dict[str, t.Any]] = {
    "503": {"status_code": 503, "json": {"summary": "Service unavailable"}},
    "html 502": {"status_code": 502, "text": "<html>bad gateway</html>"},
    "html 200": {"text": "<html>maintenance</html>", "headers": {"Content-Type": "text/html"}},
    "empty 200": {"text": ""},
}
PROBLEMS = {
    "503": 'HTTP 503 "Service unavailable"',
    "html 502": "HTTP 502",
    "html 200": "HTTP 200 with a body that is not JSON (content-type text/html, 24 bytes)",
    "empty 200": "HTTP 200 with a body that is not JSON",
}


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_transient_answers_are_retried_then_succeed(
    kind: str, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), [BAD_ANSWERS[kind], BAD_ANSWERS[kind], {"json": SYNC}])

    assert harness.client.get_sync("abc") == SYNC
    assert requests_mock.call_count == 3


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_the_same_every_time_fails_naming_the_sync_the_path_and_the_last_problem(
    kind: str, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), **BAD_ANSWERS[kind])

    with pytest.raises(RetriesExhausted) as caught:
        harness.client.get_sync("abc")

    message = str(caught.value)
    assert message.startswith("sync abc (GET /v1/syncs/abc): gave up after 4 attempts")
    assert PROBLEMS[kind] in message
    assert requests_mock.call_count == 4


@pytest.mark.parametrize("status", [400, 422])
def test_a_client_error_fails_quoting_the_summary(
    status: int, harness: Harness, requests_mock: rm.Mocker
) -> None:
    summary = f"bad request {TOKEN}"  # a summary may echo anything, even the token
    requests_mock.get(_sync_url(), status_code=status, json={"summary": summary})

    with pytest.raises(SequinAPIError) as caught:
        harness.client.get_sync("abc")

    message = str(caught.value)
    assert f'HTTP {status} "bad request ***"' in message
    assert TOKEN not in message
    assert requests_mock.call_count == 1


def test_a_407_from_a_plain_http_proxy_names_the_proxy_setting(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), status_code=407, text="")

    with pytest.raises(SequinAPIError) as caught:
        harness.client.get_sync("abc")

    assert "HTTP_PROXY" in str(caught.value)


def test_a_same_origin_redirect_is_followed_with_the_token(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), status_code=301, headers={"Location": "/v1/syncs/abc2"})
    requests_mock.get(_sync_url("abc2"), json=SYNC)

    assert harness.client.get_sync("abc") == SYNC
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "location",
    ["https://elsewhere.example/v1/syncs/abc", "http://sequin.example/v1/syncs/abc"],
    ids=["another host", "https to http"],
)
def test_a_redirect_to_another_origin_is_not_followed(
    location: str, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), status_code=302, headers={"Location": location})
    elsewhere = requests_mock.get(location, json=SYNC)

    with pytest.raises(SequinAPIError) as caught:
        harness.client.get_sync("abc")

    assert "redirect to another host" in str(caught.value)
    assert not elsewhere.called


def test_each_request_logs_the_sdks_duration_metric(
    harness: Harness, requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="singer_sdk.metrics")
    requests_mock.get(_sync_url(), [{"status_code": 503, "json": {}}, {"json": SYNC}])
    requests_mock.get(f"{BASE}/v1/syncs", json={"data": []})
    requests_mock.get(f"{BASE}/v1/credentials", json={"data": []})

    harness.client.get_sync("abc")
    harness.client.list_syncs()
    harness.client.list_objects(
        "/v1/credentials", what="credentials listing", stream="credentials", optional=True
    )

    points = [
        json.loads(r.getMessage().removeprefix("METRIC: "))
        for r in caplog.records
        if r.name == "singer_sdk.metrics"
    ]
    durations = [p for p in points if p["metric"] == "http_request_duration"]
    assert [
        (p["tags"]["stream"], p["tags"]["endpoint"], p["tags"]["http_status_code"])
        for p in durations
    ] == [
        ("syncs", "/v1/syncs/{id}", 503),
        ("syncs", "/v1/syncs/{id}", 200),
        ("syncs", "/v1/syncs", 200),
        ("credentials", "/v1/credentials", 200),
    ]
    assert [p["tags"]["status"] for p in durations] == ["failed"] + 3 * ["succeeded"]
    assert all(p["type"] == "timer" and p["value"] >= 0 for p in durations)
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("status", [400, 401, 404, 503])
def test_a_summary_echoing_the_token_never_shows_any_of_it(
    status: int, harness: Harness, requests_mock: rm.Mocker
) -> None:
    # The token straddles the 200th character, where the summary is shortened.
    summary = "x" * 180 + f" your token {TOKEN} is not valid for this path"
    requests_mock.get(_sync_url(), status_code=status, json={"summary": summary})

    try:
        found = harness.client.get_sync("abc")
        text = str(found.summary) if isinstance(found, NotFound) else repr(found)
    except (SequinAPIError, RetriesExhausted) as exc:
        text = str(exc)

    assert "your token ***" in text or status == 503
    assert not any(TOKEN[i : i + 6] in text for i in range(len(TOKEN) - 5))


def test_a_content_type_echoing_the_token_is_masked(
    harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), text="not json", headers={"Content-Type": f"text/{TOKEN}"})

    with pytest.raises(RetriesExhausted) as caught:
        harness.client.get_sync("abc")

    assert "text/***" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("location", ["http://sequin.example:99999/v1/syncs/abc", "http://[::1/x"])
def test_a_redirect_to_a_url_that_is_not_valid_is_one_clear_error(
    location: str, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(_sync_url(), status_code=302, headers={"Location": location})

    with pytest.raises(SequinAPIError) as caught:
        harness.client.get_sync("abc")

    assert "redirect to a URL that is not valid" in str(caught.value)
    assert "base_url" in str(caught.value)
    assert requests_mock.call_count == 1


@pytest.mark.parametrize("status", [404, 503])
def test_an_error_body_nested_too_deep_to_read_is_judged_without_its_summary(
    status: int, harness: Harness, requests_mock: rm.Mocker
) -> None:
    body = '{"summary":' + "[" * 5000 + "]" * 5000 + "}"
    requests_mock.get(_sync_url(), [{"status_code": status, "text": body}, {"json": SYNC}])

    found = harness.client.get_sync("abc")

    if status == 404:
        assert isinstance(found, NotFound)
        assert found.summary is None
    else:
        assert found == SYNC  # retried, as any 503


PHOENIX_404 = {"errors": {"detail": "Not Found"}}


@pytest.mark.parametrize("call", ["list_syncs", "get_sync"])
def test_phoenixs_404_to_a_v1_path_names_api_and_base_url(
    call: str, harness: Harness, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(f"{BASE}/v1/syncs", status_code=404, json=PHOENIX_404)
    requests_mock.get(_sync_url(), status_code=404, json=PHOENIX_404)

    with pytest.raises(SequinAPIError) as caught:
        getattr(harness.client, call)(*(["abc"] if call == "get_sync" else []))

    message = str(caught.value)
    assert "api is 'v1'" in message
    assert f"base_url {BASE}" in message
    assert "set api to 'self-hosted'" in message
    assert requests_mock.call_count == 1


def test_a_v1_404_to_a_self_hosted_path_names_api_and_base_url(
    requests_mock: rm.Mocker,
) -> None:
    harness = _harness(api="self-hosted")
    requests_mock.get(f"{BASE}/api/sinks", status_code=404, json={"summary": "Not found"})

    with pytest.raises(SequinAPIError) as caught:
        harness.client.list_objects("/api/sinks", what="listing", stream="sinks")

    assert "api is 'self-hosted'" in str(caught.value)
    assert "set api to 'v1'" in str(caught.value)


def test_phoenixs_404_to_a_self_hosted_object_is_not_found(requests_mock: rm.Mocker) -> None:
    # The server's own route for a sink answers a missing one with a summary; Phoenix's
    # answer means no such route (a proxy's path, an older server): not proof of deletion.
    harness = _harness(api="self-hosted")
    requests_mock.get(f"{BASE}/api/sinks/s1", status_code=404, json=PHOENIX_404)
    requests_mock.get(
        f"{BASE}/api/sinks/s2",
        status_code=404,
        json={"summary": "Not found: No `consumer` found matching the provided ID or name"},
    )

    phoenix = harness.client.get_object("/api/sinks/{id}", "s1", noun="sink", stream="sinks")
    missing = harness.client.get_object("/api/sinks/{id}", "s2", noun="sink", stream="sinks")

    assert isinstance(phoenix, NotFound)
    assert phoenix.phoenix
    assert phoenix.route_level
    assert isinstance(missing, NotFound)
    assert not missing.route_level


def test_server_health_is_asked_without_the_token(requests_mock: rm.Mocker) -> None:
    harness = _harness(api="self-hosted")
    requests_mock.get(f"{BASE}/health", text='{"ok":true,"rev":"v0.14.6"}')

    assert harness.client.server_health() == (200, {"ok": True, "rev": "v0.14.6"})
    assert "Authorization" not in requests_mock.last_request.headers
