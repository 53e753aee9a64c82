"""The scheduled job, time zones, numeric text and null objects, through ``meltano`` itself.

Every pipeline loads into one PostgreSQL server whose TimeZone is America/New_York (dbt's
models are built there too), and every value is read back in a UTC session unless a test
says otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any

import pytest

from .conftest import JOB, MeltanoProject, clean_env

pytestmark = pytest.mark.e2e

UTC = dt.timezone.utc
# 01:30 EDT and 01:30 EST: the same wall-clock time in New York, an hour apart.
FALL_BACK = {"created_at": "2023-11-05 05:30:00", "updated_at": "2023-11-05 06:30:00"}


def test_schedule_list_shows_the_hourly_job(meltano_project: MeltanoProject) -> None:
    proc = meltano_project.meltano("schedule", "list", "--format=json", env=clean_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    schedules = json.loads(proc.stdout)
    (schedule,) = [s for s in schedules["schedules"]["job"] if s["job"]["name"] == JOB]
    assert schedule["interval"] == "@hourly"
    assert schedule["job"]["tasks"] == [
        "tap-sequin target-postgres dbt-postgres:run dbt-postgres:test"
    ]


def _fall_back_sync(pipeline: Any) -> str:
    """Give the first sync the fall-back-hour timestamps, through the sandbox's admin route."""
    sync_id = str(pipeline.sandbox.sync_ids[0])
    request = urllib.request.Request(
        f"{pipeline.sandbox.url}/_sandbox/syncs/{sync_id}",
        data=json.dumps(FALL_BACK).encode(),
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        changed = json.loads(response.read())
    assert {k: changed[k] for k in FALL_BACK} == FALL_BACK
    return sync_id


def test_job_by_name_keeps_exact_instants_in_the_fall_back_hour(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=6, seed=11)
    sync_id = _fall_back_sync(pipeline)
    pipeline.run_ok("run", JOB)
    pipeline.run_ok("run", JOB)  # a second load into the same tables, models rebuilt
    expected = [
        (dt.datetime(2023, 11, 5, 5, 30, tzinfo=UTC), dt.datetime(2023, 11, 5, 6, 30, tzinfo=UTC))
    ]
    # Through the staging model, whose columns are timestamptz.
    query = "SELECT created_at, updated_at FROM stg_sequin__syncs WHERE id = %s"
    assert pipeline.query(query, (sync_id,)) == expected
    # The loaded table is as target-postgres made it: UTC wall-clock, never altered.
    query = "SELECT created_at, updated_at FROM syncs WHERE id = %s"
    assert pipeline.query(query, (sync_id,)) == [
        tuple(value.replace(tzinfo=None) for value in expected[0])
    ]
    types = dict(
        pipeline.query(
            "SELECT table_schema, data_type FROM information_schema.columns "
            "WHERE table_schema IN (%s, %s) AND table_name IN ('syncs', 'stg_sequin__syncs') "
            "AND column_name = 'created_at'",
            (pipeline.schema, pipeline.analytics),
        )
    )
    assert types == {
        pipeline.schema: "timestamp without time zone",
        pipeline.analytics: "timestamp with time zone",
    }


def test_the_models_read_exact_instants_in_a_session_of_any_time_zone(
    make_pipeline: Any,
) -> None:
    pipeline = make_pipeline(syncs=6, seed=12)
    sync_id = _fall_back_sync(pipeline)
    pipeline.run_ok("run", JOB)
    import psycopg

    with psycopg.connect(pipeline.pg.conninfo) as conn:
        conn.execute("SET timezone = 'America/New_York'")
        rows = conn.execute(
            f'SELECT created_at::text, updated_at::text FROM "{pipeline.analytics}".'
            "stg_sequin__syncs WHERE id = %s",
            (sync_id,),
        ).fetchall()
    # 01:30 EDT and 01:30 EST: the two instants, an hour apart, in the server's own zone.
    assert rows == [("2023-11-05 01:30:00-04", "2023-11-05 01:30:00-05")]


def test_numbers_as_text_and_fractions_through_meltano(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=5, seed=13)
    pipeline.extra_env.update(
        TAP_SEQUIN_REQUEST_TIMEOUT="2.5",
        TAP_SEQUIN_RETRY_BACKOFF_SECONDS="0.5",
        TAP_SEQUIN_MAX_REQUESTS_PER_SECOND="50.5",
        TAP_SEQUIN_MAX_RETRIES="3",
        TAP_SEQUIN_MAX_CONCURRENT_REQUESTS="2",
    )
    printed = pipeline.project.meltano("config", "print", "tap-sequin", env=pipeline.env())
    assert printed.returncode == 0, printed.stderr[-3000:]
    config = json.loads(printed.stdout)
    assert config["retry_backoff_seconds"] == "0.5"  # Meltano passes the text as it is
    assert config["request_timeout"] == "2.5"
    pipeline.run_ok("run", "tap-sequin", "target-postgres")
    assert pipeline.query("SELECT count(*) FROM syncs") == [(5,)]


def test_a_bad_number_through_meltano_is_one_line_naming_it(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=3, seed=14)
    pipeline.extra_env.update(TAP_SEQUIN_RETRY_BACKOFF_SECONDS="soon")
    proc = pipeline.run("run", "tap-sequin", "target-postgres")
    assert proc.returncode != 0
    assert "tap-sequin: error: setting 'retry_backoff_seconds': must be a number" in proc.stderr
    assert pipeline.sandbox.requests == []


def test_null_objects_land_as_json_null_and_the_readme_form_finds_them(
    make_pipeline: Any,
) -> None:
    # target-postgres 0.8.1 builds every row with record.get(column) and binds None
    # into a jsonb column as the JSON value null: the tap cannot make it SQL NULL
    # (omitting the key gives the same). The README says so and shows NULLIF.
    pipeline = make_pipeline(syncs=4, seed=15)
    sync_id = pipeline.sandbox.sync_ids[0]
    pipeline.sandbox.update_sync(sync_id, metadata=None, credential=None)
    pipeline.run_ok("run", JOB)
    assert pipeline.query("SELECT id FROM syncs WHERE metadata IS NULL") == []
    found = pipeline.query(
        "SELECT id FROM syncs WHERE NULLIF(metadata, 'null') IS NULL "
        "AND NULLIF(credential, 'null') IS NULL"
    )
    assert found == [(sync_id,)]
    # The staging model answers the plain question: its null objects are SQL NULL.
    found = pipeline.query(
        "SELECT id FROM stg_sequin__syncs WHERE metadata IS NULL AND credential IS NULL"
    )
    assert found == [(sync_id,)]
    assert pipeline.query("SELECT count(*) FROM stg_sequin__syncs WHERE health IS NULL") == [(0,)]
