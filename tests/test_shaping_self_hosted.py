"""The self-hosted shapers on what the server may send besides the usual: pure functions,
and one run through the client with ``requests-mock`` standing in for the server."""

from __future__ import annotations

import logging
import typing as t

import pytest
import requests_mock as rm

from tap_sequin.shaping.databases import DatabaseShaper
from tap_sequin.shaping.redaction import looks_obfuscated, without_secrets
from tap_sequin.shaping.sinks import MalformedSink, SinkShaper

from .conftest import TOKEN, run_in_process

LOG = logging.getLogger("test")
BASE = "https://sequin.example"


@pytest.mark.parametrize(
    ("text", "obfuscated"),
    [
        ("san********************a", True),
        ("*****", True),
        ("a****z", True),
        ("---********************\n", True),
        ("https://hooks.example.com/a", False),
        ("sequin.orders", False),
        ("a*b", False),
    ],
)
def test_the_servers_obfuscated_form_is_recognised(text: str, obfuscated: bool) -> None:
    assert looks_obfuscated(text) is obfuscated


def test_without_secrets_removes_keys_at_any_depth() -> None:
    value = {
        "host": "h",
        "password": None,
        "nested": {"client_secret": "x", "id": "kept", "list": [{"token": "t", "n": 1}]},
        "access_key_id": "AKIA0000",
        "odd": "abc*****z",
    }

    assert without_secrets(value, frozenset({"access_key_id"})) == {
        "host": "h",
        "nested": {"id": "kept", "list": [{"n": 1}]},
    }


def test_a_health_of_the_wrong_shape_is_null_columns_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shaper = SinkShaper(LOG)
    with caplog.at_level(logging.WARNING):
        rows = [
            shaper.shape({"id": f"s{n}", "health": "broken", "destination": {"type": "kafka"}})
            for n in range(3)
        ]

    assert all(row["health_status"] is None for row in rows)
    assert all(row["health_checks"] is None for row in rows)
    assert len([r for r in caplog.records if "'health'" in r.getMessage()]) == 1


def test_checks_keep_their_order_and_unnamed_ones_are_named() -> None:
    health = {
        "status": "warning",
        "checks": [
            {"name": "Message ingestion", "status": "stale", "error": "late"},
            {"status": "notice"},
            "not a check",
        ],
    }

    row = SinkShaper(LOG).shape({"id": "s", "health": health})

    assert row["health_failing_checks"] == ["Message ingestion", "(unnamed check)"]
    assert row["health_errors"] == ["late"]
    assert row["health_checks"][1] == {"name": None, "status": "notice", "error": None}


def test_a_sink_without_an_id_is_malformed() -> None:
    with pytest.raises(MalformedSink):
        SinkShaper(LOG).shape({"name": "no id"})


def test_a_database_without_slots_has_null_slot_columns() -> None:
    row = DatabaseShaper(LOG).shape({"id": "d", "password": "pw", "replication_slots": []})

    assert row["replication_slot_name"] is None
    assert row["is_replica"] is False
    assert "pw" not in str(row)


def test_an_unusable_sink_in_the_listing_means_no_deletions(
    requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    sink = {"id": "s1", "name": "one", "status": "active", "destination": {"type": "kafka"}}
    requests_mock.get(f"{BASE}/api/sinks", json={"data": [sink, "oops", {"name": "no id"}]})
    requests_mock.get(f"{BASE}/api/sinks/s1/backfills", json={"data": []})
    requests_mock.get(f"{BASE}/api/postgres_databases", json={"data": []})
    requests_mock.get(f"{BASE}/api/destinations/http_endpoints", json={"data": []})
    config: dict[str, t.Any] = {"api": "self-hosted", "api_key": TOKEN, "base_url": BASE}

    with caplog.at_level(logging.WARNING):
        run = run_in_process(config)

    assert [r["id"] for r in run.records_of("sinks")] == ["s1"]
    assert not run.of_stream("ACTIVATE_VERSION", "sinks")
    assert not run.of_stream("ACTIVATE_VERSION", "backfills")
    assert run.of_stream("ACTIVATE_VERSION", "postgres_databases")
    assert "sinks listing item 1" in caplog.text
