"""Backfills as `to_external(%Backfill{})` sends them, and how they progress from run to run.

A backfill is described once (`Plan`) and drawn as it stands in a given run, so the same
`(seed, run)` always gives the same rows, counts and timestamps. Run N is observed at
`run_time(N)`: one hour after run N-1, from a fixed start.

| plan | in run N |
| --- | --- |
| `progressing` | a quarter of its rows more each run; `completed` from run 4 on |
| `stalled` | progress from run 1 to 2, then none: counts and `updated_at` stay |
| `completed`, `cancelled`, `failed`, `paused` | as seeded, in every run |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2025, 5, 29, 12, 0, 0, tzinfo=timezone.utc)
STATES = ("active", "completed", "cancelled", "failed", "paused")
PLANS = ("progressing", "stalled", "completed", "cancelled", "failed", "paused")


def run_time(run: int) -> datetime:
    """When run `run` (1-based) is observed."""
    return START + timedelta(hours=run - 1)


def utc_seconds(moment: datetime) -> str:
    """`2025-05-29T12:00:00Z`: how `inserted_at` and `updated_at` are sent."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_micros(moment: datetime) -> str:
    """`2025-05-29T12:00:00.000000Z`: how `completed_at` and `canceled_at` are sent."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Plan:
    """One backfill of a sink, independent of the run."""

    id: str
    plan: str
    table: str | None
    sort_column: str | None
    rows_initial: int
    age_hours: int  # created this many hours before the first run


def draw(plan: Plan, sink_name: str, run: int) -> dict[str, Any]:
    """The backfill as the server sends it in `run`."""
    inserted = START - timedelta(hours=plan.age_hours)
    initial = plan.rows_initial
    state, completed_at, canceled_at = "active", None, None
    if plan.plan == "progressing":
        processed = min(initial, initial * run // 4)
        updated = run_time(run)
        if processed >= initial:
            # Done in run 4; nothing changes after that.
            state, updated = "completed", run_time(4) - timedelta(minutes=17, microseconds=250)
            completed_at = utc_micros(updated)
    elif plan.plan == "stalled":
        processed = initial * (2 if run >= 2 else 1) // 5
        updated = run_time(min(run, 2))
    else:
        state = plan.plan
        updated = inserted + timedelta(hours=3)
        processed = {"completed": initial, "failed": initial // 3, "paused": initial // 2}.get(
            plan.plan, initial // 10
        )
        if plan.plan == "completed":
            completed_at = utc_micros(updated - timedelta(microseconds=412_007))
        if plan.plan == "cancelled":
            canceled_at = utc_micros(updated - timedelta(microseconds=1_500))
    # Ingested rows trail the processed ones until the backfill is done.
    ingested = processed if state == "completed" else processed - processed // 50
    return {
        "id": plan.id,
        "sink_consumer": sink_name,
        "state": state,
        "table": plan.table,
        "sort_column": plan.sort_column,
        "rows_initial_count": initial,
        "rows_processed_count": processed,
        "rows_ingested_count": ingested,
        "completed_at": completed_at,
        "canceled_at": canceled_at,
        "inserted_at": utc_seconds(inserted),
        "updated_at": utc_seconds(updated),
    }
