"""Bad settings are refused before any request, in one line naming the setting."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_sequin.errors import ConfigError
from tap_sequin.sandbox import Sandbox
from tap_sequin.settings.parsing import DEFAULT_BASE_URL, parse_settings

from .conftest import TOKEN, config_for, run_cli

BAD: list[tuple[str, dict[str, t.Any]]] = [
    ("api_key", {"api_key": None}),
    ("api_key", {"api_key": ""}),
    ("api_key", {"api_key": "   "}),
    ("api_key", {"api_key": 42}),
    ("api_key", {"api_key": "two words"}),
    ("sync_ids", {"sync_ids": "abc,def"}),
    ("sync_ids", {"sync_ids": ["abc", ""]}),
    ("sync_ids", {"sync_ids": ["abc", "  "]}),
    ("sync_ids", {"sync_ids": ["abc", 7]}),
    ("sync_ids", {"sync_ids": ["../admin"]}),
    ("base_url", {"base_url": "api.sequin.io"}),
    ("base_url", {"base_url": "ftp://api.sequin.io"}),
    ("base_url", {"base_url": "http://api.sequin.io"}),
    ("base_url", {"base_url": "https://user:pw@api.sequin.io"}),
    ("request_timeout", {"request_timeout": 0}),
    ("request_timeout", {"request_timeout": -5}),
    ("request_timeout", {"request_timeout": "thirty"}),
    ("request_timeout", {"request_timeout": "nan"}),
    ("max_retries", {"max_retries": -1}),
    ("max_retries", {"max_retries": 2.5}),
    ("max_concurrent_requests", {"max_concurrent_requests": 0}),
    ("max_concurrent_requests", {"max_concurrent_requests": -3}),
    ("max_concurrent_requests", {"max_concurrent_requests": True}),
    ("max_requests_per_second", {"max_requests_per_second": 0}),
    ("max_requests_per_second", {"max_requests_per_second": -1}),
    ("retry_backoff_seconds", {"retry_backoff_seconds": 0}),
]


@pytest.mark.parametrize(("setting", "override"), BAD, ids=[f"{s}={o}" for s, o in BAD])
def test_each_bad_value_is_refused_naming_its_setting(
    setting: str, override: dict[str, t.Any]
) -> None:
    config = {"api_key": TOKEN, **override}
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    message = str(caught.value)
    assert caught.value.setting == setting
    assert f"'{setting}'" in message
    assert "\n" not in message
    assert TOKEN not in message


def test_defaults() -> None:
    settings = parse_settings({"api_key": TOKEN})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.request_timeout == 30
    assert settings.max_retries == 5
    assert settings.max_concurrent_requests == 8
    assert settings.max_requests_per_second is None
    assert settings.lists_every_sync
    assert TOKEN not in repr(settings)


def test_numbers_given_as_text_are_accepted() -> None:
    # Orchestrators pass environment variables as strings.
    settings = parse_settings(
        {"api_key": TOKEN, "request_timeout": "2.5", "max_concurrent_requests": " 16 "}
    )
    assert settings.request_timeout == 2.5
    assert settings.max_concurrent_requests == 16


def test_loopback_http_is_allowed_and_trailing_slash_dropped() -> None:
    for url in ("http://127.0.0.1:8080/", "http://localhost:1", "http://[::1]:9"):
        assert parse_settings({"api_key": TOKEN, "base_url": url}).base_url == url.rstrip("/")


def test_duplicate_ids_are_kept_once_in_first_order() -> None:
    settings = parse_settings({"api_key": TOKEN, "sync_ids": ["b", "a", "b", "c", "a"]})
    assert settings.sync_ids == ("b", "a", "c")


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"max_concurrent_requests": 0}, "max_concurrent_requests"),
        ({"sync_ids": ["ok", ""]}, "sync_ids"),
        # Path steps, not ids: GET /v1/syncs/. would be the listing, /v1/syncs/.. the root.
        ({"sync_ids": ["ok", "."]}, "sync_ids"),
        ({"sync_ids": [".."]}, "sync_ids"),
        ({"sync_id": ["typo"]}, "sync_id"),
        ({"api_key": "tok-€-1"}, "api_key"),  # no HTTP header can carry it
        ({"user_agent": "agent ü"}, "user_agent"),
        ({"api_key": ""}, "api_key"),
        ({"flattening_enabled": True, "flattening_max_depth": -3}, "flattening_max_depth"),
        ({"flattening_max_key_length": 0}, "flattening_max_key_length"),
    ],
)
def test_cli_refuses_before_any_request(
    override: dict[str, t.Any], setting: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli({**config_for(sandbox), **override}, tmp_path)

    assert run.status == 1
    assert f"'{setting}'" in run.last_stderr_line
    assert "Traceback" not in run.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("batch_config", "expected"),
    [
        ({"encoding": {"format": "jsonl"}}, 'needs "storage"'),
        ({"storage": {"root": "file:///tmp"}}, 'needs "encoding"'),
        (
            {"encoding": {"format": "jsonl"}, "storage": {"root": "s3://bucket/batches"}},
            "storage.root s3:// needs the s3fs package, which is not installed",
        ),
        (
            {"encoding": {"format": "parquet"}, "storage": {"root": "file:///tmp"}},
            'encoding.format "parquet" needs pyarrow, which is not installed',
        ),
    ],
)
def test_batch_config_is_refused_before_any_request(
    batch_config: dict[str, t.Any], expected: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli({**config_for(sandbox), "batch_config": batch_config}, tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'batch_config': ")
    assert expected in run.last_stderr_line
    assert "Traceback" not in run.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
        ("http://localhost:port", "is not a valid URL"),
        ("http://localhost/p?q=SECRET", "must not have a query or fragment"),
        ("http://localhost/p#SECRET", "must not have a query or fragment"),
    ],
)
def test_a_malformed_base_url_is_one_line_that_never_echoes_a_query(
    base_url: str, expected: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli({**config_for(sandbox), "base_url": base_url}, tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'base_url': ")
    assert expected in run.last_stderr_line
    assert "SECRET" not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    assert sandbox.requests == []


def test_typo_in_a_setting_name_suggests_the_real_one(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_cli({**config_for(sandbox), "sync_id": ["x"]}, tmp_path)
    assert "did you mean 'sync_ids'" in run.last_stderr_line


def test_incremental_replication_in_the_catalog_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    catalog = {
        "streams": [
            {
                "tap_stream_id": "syncs",
                "stream": "syncs",
                "schema": {"type": "object", "properties": {"id": {"type": "string"}}},
                "replication_method": "INCREMENTAL",
                "replication_key": "updated_at",
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    run = run_cli(config_for(sandbox), tmp_path, "--catalog", str(tmp_path / "catalog.json"))

    assert run.status == 1
    assert "replication" in run.last_stderr_line
    assert "FULL_TABLE" in run.last_stderr_line
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("setting", "value", "limit"),
    [
        ("max_concurrent_requests", "9999999999999999999999", "256"),
        ("max_concurrent_requests", 100000, "256"),
        ("request_timeout", 1e20, "3600"),
        ("request_timeout", "1e20", "3600"),
        ("max_requests_per_second", 1e20, "10000"),
        ("retry_backoff_seconds", 86400, "3600"),
        ("max_retries", "1e20", "100"),
    ],
)
def test_absurdly_large_numbers_are_refused_in_one_line_before_any_request(
    setting: str, value: t.Any, limit: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    # 10**22 workers once took all 23 GiB of the machine; 1e20 s crashed on time_t.
    run = run_cli(config_for(sandbox, **{setting: value}), tmp_path)
    assert run.status == 1
    assert run.last_stderr_line.startswith(
        f"tap-sequin: error: setting '{setting}': must be at most {limit}, got"
    ), run.stderr[-1000:]
    assert "unexpected" not in run.stderr
    assert sandbox.requests == []


def _discovered(sandbox: Sandbox, tmp_path: Path) -> dict[str, t.Any]:
    run = run_cli(config_for(sandbox), tmp_path, "--discover")
    assert run.status == 0, run.stderr[-2000:]
    catalog: dict[str, t.Any] = json.loads(run.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "syncs"
    return catalog


def test_a_catalog_that_changes_a_type_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    catalog = _discovered(sandbox, tmp_path)
    syncs = next(e for e in catalog["streams"] if e["tap_stream_id"] == "syncs")
    syncs["schema"]["properties"]["id"]["type"] = ["integer"]
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    run = run_cli(config_for(sandbox), tmp_path, "--catalog", str(tmp_path / "catalog.json"))

    assert run.status == 1
    assert run.last_stderr_line.startswith(
        "tap-sequin: error: setting 'catalog': --catalog declares syncs.id as integer, "
        "but tap-sequin emits string"
    )
    assert run.records == []
    assert sandbox.requests == []


def test_a_catalog_stream_the_tap_does_not_have_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    catalog = _discovered(sandbox, tmp_path)
    renamed = next(e for e in catalog["streams"] if e["tap_stream_id"] == "credentials")
    renamed["tap_stream_id"] = renamed["stream"] = "nosuch"
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    run = run_cli(config_for(sandbox), tmp_path, "--catalog", str(tmp_path / "catalog.json"))

    assert run.status == 0, run.stderr[-2000:]
    assert "--catalog: stream 'nosuch' is not a stream of tap-sequin and is ignored" in run.stderr
    assert run.ids == sandbox.sync_ids
