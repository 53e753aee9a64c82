"""meltano run tap-sequin target-postgres, against the sandbox and a real PostgreSQL.

Everything is configured through environment variables only, as a user would. Each
pipeline loads into its own schema of one session-wide PostgreSQL server, whose
TimeZone is America/New_York (not UTC) on purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

TIMESTAMP_COLUMNS = ("created_at", "updated_at", "initial_backfill_completed_at")
RATE_LIMIT_COLUMNS = (
    "rate_limit_allowed_requests",
    "rate_limit_interval",
    "rate_limit_max_concurrent_requests",
)


def api_time(value: str) -> dt.datetime:
    """The API's `YYYY-MM-DD HH:MM:SS` (UTC, no zone) as an aware datetime."""
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def loaded(make_pipeline: Any) -> Any:
    """20 syncs, loaded twice into one schema (module-wide: the runs are the slow part)."""
    pipeline = make_pipeline(syncs=20, seed=7)
    pipeline.run_ok()
    pipeline.run_ok()
    return pipeline


def test_one_row_per_sync_after_two_runs(loaded: Any) -> None:
    ids = [row[0] for row in loaded.query("SELECT id FROM syncs")]
    assert len(ids) == len(set(ids)), "the second run duplicated rows"
    assert sorted(ids) == sorted(loaded.sandbox.sync_ids)
    assert loaded.query("SELECT count(*) FROM syncs WHERE _sdc_deleted_at IS NOT NULL") == [(0,)]
    versions = loaded.query("SELECT DISTINCT _sdc_table_version FROM syncs")
    assert len(versions) == 1, "every row carries the version of the last complete listing"


def test_column_types(loaded: Any) -> None:
    types = dict(
        loaded.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'syncs'",
            (loaded.schema,),
        )
    )
    # As target-postgres creates them (the models read them AT TIME ZONE 'UTC').
    for column in (*TIMESTAMP_COLUMNS, "_sdc_deleted_at", "_sdc_extracted_at"):
        assert types[column] == "timestamp without time zone", column
    modelled = dict(
        loaded.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'stg_sequin__syncs'",
            (loaded.analytics,),
        )
    )
    for column in (*TIMESTAMP_COLUMNS, "deleted_at", "extracted_at"):
        assert modelled[column] == "timestamp with time zone", column
    for column in RATE_LIMIT_COLUMNS:
        assert types[column] in {"bigint", "integer"}, column
    assert types["collection_ids"] == "ARRAY"
    assert types["credential"] == "jsonb"
    assert types["metadata"] == "jsonb"
    # The instants survive the load and the staging model, although the server's
    # TimeZone is America/New_York.
    for sync_id in loaded.sandbox.sync_ids:
        api = loaded.sandbox.sync(sync_id)
        rows = loaded.query(
            "SELECT created_at, updated_at FROM stg_sequin__syncs WHERE id = %s", (sync_id,)
        )
        assert rows == [(api_time(api["created_at"]), api_time(api["updated_at"]))]
    # rate limits are numbers SQL can compute with
    (total,) = loaded.query("SELECT max(rate_limit_allowed_requests) + 1 FROM syncs")[0]
    assert isinstance(total, int)


def test_collection_ids_queryable(loaded: Any) -> None:
    api_by_collection: dict[str, set[str]] = {}
    for sync_id in loaded.sandbox.sync_ids:
        for collection in loaded.sandbox.sync(sync_id).get("collection_ids") or []:
            api_by_collection.setdefault(collection, set()).add(sync_id)
    assert api_by_collection, "no sync has collection ids"
    for collection, expected in api_by_collection.items():
        found = loaded.query(
            "SELECT id FROM syncs WHERE %s = ANY(collection_ids) AND _sdc_deleted_at IS NULL",
            (collection,),
        )
        assert {row[0] for row in found} == expected, collection
    # Array containment (can use a GIN index) and unnest give the same answer.
    collection, expected = max(api_by_collection.items(), key=lambda item: len(item[1]))
    found = loaded.query("SELECT id FROM syncs WHERE collection_ids @> ARRAY[%s]", (collection,))
    assert {row[0] for row in found} == expected
    counts = dict(
        loaded.query(
            "SELECT c, count(*) FROM syncs, unnest(collection_ids) AS c "
            "WHERE _sdc_deleted_at IS NULL GROUP BY c"
        )
    )
    assert counts == {c: len(ids) for c, ids in api_by_collection.items()}


