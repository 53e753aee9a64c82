"""Answers only a careless HTTP client gets wrong, sent byte for byte by a loopback server.

In every case each record's ``id`` is the id that was asked for, every id arrives exactly
once, and no request is repeated that did not fail (the server's log shows each path once).
Only sync paths get the odd answers; any other path (another stream's) gets a plain 404.
"""

from __future__ import annotations

import collections
import time
import typing as t
from pathlib import Path

import pytest

from tap_sequin.errors import RetriesExhausted
from tap_sequin.sandbox import generate_syncs

from .conftest import TOKEN, run_cli, run_in_process
from .rawhttp import Answer, RawServer, Request, gzip_response, json_response, response

SYNCS = {s["id"]: s for s in generate_syncs(40, 3)}
IDS = list(SYNCS)


def _sync(request: Request) -> dict[str, t.Any]:
    return SYNCS[request.path.rsplit("/", 1)[-1]]


def _syncs_only(answer: t.Callable[[Request], Answer]) -> t.Callable[[Request], Answer]:
    def serve(request: Request) -> Answer:
        if "/v1/syncs/" in request.path:
            return answer(request)
        return json_response(404, {"summary": "Not found"}), True

    return serve


def _sync_requests(server: RawServer) -> list[Request]:
    return [r for r in server.requests if "/v1/syncs/" in r.path]


def _config(server: RawServer, ids: list[str], **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "api_key": TOKEN,
        "base_url": server.url,
        "sync_ids": ids,
        "retry_backoff_seconds": 0.01,
        "max_retries": 3,
        "request_timeout": 5,
        **overrides,
    }


def _each_path_once(server: RawServer, ids: list[str]) -> None:
    counts = collections.Counter(r.path for r in _sync_requests(server))
    assert counts == collections.Counter(f"/v1/syncs/{i}" for i in ids)


def test_an_extra_response_after_a_body_is_never_taken_for_the_next_answer() -> None:
    ids = IDS[:12]
    other = SYNCS[IDS[-1]]

    def answer(request: Request) -> Answer:
        time.sleep(0.02)
        # One whole, well-formed response too many: whoever reads it next gets the wrong sync.
        return json_response(200, _sync(request)) + json_response(200, other), True

    with RawServer(_syncs_only(answer)) as server:
        run = run_in_process(_config(server, ids))

    assert run.ids == ids
    _each_path_once(server, ids)


