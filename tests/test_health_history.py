"""The ``sync_health_history`` stream, and how it lives beside ``syncs``, over real HTTP."""

from __future__ import annotations

import json
import typing as t

from tap_sequin.sandbox import Sandbox

from .conftest import catalog_selecting, config_for, make_sandbox, run_in_process


def _without_observed_at(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [{k: v for k, v in row.items() if k != "observed_at"} for row in rows]


def test_one_row_per_sync_per_run_with_one_observed_at_per_run(sandbox: Sandbox) -> None:
    first = run_in_process(config_for(sandbox)).records_of("sync_health_history")
    second = run_in_process(config_for(sandbox)).records_of("sync_health_history")

    assert [row["sync_id"] for row in first] == sandbox.sync_ids
    assert len({row["observed_at"] for row in first}) == 1
    assert len({row["observed_at"] for row in second}) == 1
    assert first[0]["observed_at"] < second[0]["observed_at"]
    assert first[0]["observed_at"].endswith("+00:00")
    keys = {(row["sync_id"], row["observed_at"]) for row in first + second}
    assert len(keys) == 2 * len(sandbox.sync_ids), "the primary key keeps every run's rows"


def test_history_rows_say_what_syncs_says_about_health(sandbox: Sandbox) -> None:
    moving = sandbox.sync_ids[4]
    health = {
        "status": "warn",
        "credential": {"status": "error", "notes": ["revoked"], "time": "2024-01-01 00:00:00"},
        "provider": {"status": "warn", "notes": ["slow"]},
    }
    sandbox.set_health(moving, health)
    run = run_in_process(config_for(sandbox))

    (schema,) = run.of_stream("SCHEMA", "sync_health_history")
    assert schema["key_properties"] == ["sync_id", "observed_at"]
    syncs = {row["id"]: row for row in run.records}
    for row in run.records_of("sync_health_history"):
        sync = syncs[row["sync_id"]]
        for column in ("status", "health_status", "health_credential_status", "health_notes"):
            assert row[column] == sync[column]
        assert row["health"] == sync["health"]
    row = next(r for r in run.records_of("sync_health_history") if r["sync_id"] == moving)
    assert row["health_status"] == "warn"
    assert row["health_credential_status"] == "error"
    assert row["health_provider_status"] == "warn"
    assert row["health_notes"] == ["revoked", "slow"]
    assert row["health"] == health


def test_history_never_activates_a_version(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox))

    assert run.of_stream("ACTIVATE_VERSION", "sync_health_history") == []
    assert all("version" not in m for m in run.of_stream("RECORD", "sync_health_history"))


def test_deselecting_either_stream_does_not_change_the_other(sandbox: Sandbox) -> None:
    config = config_for(sandbox)
    both = run_in_process(config, catalog_selecting(config, "syncs", "sync_health_history"))
    syncs_only = run_in_process(config, catalog_selecting(config, "syncs"))
    sandbox.clear_log()
    history_only = run_in_process(config, catalog_selecting(config, "sync_health_history"))

    assert syncs_only.records == both.records
    assert syncs_only.records_of("sync_health_history") == []
    assert history_only.records == []
    assert _without_observed_at(history_only.records_of("sync_health_history")) == (
        _without_observed_at(both.records_of("sync_health_history"))
    )
    # Alone, the history reads the syncs itself: still one request, and no ACTIVATE_VERSION.
    assert [(r.method, r.path) for r in sandbox.requests] == [("GET", "/v1/syncs")]
    assert history_only.of_type("ACTIVATE_VERSION") == []


def test_a_stream_map_on_syncs_does_not_change_the_history(sandbox: Sandbox) -> None:
    maps = {"syncs": {"__filter__": "health_status != 'healthy'", "name": "name.upper()"}}
    plain = run_in_process(config_for(sandbox))
    mapped = run_in_process(config_for(sandbox, stream_maps=maps))

    assert len(mapped.records) < len(plain.records)
    assert _without_observed_at(mapped.records_of("sync_health_history")) == (
        _without_observed_at(plain.records_of("sync_health_history"))
    )


def test_configured_ids_give_history_rows_for_the_syncs_read() -> None:
    with make_sandbox(syncs=8) as sb:
        wanted = sb.sync_ids[2:5]
        run = run_in_process(config_for(sb, sync_ids=wanted))

    assert [row["sync_id"] for row in run.records_of("sync_health_history")] == wanted


def test_state_stays_small_and_independent_of_the_number_of_syncs() -> None:
    with make_sandbox(syncs=600) as many:
        big = run_in_process(config_for(many))
        small = run_in_process(config_for(many, sync_ids=many.sync_ids[:2]))

    assert len(big.records_of("sync_health_history")) == 600
    big_state = big.of_type("STATE")[-1]
    small_state = small.of_type("STATE")[-1]
    assert json.dumps(big_state) == json.dumps(small_state)
    assert len(json.dumps(big_state)) < 400
    assert all(len(json.dumps(m)) < 400 for m in big.of_type("STATE"))
