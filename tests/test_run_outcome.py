"""What a run sends and says: soft deletes only when safe, NUL never emitted, honest summaries.

Through the real CLI against the sandbox, as a user (or Meltano) runs the tap.
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest

from tap_sequin.sandbox import Faults, Sandbox

from .conftest import catalog_selecting, config_for, make_sandbox, run_cli, tap_command

MAPS: dict[str, dict[str, t.Any]] = {
    "filter": {"syncs": {"__filter__": "health_status != 'healthy'"}},
    "re-route": {"syncs": {"__alias__": "all_syncs"}},
    "remove": {"syncs": None},
    "filtered copy": {
        "unhealthy_syncs": {"__source__": "syncs", "__filter__": "health_status != 'healthy'"}
    },
}


@pytest.mark.parametrize("kind", list(MAPS))
def test_a_stream_map_that_drops_or_reroutes_syncs_means_no_activation(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    run = run_cli(config_for(sandbox, stream_maps=MAPS[kind]), tmp_path)

    assert run.status == 0, run.stderr
    activated = {m["stream"] for m in run.of_type("ACTIVATE_VERSION")}
    assert activated == {"credentials"}, "only the credentials reached the output whole"
    why = [line for line in run.stderr.splitlines() if "no ACTIVATE_VERSION this run" in line]
    assert len(why) == 1
    assert "'syncs'" in why[0]
    assert "stream map" in why[0]
    assert "no ACTIVATE_VERSION" in run.last_stderr_line


def test_a_map_that_only_changes_values_keeps_the_activation(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    maps = {"syncs": {"name": "name.upper()", "metadata": "__NULL__"}}
    run = run_cli(config_for(sandbox, stream_maps=maps), tmp_path)

    assert run.status == 0, run.stderr
    assert {m["stream"] for m in run.of_type("ACTIVATE_VERSION")} == {"syncs", "credentials"}
    assert all(r["name"] == r["name"].upper() for r in run.records)


def test_batch_config_says_why_there_is_no_activation(sandbox: Sandbox, tmp_path: Path) -> None:
    batch = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "batch-"},
    }
    run = run_cli(config_for(sandbox, batch_config=batch), tmp_path)

    assert run.status == 0, run.stderr
    assert run.of_type("ACTIVATE_VERSION") == []
    assert "no ACTIVATE_VERSION: batch_config is set" in run.last_stderr_line
    assert "deleted" not in run.last_stderr_line


def test_summary_says_what_was_sent_in_the_right_plural(tmp_path: Path) -> None:
    with make_sandbox(syncs=1) as sb:
        run = run_cli(config_for(sb), tmp_path)

    assert run.status == 0, run.stderr
    line = run.last_stderr_line
    assert "extracted 1 sync (ACTIVATE_VERSION sent)" in line
    assert "1 row of sync_health_history" in line
    assert "credentials (ACTIVATE_VERSION sent)" in line
    assert "deleted" not in line


def test_summary_counts_records_sent_per_stream_not_syncs_read(tmp_path: Path) -> None:
    maps = {"sync_health_history": {"__filter__": "False"}, "syncs": {"__filter__": "False"}}
    with make_sandbox(syncs=4) as sb:
        run = run_cli(config_for(sb, stream_maps=maps), tmp_path)

    assert run.status == 0, run.stderr
    assert run.records == []
    assert run.records_of("sync_health_history") == []
    line = run.last_stderr_line
    assert "extracted 0 syncs of 4 read (no ACTIVATE_VERSION: only 0 of 4 syncs" in line
    assert "0 rows of sync_health_history (of 4 syncs read)" in line
    assert "4 rows" not in line


def test_summary_names_only_the_streams_that_ran(tmp_path: Path) -> None:
    with make_sandbox(syncs=4) as sb:
        config = config_for(sb)
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(catalog_selecting(config, "credentials")))
        run = run_cli(config, tmp_path, "--catalog", str(catalog))
        listed = len(sb.credentials())

    assert run.status == 0, run.stderr
    assert len(run.records_of("credentials")) == listed > 0
    line = run.last_stderr_line
    assert line.endswith(f"{listed} credentials (ACTIVATE_VERSION sent)")
    assert "sync" not in line


def test_nul_nested_anywhere_is_replaced_warned_once_and_every_sync_loads(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    dirty = sandbox.sync_ids[3]
    sandbox.update_sync(dirty, metadata={"team": {"lead\x00": ["ok", "bad\x00value"]}})
    sync = sandbox.sync(dirty)
    sync["credential"]["properties"]["label"] = "x\x00y"
    sandbox.add_sync({**sync, "id": "nul-\x00-id"})

    run = run_cli(config_for(sandbox), tmp_path)

    assert run.status == 0, run.stderr
    assert len(run.records) == 13
    assert "\\u0000" not in run.stdout
    row = next(r for r in run.records if r["id"] == dirty)
    assert row["metadata"] == {"team": {"lead\ufffd": ["ok", "bad\ufffdvalue"]}}
    warned = [line for line in run.stderr.splitlines() if "U+0000" in line]
    assert any(dirty in line and "metadata.team.lead\ufffd[1]" in line for line in warned)
    assert any("credential.properties.label" in line for line in warned)
    assert any("'id'" in line for line in warned)
    # One warning per field (the copy of the sync is only counted, in the end-of-run totals).
    first = [line for line in warned if "Warned once per run" in line]
    assert len(first) == 4
    assert len(warned) - len(first) == 2


def test_nul_is_replaced_in_a_sync_read_by_id_between_clean_ones(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # Read by id, each answer is judged on its own: a clean answer before or after does
    # not let a NUL through.
    clean, dirty, other = sandbox.sync_ids[:3]
    sandbox.update_sync(dirty, metadata={"deep": [{"k\x00": "v\x00"}]})

    run = run_cli(config_for(sandbox, sync_ids=[clean, dirty, other, dirty]), tmp_path)

    assert run.status == 0, run.stderr
    assert run.ids == [clean, dirty, other]
    assert "\\u0000" not in run.stdout
    row = next(r for r in run.records if r["id"] == dirty)
    assert row["metadata"] == {"deep": [{"k\ufffd": "v\ufffd"}]}


def test_sync_ids_none_of_which_can_be_read_fail_naming_base_url_and_sync_ids(
    tmp_path: Path,
) -> None:
    with make_sandbox(syncs=3, faults=Faults(not_found=frozenset({"a", "b"}))) as sb:
        run = run_cli(config_for(sb, sync_ids=["a", "b"]), tmp_path)

    assert run.status == 1
    line = run.last_stderr_line
    assert line.startswith("tap-sequin: error:")
    assert "base_url" in line
    assert sb.url in line
    assert "sync_ids" in line
    assert "none of the 2 configured syncs" in line
    assert len([x for x in run.stderr.splitlines() if "tap-sequin: error" in x]) == 1


def test_one_sync_id_not_readable_is_worded_for_one(tmp_path: Path) -> None:
    with make_sandbox(syncs=3, faults=Faults(not_found=frozenset({"a"}))) as sb:
        run = run_cli(config_for(sb, sync_ids=["a"]), tmp_path)

    assert run.status == 1
    assert "the configured sync could not be read" in run.last_stderr_line
    assert "(GET /v1/syncs/a answered 404)" in run.last_stderr_line
    assert "{id}" not in run.last_stderr_line
    assert "none of the 1" not in run.stderr
    # No "other syncs" to speak of.
    assert 'sync a: HTTP 404 "Sync a not found" (GET /v1/syncs/a); skipped. Check sync_ids' in (
        run.stderr
    )
    assert "the other syncs are extracted" not in run.stderr


def test_some_ids_readable_is_still_a_success(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_cli(config_for(sandbox, sync_ids=[sandbox.sync_ids[0], "gone"]), tmp_path)

    assert run.status == 0, run.stderr
    assert "extracted 1 sync;" in run.last_stderr_line
    assert "1 not found: gone" in run.last_stderr_line


@pytest.mark.parametrize("case", ["refused token", "none readable"])
def test_a_handled_failure_is_one_clear_line_without_the_sdks_unhandled_error(
    tmp_path: Path, case: str
) -> None:
    with make_sandbox(syncs=3) as sb:
        if case == "refused token":
            sb.revoke_token()
            config = config_for(sb)
        else:
            config = config_for(sb, sync_ids=["missing"])
        run = run_cli(config, tmp_path)

    assert run.status == 1
    assert "unhandled error" not in run.stderr
    assert " ERROR " not in run.stderr
    assert [line for line in run.stderr.splitlines() if "error" in line.lower()] == [
        run.last_stderr_line
    ]


def test_the_sandboxs_own_data_triggers_no_warning(tmp_path: Path) -> None:
    with make_sandbox(syncs=60, seed=1) as sb:
        run = run_cli(config_for(sb), tmp_path)

    assert run.status == 0, run.stderr
    # The SDK's own end-of-life notice on Python 3.10 is about Python, not the data.
    warned = [
        line
        for line in run.stderr.splitlines()
        if "WARNING" in line and "supported Python version" not in line
    ]
    assert warned == []
    older = [r for r in run.records if r["health_provider_status"] is not None]
    assert older, "the older health shape is in the data"
    assert any(r["external_id"] for r in run.records)
    assert json.dumps(run.records)


def test_stdout_on_a_full_disk_says_stdout_could_not_be_written(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_for(sandbox)))
    with open("/dev/full", "w") as full:  # every write: ENOSPC
        done = subprocess.run(
            [*tap_command(), "--config", str(path)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "tap-sequin: error: stdout could not be written (No space left on device); "
        "the run is incomplete"
    )
