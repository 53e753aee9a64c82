"""The self-hosted family of dbt models, on a scripted five-run history.

Five runs of the self-hosted job (`meltano run sequin-self-hosted-to-postgres`: the
`tap-sequin-self-hosted` plugin, target-postgres, then dbt run and dbt test of the
self-hosted models) into one schema, the self-hosted sandbox moving between runs with
`set_run` (as `tap-sequin-sandbox --api self-hosted --run N` does) and changed through its
admin routes, as a person with curl would:

- the seeded moves: place 1's `Message delivery` fails in runs 2 and 3, place 4's
  `Messages pending delivery` warns in run 3; place 0's backfill progresses and completes
  in run 4, place 2's stalls after run 2;
- place 10's `Message filtering` check starts failing in run 3 and still fails in run 5;
- place 6 is hidden from the listing in run 3 only (it still answers by id);
- place 3, unhealthy from run 1, is deleted before run 4.

Every model's rows are compared with what the sandbox served in each run (read over HTTP
before each run, as the tap reads it).
"""

from __future__ import annotations

import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests

from .conftest import Pipeline

pytestmark = pytest.mark.e2e

JOB = ("run", "sequin-self-hosted-to-postgres")
RUNS = 5
UNHEALTHY = {"warning", "error"}
FAILING = {"warning", "error", "stale"}
DELETED_BEFORE_RUN = 4  # place 3
HIDDEN_IN_RUN = 3  # place 6
CHECK_FAILS_FROM_RUN = 3  # place 10's Message filtering
FILTER_ERROR = "Filter function raised: KeyError 'total'"


@pytest.fixture(scope="module")
def history(meltano_project: Any, postgres: Any) -> Any:
    """The pipeline after five runs, and what the sandbox listed in each run."""
    from tap_sequin.sandbox import SelfHostedSandbox

    token = f"e2e-token-{uuid.uuid4().hex}"
    sandbox = SelfHostedSandbox(sinks=12, seed=5, token=token).start()
    try:
        pipeline = Pipeline(meltano_project, postgres, sandbox, token)
        # The plugin's own variable: TAP_SEQUIN_BASE_URL (set by Pipeline) is v1's.
        pipeline.extra_env["TAP_SEQUIN_SELF_HOSTED_BASE_URL"] = sandbox.url
        places = list(sandbox.sink_ids)
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        served: list[dict[str, Any]] = []
        for run in range(1, RUNS + 1):
            admin = f"{sandbox.url}/_sandbox/sinks"
            if run == CHECK_FAILS_FROM_RUN:
                check = {"name": "Message filtering", "status": "error", "error": FILTER_ERROR}
                reply = requests.patch(f"{admin}/{places[10]}", json={"check": check}, timeout=10)
                assert reply.status_code == 200, reply.text
            if run in (HIDDEN_IN_RUN, HIDDEN_IN_RUN + 1):
                hidden = {"hidden": run == HIDDEN_IN_RUN}
                reply = requests.patch(f"{admin}/{places[6]}", json=hidden, timeout=10)
                assert reply.status_code == 200, reply.text
            if run == DELETED_BEFORE_RUN:
                reply = requests.delete(f"{admin}/{places[3]}", timeout=10)
                assert reply.status_code == 200, reply.text
            sandbox.set_run(run)
            sinks = api.get(f"{sandbox.url}/api/sinks", timeout=10).json()["data"]
            backfills = {
                s["id"]: api.get(f"{sandbox.url}/api/sinks/{s['id']}/backfills", timeout=10).json()[
                    "data"
                ]
                for s in sinks
            }
            databases = api.get(f"{sandbox.url}/api/postgres_databases", timeout=10).json()["data"]
            served.append(
                {
                    "sinks": {s["id"]: s for s in sinks},
                    "backfills": backfills,
                    "databases": databases,
                }
            )
            pipeline.run_ok(*JOB)  # load, dbt run and dbt test of the self-hosted models
        observed = [
            row[0]
            for row in pipeline.query(
                "SELECT DISTINCT observed_at FROM stg_sequin__sink_health_history ORDER BY 1"
            )
        ]
        assert len(observed) == RUNS, "one observed_at per run"
        assert places[6] not in served[HIDDEN_IN_RUN - 1]["sinks"]
        assert places[3] not in served[DELETED_BEFORE_RUN - 1]["sinks"]
        yield pipeline, served, observed, places
    finally:
        sandbox.stop()


