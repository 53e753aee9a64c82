"""The dbt models that answer the analyst's questions, on a scripted four-run history.

Four runs of the main job (`meltano run sequin-to-postgres`: load, dbt run, dbt test) into
one schema, the sandbox moving between runs with `set_run` (as `tap-sequin-sandbox --run N`
does): the sync at place 2 turns unhealthy in run 2 and recovers in run 4; the one at place
5 is unhealthy in run 3 only; the others keep their health, and one sync unhealthy from the
start is deleted before run 4 (so its incident ends as "sync gone" and it is no longer
unhealthy now). Each model's rows are compared with what the sandbox served in each run.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ANSWERS = REPO / "transform" / "models" / "v1" / "answers"
RUNS = 4
# The run before which one sync, unhealthy since run 1, is deleted.
DELETED_IN_RUN = 4
HEALTHY = {"healthy", "ok"}


def _unhealthy(status: Any) -> bool:
    return status not in HEALTHY


def _statuses(served: list[dict[str, dict[str, Any]]], sync_id: str) -> list[Any]:
    """The sync's health status in each run it was served in (a deleted sync: fewer)."""
    return [run[sync_id]["health"]["status"] for run in served if sync_id in run]


@pytest.fixture(scope="module")
def history(make_pipeline: Any) -> Any:
    """The pipeline after four runs, and what the sandbox served in each (by sync id)."""
    pipeline = make_pipeline(syncs=20, seed=11)
    sandbox = pipeline.sandbox
    # Unhealthy in every run, not one of the moving syncs (places 2 and 5).
    doomed = next(
        sync_id
        for place, sync_id in enumerate(sandbox.sync_ids)
        if place not in (2, 5) and _unhealthy(sandbox.sync(sync_id)["health"]["status"])
    )
    served: list[dict[str, dict[str, Any]]] = []
    for run in range(1, RUNS + 1):
        if run == DELETED_IN_RUN:
            # Through the admin route, as a person with curl would.
            reply = requests.delete(f"{sandbox.url}/_sandbox/syncs/{doomed}", timeout=10)
            assert reply.status_code == 200, reply.text
        pipeline.sandbox.set_run(run)
        served.append({i: pipeline.sandbox.sync(i) for i in pipeline.sandbox.sync_ids})
        pipeline.run_ok()  # the main job: load, dbt run, dbt test
    observed = [
        row[0]
        for row in pipeline.query(
            "SELECT DISTINCT observed_at FROM stg_sequin__sync_health_history ORDER BY 1"
        )
    ]
    assert len(observed) == RUNS, "one observed_at per run"
    assert doomed in served[DELETED_IN_RUN - 2]
    assert doomed not in served[DELETED_IN_RUN - 1]
    return pipeline, served, observed


def test_the_history_holds_one_row_per_sync_per_run(history: Any) -> None:
    pipeline, served, _ = history
    rows = pipeline.query("SELECT sync_id, count(*) FROM sync_health_history GROUP BY 1")
    assert dict(rows) == {i: len(_statuses(served, i)) for i in served[0]}
    assert sorted(set(dict(rows).values())) == [DELETED_IN_RUN - 1, RUNS]
    assert pipeline.query(
        "SELECT count(*) FROM sync_health_history WHERE _sdc_deleted_at IS NOT NULL"
    ) == [(0,)]


def test_unhealthy_now_with_reasons_and_credential_health(history: Any) -> None:
    pipeline, served, _ = history
    last = served[-1]
    credentials = dict(pipeline.query("SELECT id, health_status FROM credentials"))
    rows = pipeline.query("SELECT * FROM sequin_syncs_unhealthy_now")

    expected = {
        sync_id: sync for sync_id, sync in last.items() if _unhealthy(sync["health"]["status"])
    }
    assert expected, "the scripted data has unhealthy syncs"
    assert {row[0] for row in rows} == set(expected)
    for sync_id, name, provider, status, reasons, credential_health, _ in rows:
        sync = expected[sync_id]
        health = sync["health"]
        assert (name, provider, status) == (sync["name"], sync["provider"], health["status"])
        notes = [
            *health.get("credential", {}).get("notes", []),
            *health.get("provider", {}).get("notes", []),
        ]
        assert reasons == (" | ".join(notes) if "provider" in health else None)
        assert credential_health == credentials[sync["credential_id"]]


