"""tap-sequin's extraction against the peer a user would pick instead: dlt's `rest_api`.

Both extract from the same sandbox with the same latency, each as the CLI a user runs,
and both write what they extracted to local files: `tap-sequin --config FILE` (stdout
to a file) and `benchmarks/dlt_pipeline.py` (`pipeline.extract`: records to dlt's local
load package). Wall time is spawn to exit for both, start-up included.

- PL: list mode (no sync ids): one `GET /v1/syncs` of 10,000 syncs.
- PI: per id, 1,000 ids, 8 requests in flight for both (tap-sequin's default
  `max_concurrent_requests`; dlt's `parallelized` resource on 8 `extract.workers`).

Needs the `bench` dependency group (`.tools/bin/uv sync --frozen --all-groups`).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

from extraction import run_against, tap_command, tap_config
from harness import BIN, RECORD, ROOT, TOKEN, Run, Sandbox, median_run, sync_ids
from report import Row, Target

DLT = [str(BIN / "python"), str(ROOT / "benchmarks" / "dlt_pipeline.py")]
LATENCY_MS = 50
WORKERS = 8


def available() -> bool:
    return importlib.util.find_spec("dlt") is not None


def dlt_args(
    url: str,
    workdir: Path,
    ids_file: Path | None,
    postgres: str | None = None,
    dataset: str = "sequin_dlt",
) -> list[str]:
    """Arguments of one dlt run, with a fresh pipelines directory (no state carried over)."""
    pipelines = workdir / "dlt-pipelines"
    shutil.rmtree(pipelines, ignore_errors=True)
    args = [*DLT, "--base-url", url, "--token", TOKEN, "--pipelines-dir", str(pipelines)]
    if ids_file is not None:
        args += ["--ids-file", str(ids_file), "--workers", str(WORKERS)]
    if postgres:
        args += ["--postgres", postgres, "--dataset", dataset]
    return args


def dlt_rows(out: Path) -> int:
    """Rows of the syncs table that dlt says it extracted (its one JSON line on stdout)."""
    return int(json.loads(out.read_text())["rows"].get("syncs", 0))


def _scenario(key: str, syncs: int, per_id: bool, repeat: int, workdir: Path) -> list[Row]:
    runs: dict[str, list[Run]] = {"tap-sequin": [], "dlt rest_api": []}
    with Sandbox(syncs, LATENCY_MS, workdir) as sb:
        ids = sync_ids(syncs) if per_id else None
        ids_file = None
        if ids is not None:
            ids_file = workdir / f"{key}.ids"
            ids_file.write_text("\n".join(ids))
        cfg = tap_config(workdir, key, sb.url, ids)
        for _ in range(repeat):
            tap_out = workdir / f"{key}-tap.out"
            run = run_against(
                sb, [*tap_command(workdir), "--config", cfg], workdir, f"{key} tap-sequin", tap_out
            )
            run.records = tap_out.read_bytes().count(RECORD)
            runs["tap-sequin"].append(run)
            out = workdir / f"{key}-dlt.out"
            run = run_against(sb, dlt_args(sb.url, workdir, ids_file), workdir, f"{key} dlt", out)
            run.records = dlt_rows(out)
            runs["dlt rest_api"].append(run)
    what = f"{syncs:,} ids" if per_id else f"list of {syncs:,}"
    conc = str(WORKERS) if per_id else "1 request"
    return [Row(key, name, what, LATENCY_MS, conc, median_run(r), r) for name, r in runs.items()]


def run(repeat: int, size: str, workdir: Path) -> tuple[list[Row], list[Target]]:
    n_list, n_ids = {"full": (10000, 1000), "quick": (2000, 200), "smoke": (20, 8)}[size]
    rows = _scenario("PL", n_list, False, repeat, workdir)
    rows += _scenario("PI", n_ids, True, repeat, workdir)
    out = []
    for key in ("PL", "PI"):
        tap, peer = (r for r in rows if r.scenario == key)
        out.append(
            Target(
                f"{key} ({tap.what}, {LATENCY_MS} ms): dlt wall / tap-sequin wall (> 1: tap-sequin "
                "faster)",
                peer.run.wall_s / tap.run.wall_s,
                1.0,
                at_least=True,
                detail=f"{peer.run.wall_s:.2f} s vs {tap.run.wall_s:.2f} s",
            )
        )
    return rows, out