def test_no_secret_or_token_in_database(loaded: Any) -> None:
    from tap_sequin.sandbox import SECRET_MARKER

    tables = loaded.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
        "AND table_type = 'BASE TABLE'"
    )
    assert (loaded.schema, "syncs") in tables
    dump: list[str] = []
    for schema, table in tables:
        dump += [row[0] for row in loaded.query(f'SELECT t::text FROM "{schema}"."{table}" t')]
    text = "\n".join(dump)
    assert '"credential' in text or "credential" in text.lower()
    assert SECRET_MARKER not in text
    assert loaded.token not in text
    assert all(loaded.token not in log for log in loaded.logs), "the token leaked into logs"


def test_deleted_sync_is_soft_deleted_and_comes_back(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=12, seed=3)
    pipeline.run_ok()
    gone, renamed = pipeline.sandbox.sync_ids[0], pipeline.sandbox.sync_ids[1]
    gone_sync = pipeline.sandbox.sync(gone)
    pipeline.sandbox.delete_sync(gone)
    pipeline.sandbox.update_sync(renamed, name="renamed by e2e", health_status="error")
    pipeline.run_ok()

    rows = dict(pipeline.query("SELECT id, _sdc_deleted_at FROM syncs"))
    assert len(rows) == 12, "the deleted sync's row stays (soft delete)"
    assert rows[gone] is not None
    assert [i for i, deleted_at in rows.items() if deleted_at is not None] == [gone]
    assert pipeline.query("SELECT name, health_status FROM syncs WHERE id = %s", (renamed,)) == [
        ("renamed by e2e", "error")
    ]
    # Through the models: marked in staging, left out of every "now" answer.
    assert pipeline.query("SELECT id FROM stg_sequin__syncs WHERE is_deleted") == [(gone,)]
    assert pipeline.query("SELECT sum(syncs) FROM sequin_live_syncs_by_provider_and_health") == [
        (11,)
    ]
    unhealthy_now = {row[0] for row in pipeline.query("SELECT id FROM sequin_syncs_unhealthy_now")}
    assert renamed in unhealthy_now
    assert gone not in unhealthy_now
    since = {row[0] for row in pipeline.query("SELECT sync_id FROM sequin_syncs_unhealthy_since")}
    assert gone not in since

    # The sync reappears: the next complete run makes it live again.
    pipeline.sandbox.add_sync(gone_sync)
    pipeline.run_ok()
    assert pipeline.query("SELECT count(*) FROM syncs WHERE _sdc_deleted_at IS NOT NULL") == [(0,)]
    assert pipeline.query("SELECT count(*) FROM syncs") == [(12,)]


def test_failed_listing_exits_nonzero_and_deletes_nothing(make_pipeline: Any) -> None:
    from tap_sequin.sandbox.faults import Faults, Rule

    pipeline = make_pipeline(syncs=10, seed=5)
    pipeline.run_ok()
    # A sync vanished, and the next listing fails on every attempt: a (wrong)
    # ACTIVATE_VERSION would mark every row, or the vanished one, deleted.
    pipeline.sandbox.delete_sync(pipeline.sandbox.sync_ids[0])
    pipeline.sandbox.set_faults(Faults(rules=(Rule(path="/v1/syncs", kind="503"),)))
    proc = pipeline.run()
    assert proc.returncode != 0, "a failed listing must fail the run"
    assert pipeline.query("SELECT count(*) FROM syncs WHERE _sdc_deleted_at IS NOT NULL") == [(0,)]
    assert pipeline.query("SELECT count(*) FROM syncs") == [(10,)]
