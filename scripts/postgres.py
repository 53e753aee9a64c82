#!/usr/bin/env python3
"""The embedded PostgreSQL of ``scripts/run``, a psql on it, and the summary it prints.

    .venv/bin/python scripts/postgres.py sql                     # psql on the main job's data
    .venv/bin/python scripts/postgres.py sql -c "SELECT count(*) FROM syncs"   # one query
    .venv/bin/python scripts/postgres.py start  [--data-dir DIR]  # prints export TARGET_...
    .venv/bin/python scripts/postgres.py status [--data-dir DIR]  # the same, or exit 3
    .venv/bin/python scripts/postgres.py stop   [--data-dir DIR]
    .venv/bin/python scripts/postgres.py report  # the dbt models' answers, as scripts/run prints

DIR defaults to ``.meltano/postgres/data``, where ``bash scripts/run`` keeps its data.
``sql`` connects where target-postgres loads: the ``TARGET_POSTGRES_*`` variables if
any is set, else the embedded server in DIR, started for the command and stopped
after it (left running if it already was); ``search_path`` is the schema of the dbt
models (``sequin_analytics``), then the loaded one (``sequin``), and the session's
TimeZone is UTC. ``report`` connects in the same way. The server lives
in ``local_postgres``, the summary in ``warehouse``; the models themselves are dbt's
(``transform/``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Re-exported: tests and other scripts load this file as the one entry point.
from local_postgres import (
    WHEELS,
    LocalPostgres,
    PostgresError,
    find_bin_dir,
)
from warehouse import (
    WarehouseError,
    report,
    target_conninfo,
    target_schema,
)

ROOT = Path(__file__).resolve().parents[1]
MAIN_JOB_DATA = ROOT / ".meltano" / "postgres" / "data"

__all__ = [
    "MAIN_JOB_DATA",
    "WHEELS",
    "LocalPostgres",
    "PostgresError",
    "WarehouseError",
    "find_bin_dir",
    "main",
    "report",
    "target_conninfo",
    "target_schema",
]


def _targets_configured() -> bool:
    return any(name.startswith("TARGET_POSTGRES_") for name in os.environ)


def run_psql(conninfo: str, schema: str, command: str | None) -> int:
    """psql (from the PostgreSQL wheel) on ``conninfo``, the models' schema and ``schema``
    on its ``search_path``."""
    args = [str(find_bin_dir() / "psql"), "-X", "--no-psqlrc", "-v", "ON_ERROR_STOP=1"]
    if command is not None:
        args += ["-c", command]
    env = {
        **os.environ,
        "PGOPTIONS": f"-c search_path={schema}_analytics,{schema},public",
        "PGTZ": "UTC",
    }
    return subprocess.run([*args, conninfo], env=env, check=False).returncode  # noqa: S603


@contextlib.contextmanager
def main_job_database(action: str, data_dir: Path) -> Iterator[str | None]:
    """The conninfo of where the main job loads: the ``TARGET_POSTGRES_*`` variables if any
    is set, else the embedded server in ``data_dir``, started for the block and stopped
    after it (left running if it already was). None, said on stderr, if there is none."""
    if _targets_configured():
        yield target_conninfo()
        return
    if not (data_dir / "PG_VERSION").exists():
        print(
            f"postgres.py {action}: no database in {data_dir}: run `bash scripts/run` first, "
            "or set TARGET_POSTGRES_* to your own",
            file=sys.stderr,
        )
        yield None
        return
    pg = LocalPostgres(data_dir)
    was_running = pg.is_running()
    pg.start()
    try:
        yield pg.conninfo
    finally:
        if not was_running:
            pg.stop()


def sql(command: str | None, data_dir: Path) -> int:
    """Open psql (or run ``command``) where the main job loads; see the module docstring."""
    with main_job_database("sql", data_dir) as conninfo:
        return 1 if conninfo is None else run_psql(conninfo, target_schema(), command)


def main(argv: list[str] | None = None) -> int:
    """Run one action; exit status 0 on success."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 1)[1],
    )
    parser.add_argument("action", choices=["start", "stop", "status", "sql", "report"])
    parser.add_argument(
        "--data-dir", type=Path, help=f"cluster directory (kept); default {MAIN_JOB_DATA}"
    )
    parser.add_argument("--port", type=int, default=0, help="start: 0 = a free port")
    parser.add_argument("--wheel", choices=WHEELS, default=None)
    parser.add_argument("--format", choices=["env", "json"], default="env", help="start/status")
    parser.add_argument("-c", "--command", help="sql: run this SQL and exit (default: a prompt)")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or MAIN_JOB_DATA
    try:
        if args.action == "sql":
            return sql(args.command, data_dir)
        if args.action == "report":
            with main_job_database("report", data_dir) as conninfo:
                if conninfo is None:
                    return 1
                report(conninfo)
            return 0
        pg = LocalPostgres(data_dir, port=args.port, wheel=args.wheel)
        if args.action == "stop":
            pg.stop()
            return 0
        if args.action == "status" and not pg.is_running():
            return 3
        pg.start()
    except Exception as exc:  # noqa: BLE001 - one line for the shell, not a traceback
        print(f"postgres.py {args.action}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({**pg.settings, "url": pg.url, "data_dir": str(pg.data_dir)}))
    else:
        for key, value in pg.target_env().items():
            print(f"export {key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