def _health(sink: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    found = sink.get("health")
    return (found["status"], found["checks"]) if found else (None, [])


def _observations(served: list[dict[str, Any]], sink_id: str) -> list[tuple[int, Any]]:
    """(run index, sink) for every run whose listing held the sink."""
    return [(i, run["sinks"][sink_id]) for i, run in enumerate(served) if sink_id in run["sinks"]]


def test_every_listed_sink_has_one_history_row_per_run_that_listed_it(history: Any) -> None:
    pipeline, served, observed, places = history
    rows = pipeline.query(
        "SELECT sink_id, observed_at, health_status FROM stg_sequin__sink_health_history"
    )
    expected = {
        (sink_id, observed[i], _health(sink)[0])
        for i, run in enumerate(served)
        for sink_id, sink in run["sinks"].items()
    }
    assert len(rows) == len(expected)
    assert set(rows) == expected
    deleted = pipeline.query("SELECT id FROM stg_sequin__sinks WHERE is_deleted")
    assert deleted == [(places[3],)]


def test_sinks_unhealthy_now_with_failing_checks_and_errors(history: Any) -> None:
    pipeline, served, _, places = history
    expected = {}
    for sink_id, sink in served[-1]["sinks"].items():
        status, checks = _health(sink)
        if status not in UNHEALTHY:
            continue
        failing = [c for c in checks if c["status"] in FAILING]
        expected[sink_id] = (
            sink["name"],
            sink["destination"]["type"],
            sink["status"],
            status,
            ", ".join(c["name"] for c in failing) or None,
            " | ".join(f"{c['name']}: {c['error']}" for c in failing if "error" in c) or None,
        )

    rows = pipeline.query("SELECT * FROM sequin_sinks_unhealthy_now")

    assert {row[0]: tuple(row[1:]) for row in rows} == expected
    assert len(rows) == len(expected)
    assert places[10] in expected, "the scripted failing check makes place 10 unhealthy"
    assert expected[places[10]][5] is not None
    assert f"Message filtering: {FILTER_ERROR}" in expected[places[10]][5]
    assert places[3] not in expected, "a deleted sink is not unhealthy now"


def test_since_when_each_failing_check_has_failed(history: Any) -> None:
    pipeline, served, observed, places = history
    expected = {}
    for sink_id, sink in served[-1]["sinks"].items():
        per_check: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, seen in _observations(served, sink_id):
            for check in _health(seen)[1]:
                per_check.setdefault(check["name"], []).append((i, check))
        for name, runs in per_check.items():
            if runs[-1][1]["status"] not in FAILING:
                continue
            start = len(runs) - 1
            while start > 0 and runs[start - 1][1]["status"] in FAILING:
                start -= 1
            since = observed[runs[start][0]]
            expected[(sink_id, name)] = (
                sink["name"],
                runs[-1][1]["status"],
                runs[-1][1].get("error"),
                since,
                observed[runs[-1][0]] - since,
                len(runs) - start,
                start == 0,
            )

    rows = pipeline.query("SELECT * FROM sequin_sink_checks_failing_since")

    assert {(r[0], r[2]): (r[1], *r[3:]) for r in rows} == expected
    assert len(rows) == len(expected)
    # The scripted one: failing since run 3, passing before.
    assert expected[(places[10], "Message filtering")][3:] == (
        observed[CHECK_FAILS_FROM_RUN - 1],
        observed[-1] - observed[CHECK_FAILS_FROM_RUN - 1],
        RUNS - CHECK_FAILS_FROM_RUN + 1,
        False,
    )


def test_health_incidents_are_the_stretches_of_unhealthy_runs(history: Any) -> None:
    pipeline, served, observed, places = history
    names = {sink_id: sink["name"] for run in served for sink_id, sink in run["sinks"].items()}
    expected = set()
    for sink_id in names:
        every = _observations(served, sink_id)
        seen = [(i, s) for i, s in every if _health(s)[0] is not None]
        gone = sink_id not in served[-1]["sinks"]
        k = 0
        while k < len(seen):
            if _health(seen[k][1])[0] not in UNHEALTHY:
                k += 1
                continue
            start = k
            while k < len(seen) and _health(seen[k][1])[0] in UNHEALTHY:
                k += 1
            stretch = seen[start:k]
            ended = ended_by = ended_with = None
            if k < len(seen):
                ended, ended_by = observed[seen[k][0]], "healthy again"
                ended_with = _health(seen[k][1])[0]
            elif gone:
                ended, ended_by = observed[every[-1][0] + 1], "sink gone"
            last = observed[every[-1][0]]
            statuses = {_health(s)[0] for _, s in stretch}
            checks = sorted(
                {c["name"] for _, s in stretch for c in _health(s)[1] if c["status"] in FAILING}
            )
            expected.add(
                (
                    sink_id,
                    names[sink_id],
                    observed[stretch[0][0]],
                    ended,
                    ended_by,
                    ended_with,
                    (ended or last) - observed[stretch[0][0]],
                    len(stretch),
                    "error" if "error" in statuses else "warning",
                    ", ".join(checks) or None,
                )
            )

    rows = pipeline.query("SELECT * FROM sequin_sink_health_incidents")

    assert len(rows) == len(expected)
    assert set(rows) == expected
    by_sink = {row[0]: row for row in rows}
    # Place 1: Message delivery failed in runs 2 and 3, healthy again in run 4.
    assert by_sink[places[1]][2:6] == (observed[1], observed[3], "healthy again", "healthy")
    # Place 3: unhealthy from run 1, ended by the run that found it deleted.
    assert by_sink[places[3]][2:5] == (observed[0], observed[DELETED_BEFORE_RUN - 1], "sink gone")
    assert any(row[4] is None for row in rows), "some incidents are still going on"


def test_backfills_in_progress_with_percent_done(history: Any) -> None:
    pipeline, served, _, _ = history
    last = served[-1]
    expected = {
        b["id"]: (
            sink_id,
            last["sinks"][sink_id]["name"],
            b["table"],
            b["rows_initial_count"],
            b["rows_processed_count"],
            b["rows_ingested_count"],
            (Decimal(100 * b["rows_processed_count"]) / b["rows_initial_count"]).quantize(
                Decimal("0.1"), ROUND_HALF_UP
            ),
        )
        for sink_id, backfills in last["backfills"].items()
        for b in backfills
        if b["state"] == "active"
    }
    assert expected, "the scripted data has backfills in progress"

    rows = pipeline.query("SELECT * FROM sequin_backfills_in_progress")

    assert {row[0]: tuple(row[1:8]) for row in rows} == expected
    assert len(rows) == len(expected)


def test_stalled_backfills_made_no_progress_between_two_runs(history: Any) -> None:
    pipeline, served, _, places = history
    # The history model holds each run's counts, as served.
    loaded = pipeline.query(
        "SELECT backfill_id, observed_at, rows_processed_count FROM int_sequin__backfill_history"
        " ORDER BY backfill_id, observed_at"
    )
    per_backfill: dict[str, list[tuple[Any, int]]] = {}
    for backfill_id, observed_at, count in loaded:
        per_backfill.setdefault(backfill_id, []).append((observed_at, count))
    served_counts: dict[str, list[int]] = {}
    for run in served:
        for backfills in run["backfills"].values():
            for b in backfills:
                served_counts.setdefault(b["id"], []).append(b["rows_processed_count"])
    assert {k: [c for _, c in v] for k, v in per_backfill.items()} == served_counts

    expected = {}
    for sink_id, backfills in served[-1]["backfills"].items():
        for b in backfills:
            seen = per_backfill[b["id"]]
            if b["state"] != "active" or len(seen) < 2 or seen[-1][1] != seen[-2][1]:
                continue
            start = len(seen) - 1
            while start > 0 and seen[start - 1][1] == seen[-1][1]:
                start -= 1
            expected[b["id"]] = (
                sink_id,
                b["rows_processed_count"],
                seen[start][0],
                seen[-1][0],
                len(seen) - 1 - start,
            )

    rows = pipeline.query(
        "SELECT id, sink_id, rows_processed_count, stalled_since, last_observed_at,"
        " runs_without_progress FROM sequin_backfills_stalled"
    )

    assert {row[0]: tuple(row[1:]) for row in rows} == expected
    # The seeded stalled backfill of place 2: progress from run 1 to 2, none since.
    assert [row[1:2] + row[5:] for row in rows] == [(places[2], RUNS - 2)]


def test_databases_whose_replication_slot_is_not_active(history: Any) -> None:
    pipeline, served, _, _ = history
    expected = {
        (d["id"], d["name"], s["slot_name"], s["publication_name"], s["status"])
        for d in served[-1]["databases"]
        for s in d["replication_slots"]
        if s["status"] != "active"
    } | {
        (d["id"], d["name"], None, None, None)
        for d in served[-1]["databases"]
        if not d["replication_slots"]
    }
    assert expected, "the seeded data has a database whose slot is disabled"

    rows = pipeline.query(
        "SELECT id, name, slot_name, publication_name, slot_status"
        " FROM sequin_databases_slot_not_active"
    )

    assert set(rows) == expected
    assert len(rows) == len(expected)


def test_no_secret_reaches_the_warehouse_or_the_logs(history: Any) -> None:
    pipeline, _, _, _ = history
    secrets = [*pipeline.sandbox.secrets(), *pipeline.sandbox.obfuscated_secrets()]
    assert secrets
    dumped = "\n".join(
        str(row)
        for table in ("sinks", "postgres_databases", "http_endpoints", "backfills")
        for row in pipeline.query(f'SELECT * FROM "{pipeline.schema}"."{table}"')
    )
    for text in (dumped, *pipeline.logs):
        assert "sandbox-secret" not in text
        assert not [s for s in secrets if s in text]


def test_docs_generate_describes_every_self_hosted_model_and_column(history: Any) -> None:
    pipeline, _, _, _ = history
    family = '{"sequin_v1_enabled":false,"sequin_self_hosted_enabled":true}'
    pipeline.run_ok("invoke", "dbt-postgres", "docs", "generate", "--vars", family)
    target = pipeline.project.root / "transform" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    models = {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and "self_hosted" in node["original_file_path"]
    }
    assert len(models) == 12
    for key, node in models.items():
        assert node["description"].strip(), f"{node['name']} has no description"
        # Every column the database has, from dbt's catalog of the built table.
        columns = catalog["nodes"][key]["columns"]
        assert columns, node["name"]
        for column in columns:
            described = node["columns"].get(column, {}).get("description", "")
            assert described.strip(), f"{node['name']}.{column} has no description"
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "sequin_self_hosted"]
    assert sources
    for source in sources:
        assert source["description"].strip(), source["name"]
