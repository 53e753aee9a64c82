"""The ``credentials`` stream over real HTTP: every kind, secrets redacted, soft deletes, 404."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tap_sequin.sandbox import SECRET_MARKER, Faults, Rule, Sandbox
from tap_sequin.sandbox.credentials import DOCUMENTED_KINDS, OAUTH_MASK
from tap_sequin.shaping.credentials import CredentialShaper, MalformedCredential

from .conftest import config_for, run_cli, run_in_process


def test_every_credential_once_every_kind_secrets_redacted(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox))

    rows = run.records_of("credentials")
    (schema,) = run.of_stream("SCHEMA", "credentials")
    assert schema["key_properties"] == ["id"]
    assert list(rows[0]) == list(schema["schema"]["properties"])
    assert len({row["id"] for row in rows}) == len(rows)
    assert {row["kind"] for row in rows} >= {kind for kind, _ in DOCUMENTED_KINDS}
    assert {row["health_status"] for row in rows} >= {"ok", "error"}
    text = json.dumps(rows)
    assert SECRET_MARKER not in text
    assert OAUTH_MASK not in text, "even masked secrets are replaced, as in syncs"
    assert "[REDACTED]" in text
    used = {row["credential_id"] for row in run.records}
    assert used <= {row["id"] for row in rows}


def test_health_is_flattened_and_timestamps_normalised(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox))

    broken = [r for r in run.records_of("credentials") if r["health_status"] == "error"]
    assert broken
    for row in broken:
        assert row["health_notes"] == row["health"]["notes"]
        assert row["health_notes"]
        assert row["health_checked_at"].endswith("+00:00")
        assert row["created_at"].endswith("+00:00")


def test_credentials_version_is_activated_after_their_last_record(sandbox: Sandbox) -> None:
    run = run_in_process(config_for(sandbox, sync_ids=sandbox.sync_ids[:2]))

    (activate,) = run.of_stream("ACTIVATE_VERSION", "credentials")
    records = run.of_stream("RECORD", "credentials")
    assert run.messages.index(activate) > run.messages.index(records[-1])
    assert {m["version"] for m in records} == {activate["version"]}


def test_api_without_credentials_is_a_warning_and_the_other_streams_go_on(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.set_faults(Faults(rules=(Rule(path="/v1/credentials", kind="404"),)))
    run = run_cli(config_for(sandbox), tmp_path)

    assert run.status == 0, run.stderr
    assert len(run.records) == 12
    assert len(run.records_of("sync_health_history")) == 12
    assert run.records_of("credentials") == []
    assert run.of_stream("ACTIVATE_VERSION", "credentials") == []
    assert run.of_stream("ACTIVATE_VERSION", "syncs") != []
    warnings = [line for line in run.stderr.splitlines() if "/v1/credentials answered 404" in line]
    assert len(warnings) == 1
    assert "credentials not served (404)" in run.last_stderr_line


def test_credentials_listing_that_fails_fails_the_run(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_faults(Faults(rules=(Rule(path="/v1/credentials", kind="503"),)))
    run = run_cli(config_for(sandbox, max_retries=1), tmp_path)

    assert run.status == 1
    assert "/v1/credentials" in run.last_stderr_line
    assert run.last_stderr_line.startswith("tap-sequin: error:")
    assert run.of_stream("ACTIVATE_VERSION", "credentials") == []


def test_credential_without_an_id_cannot_be_keyed_and_top_level_kind_is_used() -> None:
    shaper = CredentialShaper(logging.getLogger("test"))
    with pytest.raises(MalformedCredential):
        shaper.shape({"provider": "stripe"})
    row = shaper.shape({"id": "c1", "properties": {"secret": "x"}, "kind": "stripe_key"})
    assert row["kind"] == "stripe_key"
    assert row["properties"] == {"secret": "[REDACTED]"}


def test_undocumented_credential_health_key_is_kept_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shaper = CredentialShaper(logging.getLogger("test"))
    with caplog.at_level(logging.WARNING):
        for n in range(3):
            health = {"status": "ok", "notes": [], "time": "2024-01-01 00:00:00", "code": n}
            row = shaper.shape({"id": f"c{n}", "health": health})
            assert row["health"] == health
            assert row["health_checked_at"] == "2024-01-01T00:00:00+00:00"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert "'health.code'" in messages[0]


def test_unusable_listing_item_is_skipped_and_nothing_is_marked_deleted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    listing = sandbox.credentials()
    sandbox.set_credentials([*listing[:3], {"provider": "stripe"}, "junk", listing[3]])

    run = run_cli(config_for(sandbox), tmp_path)

    assert run.status == 0, run.stderr
    assert [r["id"] for r in run.records_of("credentials")] == [c["id"] for c in listing[:4]]
    assert run.of_stream("ACTIVATE_VERSION", "credentials") == []
    assert run.of_stream("ACTIVATE_VERSION", "syncs") != []
    assert "no ACTIVATE_VERSION: the listing had unusable items" in run.last_stderr_line
    skipped = [line for line in run.stderr.splitlines() if "credentials listing item" in line]
    assert len(skipped) == 2


def test_duplicate_credential_is_extracted_once(sandbox: Sandbox) -> None:
    listing = sandbox.credentials()
    sandbox.set_credentials([*listing, listing[0]])

    run = run_in_process(config_for(sandbox))

    assert len(run.records_of("credentials")) == len(listing)
    assert run.of_stream("ACTIVATE_VERSION", "credentials") != []
