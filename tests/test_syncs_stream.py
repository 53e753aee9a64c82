"""The ``syncs`` stream end to end over real HTTP: what lands on stdout."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import typing as t
from pathlib import Path

import jsonschema
import pytest

from tap_sequin.errors import RetriesExhausted
from tap_sequin.sandbox import EXAMPLE_SYNC_ID, Sandbox

from .conftest import config_for, make_sandbox, run_cli, run_in_process


def _validator(schema: dict[str, t.Any]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_every_sync_in_list_order_each_record_valid_against_its_schema(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox))

    assert run.ids == sandbox.sync_ids
    (schema_message,) = run.of_stream("SCHEMA", "syncs")
    assert schema_message["key_properties"] == ["id"]
    validator = _validator(schema_message["schema"])
    for record in run.records:
        errors = [e.message for e in validator.iter_errors(record)]
        assert errors == [], record["id"]
    assert run.messages[-1]["type"] == "STATE"


def test_documented_example_arrives_flattened_typed_and_redacted(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox, sync_ids=[EXAMPLE_SYNC_ID]))

    (row,) = run.records
    assert row["health_status"] == "healthy"
    assert row["health_sync_id"] == EXAMPLE_SYNC_ID
    assert row["rate_limit_allowed_requests"] == 1000
    assert row["rate_limit_interval"] == 60
    assert row["rate_limit_max_concurrent_requests"] == 0
    assert row["created_at"] == "2023-12-15T01:29:29+00:00"
    assert row["collection_ids"] == ["stripe:customer", "stripe:invoice"]
    assert row["credential"]["properties"]["secret"] == "[REDACTED]"
    assert row["max_age_days"] == 365
    assert row["health"] == {"status": "healthy", "sync_id": EXAMPLE_SYNC_ID}
    assert row["health_notes"] is None
    assert "rate_limit" not in row


def test_configured_ids_keep_their_order_and_duplicates_come_once(sandbox: Sandbox) -> None:
    wanted = list(reversed(sandbox.sync_ids[:6]))
    config = config_for(sandbox, sync_ids=[*wanted, wanted[0], wanted[3]])

    run = run_in_process(config)

    assert run.ids == wanted
    assert len([r for r in sandbox.requests if r.path.startswith("/v1/syncs/")]) == 6


def test_listing_every_sync_makes_one_request_and_the_history_none(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox))

    assert len(run.records_of("sync_health_history")) == 12
    assert sorted((r.method, r.path) for r in sandbox.requests) == [
        ("GET", "/v1/credentials"),
        ("GET", "/v1/syncs"),
    ]


def test_listing_activates_the_version_only_after_the_last_record(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox))

    kinds = [m["type"] for m in run.messages]
    streams = [m.get("stream") for m in run.messages]
    last_record = max(
        i
        for i, (kind, stream) in enumerate(zip(kinds, streams, strict=True))
        if (kind, stream) == ("RECORD", "syncs")
    )
    (activate,) = run.of_stream("ACTIVATE_VERSION", "syncs")
    assert run.messages.index(activate) > last_record
    assert {m["version"] for m in run.of_stream("RECORD", "syncs")} == {activate["version"]}


def test_configured_ids_never_mark_anything_deleted(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:3]))

    assert run.of_stream("ACTIVATE_VERSION", "syncs") == []
    assert all("version" not in m for m in run.of_stream("RECORD", "syncs"))


def test_later_run_has_a_newer_version(sandbox: Sandbox) -> None:
    first = run_in_process(config_for(sandbox)).of_stream("ACTIVATE_VERSION", "syncs")[0]
    second = run_in_process(config_for(sandbox)).of_stream("ACTIVATE_VERSION", "syncs")[0]
    assert second["version"] > first["version"]


def test_state_does_not_grow_with_the_number_of_ids() -> None:
    with make_sandbox(syncs=600) as many:
        big = run_in_process(config_for(many, sync_ids=many.sync_ids))
        small = run_in_process(config_for(many, sync_ids=many.sync_ids[:2]))

    big_state = json.dumps(big.of_type("STATE")[-1])
    assert len(big.records) == 600
    assert big_state == json.dumps(small.of_type("STATE")[-1])
    assert len(big_state) < 200


def test_unknown_field_is_warned_once_per_run_and_not_loaded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with make_sandbox(syncs=5) as sb:
        for sync_id in sb.sync_ids:
            sb.update_sync(sync_id, brand_new_field={"x": 1})
        with caplog.at_level(logging.WARNING):
            run = run_in_process(config_for(sb))

    warnings = [r.getMessage() for r in caplog.records if "brand_new_field" in r.getMessage()]
    # One warning when first seen, and one count at the end of the run.
    assert len(warnings) == 2
    assert "first seen" in warnings[0]
    assert warnings[1].startswith("5 syncs in this run")
    assert all("brand_new_field" not in r for r in run.records)
    assert len(run.records) == 5


def test_malformed_health_gives_nulls_and_a_warning_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with make_sandbox(syncs=3) as sb:
        broken = sb.sync_ids[1]
        sb.update_sync(broken, health="very bad", rate_limit=None)
        with caplog.at_level(logging.WARNING):
            run = run_in_process(config_for(sb))

    row = next(r for r in run.records if r["id"] == broken)
    assert row["health_status"] is None
    assert row["rate_limit_allowed_requests"] is None
    assert any("health" in r.getMessage() and broken in r.getMessage() for r in caplog.records)
    assert len(run.records) == 3


def test_cli_success_exits_zero_and_says_what_it_did(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_cli(config_for(sandbox), tmp_path)

    assert run.status == 0, run.stderr
    assert len(run.records) == 12
    assert "extracted 12 syncs" in run.last_stderr_line


def test_about_lists_every_setting_with_api_key_secret(tmp_path: Path) -> None:
    run = run_cli(None, tmp_path, "--about", "--format=json")

    about = json.loads(run.stdout)
    properties = about["settings"]["properties"]
    for name in (
        "api_key",
        "sync_ids",
        "base_url",
        "request_timeout",
        "max_retries",
        "user_agent",
        "max_concurrent_requests",
        "max_requests_per_second",
    ):
        assert name in properties
        assert properties[name].get("description")
    assert properties["api_key"]["secret"] is True
    assert "test" in about["capabilities"]


def test_connection_test_says_plainly_that_the_token_works(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli(config_for(sandbox), tmp_path, "--test")

    assert run.status == 0
    assert run.stdout.startswith("OK:")
    assert "12 syncs are visible" in run.stdout
    assert len(sandbox.requests) == 1


def test_connection_test_says_plainly_that_the_token_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli(config_for(sandbox, api_key="wrong-token"), tmp_path, "--test")

    assert run.status == 1
    assert run.stdout.startswith("FAILED:")
    assert "api_key" in run.stdout
    assert "wrong-token" not in run.stdout + run.stderr


@pytest.mark.parametrize("mode", ["about", "discover"])
def test_about_and_discover_import_no_http_code(mode: str) -> None:
    probe = f"""
