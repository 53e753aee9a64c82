"""Stream maps, Faker and flattening through the real CLI.

A map that cannot work is refused before the first request, with one line naming
``stream_maps``; ``fake`` (the SDK's Faker, ``faker_config``) works in expressions;
``flattening_enabled`` warns that it would change columns of the already flat row.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_sequin.sandbox import Sandbox

from .conftest import config_for, run_cli


@pytest.mark.parametrize(
    ("maps", "expected"),
    [
        ({"syncs": {"name": "nme.upper()"}}, "unknown name 'nme'; did you mean 'name'?"),
        ({"syncs": {"__filter__": "helth_status != 'healthy'"}}, "did you mean 'health_status'"),
        ({"syncs": {"name": "name.upper("}}, "is not an expression"),
        ({"sync": {"name": "name.upper()"}}, "'sync' is not a stream of tap-sequin"),
        # simpleeval offers no len(); the SDK would fail on the first record.
        ({"syncs": {"n": "len(collection_ids)"}}, "unknown name 'len'"),
        # A new stream from a misspelt source: the SDK would make nothing of it, silently.
        (
            {"copy": {"__source__": "sycns"}},
            "'sycns' is not a stream of tap-sequin; did you mean 'syncs'?",
        ),
        ({"syncs": {"name": "fake.nme()"}}, "calls fake.nme, which Faker does not have"),
        # Removing a column one letter off: the SDK would remove nothing and say nothing.
        (
            {"syncs": {"metdata": "__NULL__"}},
            "syncs.metdata: removes a property syncs does not have; did you mean 'metadata'?",
        ),
        ({"credentials": {"propertes": None}}, "did you mean 'properties'?"),
    ],
)
def test_broken_map_is_refused_before_any_request(
    maps: dict[str, t.Any], expected: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli(config_for(sandbox, stream_maps=maps), tmp_path)
    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'stream_maps': ")
    assert expected in run.last_stderr_line
    assert "Traceback" not in run.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("maps", "expected"),
    [
        ({"syncs": {"n": "int(name)"}}, "syncs.n: 'int(name)' failed on sync {id}: ValueError"),
        (
            {"syncs": {"__filter__": "1/0"}},
            "syncs.__filter__: '1/0' failed on sync {id}: ZeroDivisionError",
        ),
    ],
)
def test_map_failing_on_a_value_ends_with_one_line_naming_stream_and_property(
    maps: dict[str, t.Any], expected: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli(config_for(sandbox, stream_maps=maps), tmp_path)
    assert run.status == 1
    first = sandbox.sync_ids[0]
    assert run.last_stderr_line.startswith(
        "tap-sequin: error: setting 'stream_maps': " + expected.format(id=first)
    )
    # One line: not the SDK's "An unhandled error occurred..." before ours.
    assert "unhandled error" not in run.stderr
    assert "Traceback" not in run.stderr


def test_a_bad_faker_locale_is_blamed_on_faker_config(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_for(
        sandbox, stream_maps={"syncs": {"name": "fake.name()"}}, faker_config={"locale": "xx_YY"}
    )
    run = run_cli(config, tmp_path)
    assert run.status == 1
    assert run.last_stderr_line.startswith(
        "tap-sequin: error: setting 'faker_config': locale 'xx_YY' is not a Faker locale"
    )
    assert sandbox.requests == []


def test_valid_map_with_record_config_and_builtins_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    maps = {
        "syncs": {
            "name_upper": "name.upper() if name else None",
            "interval_plus_one": "int(rate_limit_interval or 0) + 1",
            "team": "config['team']",
            "ids": "[c for c in (collection_ids or []) if c]",
        }
    }
    config = config_for(sandbox, stream_maps=maps, stream_map_config={"team": "data"})
    run = run_cli(config, tmp_path)
    assert run.status == 0, run.stderr[-2000:]
    first = run.records[0]
    assert first["name_upper"] == first["name"].upper()
    assert first["team"] == "data"


def test_fake_name_in_a_stream_map(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_for(
        sandbox,
        stream_maps={"syncs": {"name": "fake.name()"}},
        faker_config={"seed": 42, "locale": "en_US"},
    )
    first = run_cli(config, tmp_path)
    again = run_cli(config, tmp_path)
    assert first.status == 0, first.stderr[-2000:]
    names = [r["name"] for r in first.records]
    originals = {sandbox.sync(i)["name"] for i in sandbox.sync_ids}
    assert all(isinstance(n, str) and " " in n for n in names)
    assert not set(names) & originals
    assert [r["name"] for r in again.records] == names, "faker_config.seed makes it repeatable"


def test_flattening_warns_that_it_changes_existing_columns(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_for(sandbox, flattening_enabled=True, flattening_max_depth=1)
    run = run_cli(config, tmp_path)
    assert run.status == 0
    warnings = [line for line in run.stderr.splitlines() if "flattening_enabled" in line]
    # One warning per stream whose row flattening would change; the syncs one names the array.
    assert len(warnings) == len({w.split(" row is")[0] for w in warnings})
    (warning,) = [w for w in warnings if "the syncs row" in w]
    assert "already flat" in warning
    assert "'collection_ids' changes from array to string (JSON text)" in warning
    # metadata has no declared keys: flattened, it has no column at all.
    assert "'metadata' (object) is dropped: no column replaces it" in warning
    assert "'health' (object) is replaced by health_" not in warning
    assert run.of_stream("SCHEMA", "syncs")[0]["schema"]["properties"]["collection_ids"][
        "type"
    ] == [
        "string",
        "null",
    ]


def test_no_flattening_warning_by_default(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_cli(config_for(sandbox), tmp_path)
    assert "flattening" not in run.stderr


@pytest.mark.parametrize("remove", [None, "__NULL__"])
def test_null_or_null_string_removes_a_column(
    remove: str | None, sandbox: Sandbox, tmp_path: Path
) -> None:
    # Meltano drops null values inside objects in meltano.yml: "__NULL__" survives it.
    run = run_cli(config_for(sandbox, stream_maps={"syncs": {"metadata": remove}}), tmp_path)
    assert run.status == 0, run.stderr[-2000:]
    assert all("metadata" not in r for r in run.records)
    assert "metadata" not in run.of_stream("SCHEMA", "syncs")[0]["schema"]["properties"]


def test_a_new_stream_from_source_and_an_alias_pass_the_checks(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    maps = {
        "syncs": {"__alias__": "sequin_syncs"},
        "unhealthy": {"__source__": "syncs", "__filter__": "health_status != 'healthy'"},
    }
    run = run_cli(config_for(sandbox, stream_maps=maps), tmp_path)
    assert run.status == 0, run.stderr[-2000:]
    streams = {m["stream"] for m in run.of_type("RECORD")}
    assert "sequin_syncs" in streams


def test_flattening_without_a_depth_is_one_line_naming_the_setting(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli(config_for(sandbox, flattening_enabled=True), tmp_path)
    assert run.status == 1
    assert run.last_stderr_line.startswith(
        "tap-sequin: error: setting 'flattening_max_depth': is required when flattening_enabled"
    )
    assert "Config validation failed" not in run.stderr
    assert sandbox.requests == []


def test_a_misspelt_special_key_is_refused_before_any_request(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_for(sandbox, stream_maps={"syncs": {"__filtr__": "False"}})
    run = run_cli(config, tmp_path)

    assert run.status == 1
    assert run.last_stderr_line == (
        "tap-sequin: error: setting 'stream_maps': syncs.__filtr__: is no key stream maps "
        "know; did you mean '__filter__'?"
    )
    assert sandbox.requests == []
