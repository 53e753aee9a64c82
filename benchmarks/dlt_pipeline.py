"""The peer: a dlt `rest_api` pipeline doing tap-sequin's job (needs the `bench` group).

    .venv/bin/python benchmarks/dlt_pipeline.py --base-url URL --token T
        [--ids-file FILE --workers 8] [--postgres CONNINFO_URL --dataset NAME]
        --pipelines-dir DIR

List mode (no --ids-file): one `GET /v1/syncs`, records from its `data` array. Per id
(--ids-file, one sync id a line): `GET /v1/syncs/{id}` for each id, as a dependent
resource of a resource yielding the ids, `parallelized` on `--workers` threads (dlt's
`extract.workers`). Without --postgres the pipeline only extracts (`pipeline.extract`:
records to dlt's local load package, as a tap writes them to stdout); with it, it runs
end to end (`pipeline.run`: extract, normalize, load into that PostgreSQL with dlt's
`postgres` destination). Prints one JSON line: rows extracted per table.

dlt's configuration is given here in code and through its documented environment
variables (`EXTRACT__WORKERS`, `RUNTIME__DLTHUB_TELEMETRY`, `RUNTIME__LOG_LEVEL`); the
pipeline's working directory is `--pipelines-dir`, created fresh by the caller.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ids-file", help="one sync id a line: per-id mode")
    parser.add_argument("--workers", type=int, default=8, help="per-id requests in flight")
    parser.add_argument("--postgres", help="postgresql://... : load there (end to end)")
    parser.add_argument("--dataset", default="sequin_dlt", help="PostgreSQL schema")
    parser.add_argument("--pipelines-dir", required=True)
    args = parser.parse_args(argv)

    # Before dlt reads its configuration (at import and at pipeline creation).
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["EXTRACT__WORKERS"] = str(args.workers)
    os.environ.setdefault("EXTRACT__MAX_PARALLEL_ITEMS", str(max(20, args.workers)))

    import dlt
    from dlt.sources.rest_api import rest_api_source

    client: dict[str, Any] = {
        "base_url": args.base_url.rstrip("/") + "/",
        "auth": {"type": "bearer", "token": args.token},
        "paginator": "single_page",
    }
    if args.ids_file:
        ids = Path(args.ids_file).read_text().split()

        @dlt.resource(name="sync_ids", selected=False)
        def sync_id_items() -> Any:
            # One page of items; the dependent resource defers one request per item.
            yield [{"id": sync_id} for sync_id in ids]

        resources: list[Any] = [
            sync_id_items,
            {
                "name": "syncs",
                "primary_key": "id",
                "parallelized": True,
                "endpoint": {
                    "path": "v1/syncs/{resources.sync_ids.id}",
                    "data_selector": "$",
                },
            },
        ]
    else:
        resources = [
            {
                "name": "syncs",
                "primary_key": "id",
                "endpoint": {"path": "v1/syncs", "data_selector": "data"},
            }
        ]
    source = rest_api_source({"client": client, "resources": resources})  # type: ignore[typeddict-item]

    destination: Any = (
        dlt.destinations.postgres(credentials=args.postgres) if args.postgres else None
    )
    pipeline = dlt.pipeline(
        pipeline_name="sequin_bench",
        pipelines_dir=args.pipelines_dir,
        destination=destination,
        dataset_name=args.dataset,
    )
    if args.postgres:
        pipeline.run(source, write_disposition="merge")
    else:
        pipeline.extract(source)
    counts = pipeline.last_trace.last_extract_info.metrics  # type: ignore[union-attr]
    rows = _extracted_rows(pipeline)
    print(json.dumps({"rows": rows, "loads": len(counts)}))
    return 0


def _extracted_rows(pipeline: Any) -> dict[str, int]:
    """Rows per table that the last extract wrote (dlt's own count)."""
    info = pipeline.last_trace.last_extract_info
    rows: dict[str, int] = {}
    for load_id in info.loads_ids:
        for metrics in info.metrics[load_id]:
            for table, table_metrics in metrics["table_metrics"].items():
                rows[table] = rows.get(table, 0) + table_metrics.items_count
    return rows


if __name__ == "__main__":
    sys.exit(main())