import contextlib, io, sys
from tap_sequin.tap import TapSequin
with contextlib.redirect_stdout(io.StringIO()):
    if {mode!r} == "about":
        TapSequin.print_about("json")
    else:
        TapSequin(config={{}}, validate_config=False, setup_mapper=False).run_discovery()
print(sorted(m for m in sys.modules if m.startswith(("tap_sequin", "pendulum"))))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip()
    # The streams declare their shapers, so the (pure, small) shaping modules load.
    for module in ("tap_sequin.client.api", "tap_sequin.client.session", "requests", "pendulum"):
        assert f"'{module}'" not in loaded


def test_a_deselected_column_is_left_out_of_every_record(sandbox: Sandbox) -> None:
    from tap_sequin.tap import TapSequin

    catalog = TapSequin(config=config_for(sandbox), validate_config=False).catalog_dict
    (syncs,) = [entry for entry in catalog["streams"] if entry["tap_stream_id"] == "syncs"]
    for entry in syncs["metadata"]:
        if entry["breadcrumb"] == ["properties", "credential"]:
            entry["metadata"]["selected"] = False

    run = run_in_process(config_for(sandbox), catalog=catalog)

    assert len(run.records) == 12
    assert all("credential" not in record for record in run.records)
    assert all("credential_id" in record for record in run.records)


def test_discover_and_about_describe_the_three_streams(tmp_path: Path) -> None:
    run = run_cli({"api_key": "x"}, tmp_path, "--discover")

    assert run.status == 0, run.stderr
    streams = {s["tap_stream_id"]: s for s in json.loads(run.stdout)["streams"]}
    # The SDK's order: by name.
    assert list(streams) == ["credentials", "sync_health_history", "syncs"]
    assert streams["syncs"]["key_properties"] == ["id"]
    assert streams["sync_health_history"]["key_properties"] == ["sync_id", "observed_at"]
    assert streams["credentials"]["key_properties"] == ["id"]
    history = streams["sync_health_history"]["schema"]["properties"]
    assert history["observed_at"]["format"] == "date-time"
    assert "health_notes" in streams["syncs"]["schema"]["properties"]
    about = json.loads(run_cli(None, tmp_path, "--about", "--format=json").stdout)
    for name in streams:
        assert name in about["description"]


def test_an_id_answered_with_another_sync_is_never_loaded_under_it(requests_mock: t.Any) -> None:
    # Each record's id is the id asked for: an answer about another sync is a
    # failed attempt, retried, and the run fails naming the id rather than emit a second
    # row with the first sync's key.
    with make_sandbox(syncs=3) as sb:
        real = sb.sync_ids[1]
        requests_mock.real_http = True  # everything else goes to the sandbox
        alias = requests_mock.get(f"{sb.url}/v1/syncs/alias", json=sb.sync(real))
        config = config_for(sb, sync_ids=[real, "alias"], max_retries=1, retry_backoff_seconds=0.01)
        with pytest.raises(RetriesExhausted) as caught:
            run_in_process(config)

    assert alias.call_count == 2
    message = str(caught.value)
    assert message.startswith("sync alias (GET /v1/syncs/alias)")
    assert "the answer is about another sync" in message
