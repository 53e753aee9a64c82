"""Faults that show only in PostgreSQL: a nested NUL, and a stream map that filters syncs.

Both through `meltano run tap-sequin target-postgres`, as the issue's users hit them: a NUL
in a sync's `metadata` at depth 2 (or in a key) failed the whole load, clean syncs
included; a `__filter__` map in listing mode let ACTIVATE_VERSION soft-delete every live
sync the filter left out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_nested_nul_and_lone_surrogates_are_replaced_and_every_sync_loads(
    make_pipeline: Any,
) -> None:
    pipeline = make_pipeline(syncs=8, seed=2)
    dirty, half = pipeline.sandbox.sync_ids[3:5]
    pipeline.sandbox.update_sync(dirty, metadata={"team": {"le\x00ad": "a\x00b"}})
    # Served as the JSON escape "\ud800", which Python's json accepts; no UTF-8 exists for it.
    pipeline.sandbox.update_sync(half, name="half \ud800 pair", metadata={"k\udc00": ["\ud83d"]})

    proc = pipeline.run_ok()

    assert pipeline.query("SELECT count(*) FROM syncs") == [(8,)]
    (metadata,) = pipeline.query("SELECT metadata FROM syncs WHERE id = %s", (dirty,))[0]
    assert metadata == {"team": {"le\ufffdad": "a\ufffdb"}}
    assert pipeline.query("SELECT name, metadata FROM syncs WHERE id = %s", (half,)) == [
        ("half \ufffd pair", {"k\ufffd": ["\ufffd"]})
    ]
    assert dirty in proc.stderr
    assert half in proc.stderr
    assert "U+0000" in proc.stderr
    assert "lone surrogate" in proc.stderr


def test_a_filtering_stream_map_marks_no_live_sync_deleted(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=12, seed=6)
    pipeline.run_ok()
    healthy = [
        i
        for i in pipeline.sandbox.sync_ids
        if pipeline.sandbox.sync(i)["health"]["status"] == "healthy"
    ]
    assert healthy, "the filter below must leave some live syncs out"
    maps = {"syncs": {"__filter__": "health_status != 'healthy'"}}
    pipeline.extra_env["TAP_SEQUIN_STREAM_MAPS"] = json.dumps(maps)

    proc = pipeline.run_ok()

    assert pipeline.query("SELECT count(*) FROM syncs WHERE _sdc_deleted_at IS NOT NULL") == [(0,)]
    assert pipeline.query("SELECT count(*) FROM syncs") == [(12,)]
    assert "no ACTIVATE_VERSION" in proc.stderr
    # The history is not filtered: every sync has a row for both runs.
    assert pipeline.query("SELECT count(*) FROM sync_health_history") == [(24,)]
