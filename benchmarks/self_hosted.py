"""tap-sequin with `api: self-hosted` against the floor: sinks and their backfills.

The server has no listing of all backfills, so the tap lists the sinks once and then asks
for each sink's backfills (`GET /api/sinks/{id}/backfills`), `max_concurrent_requests` at a
time. The floor is what no tap can beat with the same settings: the listing's latency,
then the sinks' latency spread over the requests in flight, plus tap-sequin's own start-up
(the wall time of extracting 1 sink at 0 latency, same streams):

    floor = latency + sinks x latency / concurrency + start-up

Scenario (`--size quick|smoke` shrinks it; the target is then only indicative):
- S: 1,000 sinks at 20 ms, default settings (8 in flight): within 1.2x of the floor.
  Beside it, a control: tap-sequin with api v1 making the same 1,000 requests (1,000
  `sync_ids`), against its own floor (the extraction suite's formula).

The tap extracts `sinks`, `sink_health_history` and `backfills` (a catalog selecting
them): `postgres_databases` and `http_endpoints` are one request each, outside the floor.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import extraction
from extraction import DEFAULT_CONCURRENCY, run_against
from harness import BIN, TOKEN, Run, Sandbox, describe, log, measure, median_run, sync_ids
from report import Row, Target

STREAMS = ("sinks", "sink_health_history", "backfills")
LATENCY_MS = 20
LIMIT = 1.2


def config(workdir: Path, label: str, url: str) -> str:
    """A tap config for the self-hosted server at `url`; its path."""
    path = workdir / f"{label}.config.json"
    path.write_text(json.dumps({"api_key": TOKEN, "base_url": url, "api": "self-hosted"}))
    return str(path)


def catalog(workdir: Path, url: str) -> str:
    """A catalog selecting `STREAMS` only, from the tap's own discovery; its path."""
    path = workdir / "self-hosted.catalog.json"
    if not path.exists():
        out = subprocess.run(
            [str(BIN / "tap-sequin"), "--config", config(workdir, "discover", url), "--discover"],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        found = json.loads(out)
        for stream in found["streams"]:
            for entry in stream["metadata"]:
                if not entry["breadcrumb"]:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] in STREAMS
        path.write_text(json.dumps(found))
    return str(path)


def _tap(workdir: Path, url: str, label: str) -> list[str]:
    return [
        str(BIN / "tap-sequin"),
        "--config",
        config(workdir, label, url),
        "--catalog",
        catalog(workdir, url),
    ]


def startup(workdir: Path, repeat: int) -> Run:
    """tap-sequin extracting 1 sink (and its backfills) at 0 latency."""
    with Sandbox(1, 0, workdir, api="self-hosted") as sb:
        tap = _tap(workdir, sb.url, "self-hosted-startup")
        measure(tap, workdir, "self-hosted warmup")  # not measured
        runs = [run_against(sb, tap, workdir, "self-hosted start-up") for _ in range(repeat)]
    return median_run(runs)


def run(repeat: int, size: str, workdir: Path) -> tuple[list[Row], list[Target], Run]:
    """Scenario S and its v1 control; their rows, the target and the start-up run.

    The control is tap-sequin with api v1 making as many requests at the same latency and
    concurrency (one `GET /v1/syncs/{id}` per configured id, no listing), against its own
    floor: run alternately with S, it tells a slow machine from slow self-hosted code.
    """
    reps = 1 if size == "smoke" else max(repeat, 3)
    start = startup(workdir, reps)
    log(describe("self-hosted start-up (1 sink, 0 ms)", start))
    v1_start = extraction.startup(workdir, reps)
    log(describe("v1 start-up (1 id, 0 ms)", v1_start))
    sinks = {"full": 1000, "quick": 200, "smoke": 16}[size]
    runs: dict[str, list[Run]] = {"self-hosted": [], "v1": []}
    with (
        Sandbox(sinks, LATENCY_MS, workdir, api="self-hosted") as sb,
        Sandbox(sinks, LATENCY_MS, workdir) as v1,
    ):
        tap = _tap(workdir, sb.url, "S")
        cfg = extraction.tap_config(workdir, "S-v1", v1.url, sync_ids(sinks))
        control = [*extraction.tap_command(workdir), "--config", cfg]
        for _ in range(repeat):
            runs["self-hosted"].append(run_against(sb, tap, workdir, "S tap-sequin"))
            runs["v1"].append(run_against(v1, control, workdir, "S tap-sequin v1 control"))
    latency_s = LATENCY_MS / 1000
    spread = sinks * latency_s / DEFAULT_CONCURRENCY
    floor = latency_s + spread + start.wall_s
    row = Row(
        "S",
        "tap-sequin",
        f"{sinks:,} sinks",
        LATENCY_MS,
        str(DEFAULT_CONCURRENCY),
        median_run(runs["self-hosted"]),
        runs["self-hosted"],
        floor,
        note="api self-hosted: 1 listing + 1 backfills request per sink",
    )
    control_row = Row(
        "S",
        "tap-sequin v1 (control)",
        f"{sinks:,} ids",
        LATENCY_MS,
        str(DEFAULT_CONCURRENCY),
        median_run(runs["v1"]),
        runs["v1"],
        spread + v1_start.wall_s,
        note="api v1, sync_ids: the same requests without the listing",
    )
    targets = [
        Target(
            f"S ({row.what}, {LATENCY_MS} ms, {DEFAULT_CONCURRENCY} in flight): "
            "tap-sequin wall / floor",
            row.run.wall_s / floor,
            LIMIT,
            at_least=False,
            detail=f"{row.run.wall_s:.2f} s vs floor {floor:.2f} s; the v1 control "
            f"{control_row.run.wall_s / (control_row.floor_s or 1):.2f}x of its floor "
            f"({control_row.run.wall_s:.2f} s vs {control_row.floor_s:.2f} s)",
        )
    ]
    return [row, control_row], targets, start