def test_since_when_each_unhealthy_sync_has_been_unhealthy(history: Any) -> None:
    pipeline, served, observed = history
    expected = {}
    for sync_id in served[-1]:  # the deleted sync is not unhealthy now
        statuses = _statuses(served, sync_id)
        if not _unhealthy(statuses[-1]):
            continue
        start = RUNS - 1
        while start > 0 and _unhealthy(statuses[start - 1]):
            start -= 1
        expected[sync_id] = (
            statuses[-1],
            observed[start],
            observed[-1] - observed[start],
            RUNS - start,
            start == 0,
        )

    rows = pipeline.query("SELECT * FROM sequin_syncs_unhealthy_since")

    assert {row[0]: tuple(row[1:]) for row in rows} == expected
    assert len(rows) == len(expected)
    # Syncs unhealthy since the first run are flagged: their start is unknown.
    assert all(row[-1] for row in rows)


def test_incidents_are_the_stretches_of_unhealthy_runs(history: Any) -> None:
    pipeline, served, observed = history
    expected = set()
    for sync_id in served[0]:
        statuses = _statuses(served, sync_id)
        seen = len(statuses)  # runs 1..seen served it; a later run found it gone
        run = 0
        while run < seen:
            if not _unhealthy(statuses[run]):
                run += 1
                continue
            start = run
            while run < seen and _unhealthy(statuses[run]):
                run += 1
            ended, ended_by = None, None
            if run < seen:
                ended, ended_by = observed[run], "healthy again"
            elif seen < RUNS:
                ended, ended_by = observed[seen], "sync gone"
            duration = (ended or observed[-1]) - observed[start]
            expected.add((sync_id, observed[start], ended, ended_by, duration, run - start))

    rows = pipeline.query("SELECT * FROM sequin_health_incidents")

    assert len(rows) == len(expected)
    assert set(rows) == expected
    # The scripted one: unhealthy in runs 2 and 3, healthy again in run 4.
    moving = list(served[0])[2]
    assert [row for row in rows if row[0] == moving] == [
        (moving, observed[1], observed[3], "healthy again", observed[3] - observed[1], 2)
    ]
    # The deleted one: unhealthy from run 1, its incident ended by the run that found it gone.
    (doomed,) = set(served[0]) - set(served[-1])
    last = DELETED_IN_RUN - 1
    assert [row for row in rows if row[0] == doomed] == [
        (doomed, observed[0], observed[last], "sync gone", observed[last] - observed[0], last)
    ]
    assert [row[0] for row in rows if row[3] is None], "some incidents are still going on"


def test_syncs_per_provider_and_health_and_per_collection(history: Any) -> None:
    pipeline, served, _ = history
    last = served[-1].values()
    per_provider = collections.Counter((s["provider"], s["health"]["status"]) for s in last)
    per_collection = collections.Counter(c for s in last for c in s["collection_ids"])

    rows = pipeline.query("SELECT * FROM sequin_live_syncs_by_provider_and_health")
    assert {(p, h): n for p, h, n in rows} == per_provider
    rows = pipeline.query("SELECT * FROM sequin_live_syncs_per_collection")
    assert dict(rows) == per_collection


def test_the_models_are_tables_beside_the_loaded_ones_which_keep_their_types(
    history: Any,
) -> None:
    pipeline, _, _ = history
    kinds = dict(
        pipeline.query(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s",
            (pipeline.analytics,),
        )
    )
    # Tables, not views: a view would stop target-postgres from altering its own columns.
    assert kinds == {
        name: "BASE TABLE"
        for name in (
            "stg_sequin__syncs",
            "stg_sequin__sync_health_history",
            "stg_sequin__credentials",
            *(path.stem for path in ANSWERS.glob("*.sql")),
        )
    }
    # The loader's own date-time columns are as target-postgres made them, four runs on.
    loaded = pipeline.query(
        "SELECT DISTINCT data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND column_name IN ('created_at', 'observed_at')",
        (pipeline.schema,),
    )
    assert loaded == [("timestamp without time zone",)]


def test_the_readme_shows_two_models_as_they_are() -> None:
    readme = (REPO / "README.md").read_text()
    shown = [path for path in ANSWERS.glob("*.sql") if path.read_text().strip() in readme]
    assert len(shown) >= 2, "the README shows two answer models, each exactly as in its file"
    for path in ANSWERS.glob("*.sql"):
        assert path.stem in readme, f"the README names the model {path.stem}"
