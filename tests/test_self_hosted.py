"""``api: self-hosted`` at the CLI, against the sandbox serving a self-hosted server's API.

Every run's whole stdout and stderr is searched for the sandbox's secrets, in clear and in
the server's obfuscated form: no test here may pass with a secret in the output.
"""

from __future__ import annotations

import json
import re
import typing as t
from pathlib import Path

import pytest

from tap_sequin.sandbox import SECRET_MARKER, Faults, Rule, Sandbox, SelfHostedSandbox
from tap_sequin.shaping.self_hosted_schemas import (
    BACKFILL_SCHEMA,
    HTTP_ENDPOINT_SCHEMA,
    POSTGRES_DATABASE_SCHEMA,
    SINK_HEALTH_HISTORY_SCHEMA,
    SINK_SCHEMA,
)

from .conftest import TOKEN, Run, catalog_selecting, run_cli, self_hosted_config_for

SELF_HOSTED = {"sinks", "sink_health_history", "backfills", "postgres_databases", "http_endpoints"}
V1 = {"syncs", "sync_health_history", "credentials"}
# The server's obfuscation: a few characters, then a run of stars (``san*****a``).
STARS = re.compile(r"\*{3,}")


def config_of(sb: SelfHostedSandbox | Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    return self_hosted_config_for(sb, max_retries=2, **overrides)


@pytest.fixture
def server(self_hosted: SelfHostedSandbox) -> SelfHostedSandbox:
    return self_hosted


def assert_no_secret(run: Run, sb: SelfHostedSandbox) -> None:
    """Nothing secret in the whole output: the marker, any seeded secret in clear or
    obfuscated, the token, or the stars of an obfuscated value."""
    out = run.stdout + run.stderr
    assert SECRET_MARKER not in out
    assert TOKEN not in out
    assert not [s for s in sb.secrets() if s in out]
    assert not [s for s in sb.obfuscated_secrets() if s in out]
    assert not STARS.search(out)


def extract(sb: SelfHostedSandbox, tmp_path: Path, *args: str, **config: t.Any) -> Run:
    run = run_cli(config_of(sb, **config), tmp_path, *args)
    assert run.status == 0, run.stderr[-2000:]
    assert_no_secret(run, sb)
    return run


def by_name(rows: list[dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    return {row["name"]: row for row in rows}


def test_sinks_are_one_row_each_with_health_and_no_secret(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    run = extract(server, tmp_path)

    sinks = run.records_of("sinks")
    assert [s["id"] for s in sinks] == server.sink_ids
    for row in sinks:
        assert list(row) == list(SINK_SCHEMA["properties"])
        assert row["destination"]["type"] == row["destination_type"]
    kinds = {row["destination_type"] for row in sinks}
    assert {"webhook", "kafka", "sqs", "gcp_pubsub", "nats", "typesense"} <= kinds
    rows = {row["destination_type"]: row for row in sinks[:11]}
    kafka = rows["kafka"]  # run 2: Message delivery fails
    assert kafka["health_status"] == "error"
    assert kafka["health_failing_checks"] == ["Message delivery"]
    assert len(kafka["health_errors"]) == 1
    assert "deliver" in kafka["health_errors"][0]
    assert {c["name"] for c in kafka["health_checks"]} >= {"Message delivery"}
    assert kafka["health"]["status"] == "error"
    # A sink without a health key: every health column null.
    assert [rows["typesense"][c] for c in ("health_status", "health", "health_checks")] == [
        None,
        None,
        None,
    ]
    assert rows["webhook"]["health_status"] == "healthy"
    assert rows["webhook"]["health_failing_checks"] == []
    # Secrets are gone, key and all: the gcp service account, kafka's and nats' passwords.
    assert "credentials" not in rows["gcp_pubsub"]["destination"]
    assert rows["gcp_pubsub"]["destination"]["project_id"] == "acme-data"
    assert "password" not in rows["nats"]["destination"]
    assert "jwt" not in rows["nats"]["destination"]
    assert "api_key" not in rows["typesense"]["destination"]
    assert "secret_access_key" not in rows["sqs"]["destination"]
    assert "access_key_id" not in rows["sqs"]["destination"]
    assert rows["sqs"]["destination"]["region"]


def _secret_paths(clear: t.Any, obfuscated: t.Any, path: str = "") -> set[str]:
    """Where two answers differ: the fields the server sends as secrets."""
    if isinstance(clear, dict) and isinstance(obfuscated, dict):
        return {
            found
            for key in clear
            for found in _secret_paths(clear[key], obfuscated.get(key), f"{path}.{key}")
        }
    return set() if clear == obfuscated else {path}


def _paths(value: t.Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {path} | {p for key, item in value.items() for p in _paths(item, f"{path}.{key}")}
    return {path}


def test_secrets_sent_in_clear_are_not_loaded_either(tmp_path: Path) -> None:
    with (
        SelfHostedSandbox(sinks=40, seed=3, token=TOKEN, secrets_in_clear=True) as clear,
        SelfHostedSandbox(sinks=40, seed=3, token=TOKEN) as obfuscated,
    ):
        run = extract(clear, tmp_path)
        # Every field the server treats as secret, marked or not (an AWS key's id, a GCP
        # service account's e-mail): the fields whose value obfuscation changes.
        secret = {
            sink_id: _secret_paths(clear.sink(sink_id), obfuscated.sink(sink_id))
            for sink_id in clear.sink_ids
        }
    rows = run.records_of("sinks")
    assert len(rows) == 40
    assert any(".destination.access_key_id" in paths for paths in secret.values())
    for row in rows:
        loaded = _paths(row["destination"], ".destination")
        assert not secret[row["id"]] & loaded, row["destination_type"]
    assert len(run.records_of("postgres_databases")) == 3


def test_sink_health_history_is_one_row_per_sink_per_run(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    first = extract(server, tmp_path).records_of("sink_health_history")
    server.set_run(4)
    second = extract(server, tmp_path).records_of("sink_health_history")

    for rows in (first, second):
        assert [r["sink_id"] for r in rows] == server.sink_ids
        assert len({r["observed_at"] for r in rows}) == 1
        assert all(list(r) == list(SINK_HEALTH_HISTORY_SCHEMA["properties"]) for r in rows)
    assert first[0]["observed_at"] != second[0]["observed_at"]
    kafka_then, kafka_now = first[1], second[1]
    assert kafka_then["health_failing_checks"] == ["Message delivery"]
    assert kafka_now["health_status"] == "healthy"
    assert kafka_now["health_failing_checks"] == []
    assert [c["status"] for c in kafka_then["health_checks"]][-1] == "error"


def test_history_alone_costs_one_listing_and_writes_no_sinks(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    config = config_of(server)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(config, "sink_health_history")))
    server.clear_log()

    run = run_cli(config, tmp_path, "--catalog", str(catalog))

    assert run.status == 0, run.stderr[-2000:]
    assert len(run.records_of("sink_health_history")) == 12
    assert not run.records_of("sinks")
    assert not run.of_stream("ACTIVATE_VERSION", "sinks")
    assert [r.path for r in server.requests] == ["/api/sinks"]
    assert "no ACTIVATE_VERSION" not in run.stderr


def test_databases_carry_their_slot_and_never_a_password(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    rows = by_name(extract(server, tmp_path).records_of("postgres_databases"))

    assert set(rows) == {"production", "production-replica", "legacy"}
    for row in rows.values():
        assert list(row) == list(POSTGRES_DATABASE_SCHEMA["properties"])
        assert "password" not in json.dumps(row)
    assert rows["legacy"]["replication_slot_status"] == "disabled"
    assert rows["production"]["replication_slot_status"] == "active"
    assert rows["production"]["replication_slot_name"] == "sequin_production"
    assert rows["production"]["publication_name"] == "sequin_pub"
    assert rows["production-replica"]["is_replica"] is True
    assert rows["production-replica"]["primary"]["hostname"] == "db.internal"
    assert rows["production"]["is_replica"] is False


def test_endpoints_keep_header_names_and_lose_their_secrets(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    rows = by_name(extract(server, tmp_path).records_of("http_endpoints"))

    assert all(list(r) == list(HTTP_ENDPOINT_SCHEMA["properties"]) for r in rows.values())
    assert rows["orders-webhook"]["url"] == "[REDACTED]"
    assert rows["orders-webhook"]["headers"] == {
        "Authorization": "[REDACTED]",
        "X-Team": "billing",
    }
    assert rows["crm-endpoint"]["headers"]["X-Api-Key"] == "[REDACTED]"
    assert rows["crm-endpoint"]["url"] == "https://api.crm.example.com/ingest?source=sequin"
    assert rows["crm-endpoint"]["encrypted_headers"] == {"X-Signing-Secret": "[REDACTED]"}
    assert rows["local-dev"]["local"] is True
    assert rows["local-dev"]["path"] == "/webhooks/dev"


def test_backfills_are_one_request_per_sink_in_listing_order(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    server.clear_log()
    run = extract(server, tmp_path, max_concurrent_requests=4)

    paths = [r.path for r in server.requests]
    asked = [p for p in paths if p.endswith("/backfills")]
    assert sorted(asked) == sorted(f"/api/sinks/{i}/backfills" for i in server.sink_ids)
    assert paths.count("/api/sinks") == 1
    rows = run.records_of("backfills")
    names = {s["id"]: s["name"] for s in run.records_of("sinks")}
    order = [server.sink_ids.index(r["sink_id"]) for r in rows]
    assert order == sorted(order)
    assert {r["state"] for r in rows} >= {"active", "completed", "cancelled", "failed", "paused"}
    for row in rows:
        assert list(row) == list(BACKFILL_SCHEMA["properties"])
        assert row["sink_name"] == names[row["sink_id"]]
        assert isinstance(row["rows_initial_count"], int)
        assert row["inserted_at"].endswith(("Z", "+00:00"))
    assert run.of_stream("ACTIVATE_VERSION", "backfills")
    assert (
        f"12 sinks (ACTIVATE_VERSION sent); 12 rows of sink_health_history; {len(rows)} "
        "backfills (ACTIVATE_VERSION sent)"
    ) in run.last_stderr_line


def _state_file(run: Run, tmp_path: Path) -> Path:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(run.of_type("STATE")[-1]["value"]))
    return state


def test_a_sink_left_out_of_the_listing_but_there_by_id_is_not_deleted(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    first = extract(server, tmp_path)
    hidden = server.sink_ids[5]
    server.hide_sink(hidden)

    second = extract(server, tmp_path, "--state", str(_state_file(first, tmp_path)))

    assert hidden not in [r["id"] for r in second.records_of("sinks")]
    assert not second.of_stream("ACTIVATE_VERSION", "sinks")
    assert not second.of_stream("ACTIVATE_VERSION", "backfills")
    assert second.of_stream("ACTIVATE_VERSION", "postgres_databases")
    assert f"{hidden}: GET /api/sinks/{{id}} answers HTTP 200" in second.stderr
    assert "no ACTIVATE_VERSION this run" in second.stderr
    assert "11 sinks (no ACTIVATE_VERSION: 1 sink listed before is missing" in (
        second.last_stderr_line
    )
    # Kept in STATE, so the next run asks again; listed again, all is well.
    kept = second.of_type("STATE")[-1]["value"]["bookmarks"]["sinks"]["listed_ids"]
    assert hidden in kept
    server.hide_sink(hidden, hidden=False)
    third = extract(server, tmp_path, "--state", str(_state_file(second, tmp_path)))
    assert third.of_stream("ACTIVATE_VERSION", "sinks")


def test_a_sink_that_answers_404_by_id_is_deleted(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    first = extract(server, tmp_path)
    gone = server.sink_ids[3]
    server.delete_sink(gone)
    server.clear_log()

    second = extract(server, tmp_path, "--state", str(_state_file(first, tmp_path)))

    assert f"/api/sinks/{gone}" in [r.path for r in server.requests]
    assert second.of_stream("ACTIVATE_VERSION", "sinks")
    assert second.of_stream("ACTIVATE_VERSION", "backfills")
    kept = second.of_type("STATE")[-1]["value"]["bookmarks"]["sinks"]["listed_ids"]
    assert gone not in kept
    assert len(kept) == 11


def test_a_failing_answer_by_id_means_no_deletion(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    first = extract(server, tmp_path)
    missing = server.sink_ids[2]
    server.hide_sink(missing)
    server.set_faults(Faults(rules=(Rule(f"/api/sinks/{missing}", "500"),)))

    second = extract(server, tmp_path, "--state", str(_state_file(first, tmp_path)))

    assert not second.of_stream("ACTIVATE_VERSION", "sinks")
    assert missing in second.stderr
    assert "HTTP 500" in second.stderr


def test_a_v1_config_against_a_self_hosted_server_names_api_and_base_url(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    run = run_cli(config_of(server, api="v1"), tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error:")
    assert "api is 'v1'" in run.last_stderr_line
    assert f"base_url {server.url}" in run.last_stderr_line
    assert "set api to 'self-hosted'" in run.last_stderr_line
    assert not run.records_of("syncs")


def test_a_self_hosted_config_against_the_v1_api_names_api_and_base_url(tmp_path: Path) -> None:
    with Sandbox(syncs=3, seed=7, token=TOKEN) as v1:
        run = run_cli(config_of(v1), tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error:")
    assert "api is 'self-hosted'" in run.last_stderr_line
    assert "set api to 'v1'" in run.last_stderr_line
    assert f"base_url {v1.url}" in run.last_stderr_line


def test_test_counts_the_sinks(server: SelfHostedSandbox, tmp_path: Path) -> None:
    run = run_cli(config_of(server), tmp_path, "--test")

    assert run.status == 0, run.stderr[-2000:]
    assert run.stdout.strip().startswith(f"OK: {server.url} accepted the token; 12 sinks")
    assert "rev v0.14.6" in run.stdout


def test_test_tells_a_refused_token_from_an_unreachable_server(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    refused = run_cli(config_of(server, api_key="not-the-token"), tmp_path, "--test")
    url = server.url
    server.stop()
    unreachable = run_cli(config_of(server), tmp_path, "--test")

    assert refused.status == 1
    assert "the server is up" in refused.stdout
    assert "refused the token" in refused.stdout
    assert "HTTP 401" in refused.stdout
    assert "not-the-token" not in refused.stdout + refused.stderr
    assert unreachable.status == 1
    assert unreachable.stdout.startswith(f"FAILED: {url} - server unreachable")
    assert "refused" in unreachable.stdout


def test_test_says_when_the_server_is_a_v1_api(tmp_path: Path) -> None:
    with Sandbox(syncs=2, seed=7, token=TOKEN) as v1:
        run = run_cli(config_of(v1), tmp_path, "--test")

    assert run.status == 1
    assert "set api to 'v1'" in run.stdout


def _discovered(config: dict[str, t.Any] | None, tmp_path: Path) -> set[str]:
    run = run_cli(config, tmp_path, "--discover")
    assert run.status == 0, run.stderr[-2000:]
    return {entry["tap_stream_id"] for entry in json.loads(run.stdout)["streams"]}


def test_discover_shows_the_streams_of_the_configured_api(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    assert _discovered({"api_key": TOKEN}, tmp_path) == V1
    assert _discovered({"api_key": TOKEN, "api": "v1"}, tmp_path) == V1
    assert _discovered({"api_key": TOKEN, "api": "self-hosted", "base_url": url}, tmp_path) == (
        SELF_HOSTED
    )


def test_about_shows_the_streams_of_the_configured_api(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"api": "self-hosted"}))
    self_hosted = run_cli(None, tmp_path, "--about", "--config", str(path))
    path.write_text(json.dumps({"api": "v1"}))
    v1 = run_cli(None, tmp_path, "--about", "--config", str(path))

    from_environment = run_cli(
        None, tmp_path, "--about", "--config", "ENV", env={"TAP_SEQUIN_API": "self-hosted"}
    )

    assert "sinks, sink_health_history" in self_hosted.stdout
    assert "sinks, sink_health_history" in from_environment.stdout
    assert "syncs" not in self_hosted.stdout.split("Settings")[0]
    assert "syncs, sync_health_history" in v1.stdout
    assert "sinks" not in v1.stdout.split("Settings")[0]


def test_a_catalog_of_the_other_api_is_one_clear_line(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting({"api_key": TOKEN}, "syncs")))

    run = run_cli(config_of(server), tmp_path, "--catalog", str(catalog))

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'api':")
    assert "'syncs'" in run.last_stderr_line
    assert "api 'v1'" in run.last_stderr_line
    assert not run.messages


def test_base_url_ending_in_api_and_sync_ids_are_warned_about(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    run = extract(server, tmp_path, base_url=server.url + "/api/")

    assert "ends in /api" in run.stderr
    ignored = extract(server, tmp_path, sync_ids=["c906b4a4"])
    assert "setting 'sync_ids': not used with api self-hosted" in ignored.stderr
    assert len(ignored.records_of("sinks")) == 12
    assert len(run.records_of("sinks")) == 12


def test_plain_http_to_a_private_host_needs_allow_plain_http(tmp_path: Path) -> None:
    config = {"api": "self-hosted", "api_key": TOKEN, "base_url": "http://sequin:7376"}

    refused = run_cli(config, tmp_path)
    allowed = run_cli({**config, "allow_plain_http": True}, tmp_path, "--test")

    assert refused.status == 1
    assert refused.last_stderr_line.startswith("tap-sequin: error: setting 'base_url':")
    assert "allow_plain_http" in refused.last_stderr_line
    # Allowed: the request is made (to a name that does not resolve here).
    assert allowed.status == 1
    assert "server unreachable" in allowed.stdout
    assert TOKEN not in refused.stderr + allowed.stdout + allowed.stderr


def test_self_hosted_needs_a_base_url(tmp_path: Path) -> None:
    run = run_cli({"api": "self-hosted", "api_key": TOKEN}, tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'base_url':")
    assert "http://localhost:7376" in run.last_stderr_line


def test_docs_list_every_column_of_every_stream(tmp_path: Path) -> None:
    """docs/self-hosted.md's tables name exactly the columns --discover announces."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "self-hosted.md").read_text()
    documented: dict[str, list[str]] = {}
    for section in text.split("\n### ")[1:]:
        stream, _, body = section.partition("\n")
        body = body.split("\n## ", 1)[0]  # the last table ends where the next part begins
        documented[stream.strip()] = re.findall(r"^\| `(\w+)` \|", body, re.MULTILINE)
    config = {"api_key": TOKEN, "api": "self-hosted", "base_url": "http://127.0.0.1:9"}
    run = run_cli(config, tmp_path, "--discover")
    announced = {
        entry["tap_stream_id"]: list(entry["schema"]["properties"])
        for entry in json.loads(run.stdout)["streams"]
    }

    assert documented == announced


def test_backfills_alone_are_not_deleted_for_a_sink_left_out_of_the_listing(
    server: SelfHostedSandbox, tmp_path: Path
) -> None:
    first = extract(server, tmp_path)
    server.hide_sink(server.sink_ids[0])  # its backfill is active
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(config_of(server), "backfills")))

    second = extract(
        server, tmp_path, "--state", str(_state_file(first, tmp_path)), "--catalog", str(catalog)
    )

    assert second.records_of("backfills")
    assert not second.of_stream("ACTIVATE_VERSION", "backfills")
    assert "the sinks listing is not complete" in second.stderr


def test_settings_from_the_environment(server: SelfHostedSandbox, tmp_path: Path) -> None:
    env = {
        "TAP_SEQUIN_API": "self-hosted",
        "TAP_SEQUIN_API_KEY": TOKEN,
        "TAP_SEQUIN_BASE_URL": server.url,
        "TAP_SEQUIN_ALLOW_PLAIN_HTTP": "true",
    }
    run = run_cli(None, tmp_path, "--config", "ENV", env=env, cwd=tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    assert len(run.records_of("sinks")) == 12
    assert_no_secret(run, server)


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [("api", "hosted", "'v1' or 'self-hosted'"), ("allow_plain_http", "maybe", "true or false")],
)
def test_a_bad_value_is_one_line_naming_the_setting(
    setting: str, value: str, expected: str, server: SelfHostedSandbox, tmp_path: Path
) -> None:
    run = run_cli(config_of(server, **{setting: value}), tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith(f"tap-sequin: error: setting '{setting}':")
    assert expected in run.last_stderr_line


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_base_url_with_self_hosted_is_refused_not_the_hosted_default(
    empty: str, tmp_path: Path
) -> None:
    # Empty text means unset: with api self-hosted there is no default to send the token to.
    run = run_cli({"api": "self-hosted", "api_key": TOKEN, "base_url": empty}, tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith(
        "tap-sequin: error: setting 'base_url': is required with api self-hosted"
    )