@pytest.mark.parametrize("workers", [1, 8])
def test_an_extra_response_arriving_late_is_refused_by_the_id_it_carries(
    workers: int, tmp_path: Path
) -> None:
    # The extra response arrives 50 ms after the body: by then the client has sent its next
    # request on the connection, and HTTP/1.1 pairs answers with requests by order alone, so
    # requests itself reads the extra one as the next answer. The sync's id gives it away.
    ids = IDS[:12]
    intruder = {**SYNCS[IDS[-1]], "id": "intruder"}

    def answer(request: Request) -> Answer:
        def pieces() -> t.Iterator[bytes]:
            yield json_response(200, _sync(request), headers=[("Set-Cookie", "lb=1; Path=/")])
            time.sleep(0.05)
            yield json_response(200, intruder)

        return pieces(), True

    with RawServer(_syncs_only(answer)) as server:
        run = run_cli(_config(server, ids, max_concurrent_requests=workers), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == ids  # each record is the sync asked for, each exactly once
    refused = run.stderr.count("the answer is about another sync")
    assert refused >= 1
    assert run.stderr.count("connections are no longer reused this run") == 1
    # A request is repeated only after a wrong answer (or the connection that wrong answer
    # came on being dropped under it), never otherwise.
    repeats = len(_sync_requests(server)) - len(ids)
    assert 0 < repeats <= 2 * refused
    assert "intruder" not in {r["id"] for r in run.records}
    # From then on each request asks for its connection to be closed: nothing more is sent
    # on a connection after such a request.
    closing = [r for r in _sync_requests(server) if r.headers.get("connection") == "close"]
    assert closing
    # Nor does the request rebuilt for that send back a cookie the server set.
    assert all("cookie" not in r.headers for r in server.requests)
    for request in closing:
        later = [r for r in server.requests if r.start > request.start]
        assert all(r.connection != request.connection for r in later)


@pytest.mark.parametrize("workers", [1, 4])
def test_an_extra_404_arriving_late_drops_no_sync(workers: int, tmp_path: Path) -> None:
    # A 404 names no sync to check it by: one taken from a reused connection is asked again
    # on a connection of its own before the sync is skipped (a review lost a sync so, exit 0).
    ids = IDS[:6]
    sent = {"extra": False}

    def answer(request: Request) -> Answer:
        def pieces() -> t.Iterator[bytes]:
            yield json_response(200, _sync(request))
            if not sent["extra"]:
                sent["extra"] = True
                time.sleep(0.05)
                yield json_response(404, {"summary": "Sync not found"})

        return pieces(), True

    with RawServer(_syncs_only(answer)) as server:
        run = run_cli(_config(server, ids, max_concurrent_requests=workers), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == ids
    assert "HTTP 404" not in run.stderr


def test_a_real_404_on_a_reused_connection_still_skips_the_sync(tmp_path: Path) -> None:
    ids = IDS[:4]
    gone = ids[2]

    def answer(request: Request) -> Answer:
        if request.path.endswith(gone):
            return json_response(404, {"summary": f"Sync {gone} not found"}), True
        return json_response(200, _sync(request)), True

    with RawServer(_syncs_only(answer)) as server:
        run = run_cli(_config(server, ids, max_concurrent_requests=1), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == [i for i in ids if i != gone]
    assert f"sync {gone}: HTTP 404" in run.stderr
    # Asked twice: once on the shared connection, once on one of its own.
    asked = [r for r in _sync_requests(server) if r.path.endswith(gone)]
    assert len(asked) == 2
    assert asked[0].connection != asked[1].connection


def test_stray_bytes_after_a_body_fail_no_request() -> None:
    def answer(request: Request) -> Answer:
        return json_response(200, _sync(request)) + b"\r\n", True

    with RawServer(_syncs_only(answer)) as server:
        run = run_in_process(_config(server, IDS, max_concurrent_requests=1))

    assert run.ids == IDS
    _each_path_once(server, IDS)


def test_connection_keep_alive_close_is_read_as_close() -> None:
    # The server says "close" in a list and then ignores the connection: a client that
    # reused it would wait request_timeout (and fail, with no retries) on every later id.
    def answer(request: Request) -> Answer:
        headers = [("Connection", "keep-alive, close")]
        return json_response(200, _sync(request), headers=headers), "hold"

    ids = IDS[:6]
    with RawServer(_syncs_only(answer)) as server:
        run = run_in_process(
            _config(server, ids, max_concurrent_requests=1, max_retries=0, request_timeout=3)
        )

    assert run.ids == ids
    _each_path_once(server, ids)
    assert len({r.connection for r in _sync_requests(server)}) == len(ids)


def test_a_cookie_the_api_sets_is_not_sent_back() -> None:
    # The token is the tap's only credential: a session cookie from the API (or a load
    # balancer in front of it) is not echoed on later requests.
    def answer(request: Request) -> Answer:
        headers = [("Set-Cookie", "session=abc123; Path=/")]
        return json_response(200, _sync(request), headers=headers), True

    ids = IDS[:4]
    with RawServer(_syncs_only(answer)) as server:
        run = run_in_process(_config(server, ids, max_concurrent_requests=1))

    assert run.ids == ids
    _each_path_once(server, ids)
    sent = _sync_requests(server)
    assert all("cookie" not in r.headers for r in sent)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in sent)


def test_a_gzip_encoded_answer_is_decoded() -> None:
    with RawServer(_syncs_only(lambda r: (gzip_response(_sync(r)), True))) as server:
        run = run_in_process(_config(server, IDS[:5]))
        sent = _sync_requests(server)[0].headers

    assert run.ids == IDS[:5]
    assert run.records[0]["name"] == SYNCS[IDS[0]]["name"]
    assert "gzip" in sent["accept-encoding"]
    _each_path_once(server, IDS[:5])


def test_a_gzip_body_that_is_not_gzip_is_retried_as_a_failure() -> None:
    tried: set[str] = set()

    def answer(request: Request) -> Answer:
        if request.path in tried:
            return gzip_response(_sync(request)), True
        tried.add(request.path)
        body = b"certainly not gzip"
        return response(200, body, headers=[("Content-Encoding", "gzip")]), True

    with RawServer(_syncs_only(answer)) as server:
        run = run_in_process(_config(server, IDS[:2]))

    assert run.ids == IDS[:2]
    _each_path_once(server, 2 * IDS[:2])


@pytest.mark.parametrize("where", ["body", "headers"])
def test_request_timeout_bounds_the_whole_attempt_against_a_trickle(where: str) -> None:
    # One byte a second: every read succeeds, so only a whole-attempt deadline ends it.
    body = b'{"id": "' + b"x" * 60 + b'"}'

    def trickle(request: Request) -> t.Iterator[bytes]:
        head = response(200, body)[: -len(body)]
        if where == "headers":
            yield head[:17]
            head, whole = head[17:], head[17:] + body
        else:
            yield head
            whole = body
        for byte in whole:
            time.sleep(1)
            yield bytes([byte])

    with RawServer(_syncs_only(lambda request: (trickle(request), True))) as server:
        with pytest.raises(RetriesExhausted) as caught:
            run_in_process(_config(server, IDS[:1], request_timeout=1.5, max_retries=1))
        attempts = _sync_requests(server)

    message = str(caught.value)
    assert "no complete answer within request_timeout (1.5s)" in message
    assert f"/v1/syncs/{IDS[0]}" in message
    assert len(attempts) == 2
    # The trickle would have taken a minute or more; each attempt was cut off early.
    assert not any(a.finished for a in attempts)
    head = len(response(200, body)) - len(body)
    assert all(a.written < head + 10 for a in attempts)


def test_a_base_url_path_with_a_space_and_non_ascii_is_sent_percent_encoded() -> None:
    with RawServer(_syncs_only(lambda r: (json_response(200, _sync(r)), True))) as server:
        config = _config(server, IDS[:1])
        config["base_url"] = f"{server.url}/my api/café"
        run = run_in_process(config)
        target = next(r.target for r in server.requests if "/v1/syncs/" in r.path)

    assert target == f"/my%20api/caf%C3%A9/v1/syncs/{IDS[0]}"
    assert run.ids == IDS[:1]


def test_retry_after_on_a_503_is_waited_for() -> None:
    seen: set[str] = set()

    def answer(request: Request) -> Answer:
        if request.path not in seen:
            seen.add(request.path)
            return json_response(
                503, {"summary": "Maintenance"}, headers=[("Retry-After", "1")]
            ), True
        return json_response(200, _sync(request)), True

    with RawServer(_syncs_only(answer)) as server:
        run = run_in_process(_config(server, IDS[:1], retry_backoff_seconds=0.01))
        first, second = _sync_requests(server)

    assert run.ids == IDS[:1]
    # Backoff alone would have retried after about 0.01 s.
    assert second.start - first.start >= 0.95
