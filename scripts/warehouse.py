"""What the main job does in PostgreSQL after loading: convert timestamps, report, query.

The connection is the one meltano's target-postgres uses, read from the same
``TARGET_POSTGRES_*`` variables (``SQLALCHEMY_URL``, or ``HOST``/``PORT``/``USER``/
``PASSWORD``/``DATABASE``), and the schema from ``TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA``
(default ``sequin``). Needs ``psycopg`` (in the project's ``e2e`` group, and the only
package of the ``sequin-sql`` utility in ``meltano.yml``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

REPORT_DIR = Path(__file__).resolve().parents[1] / "sql" / "report"


class WarehouseError(RuntimeError):
    """The target database cannot be reached with the TARGET_POSTGRES_* settings."""


def target_conninfo(env: dict[str, str] | None = None) -> str:
    """A libpq connection string from the TARGET_POSTGRES_* variables meltano uses."""
    env = dict(os.environ if env is None else env)
    url = env.get("TARGET_POSTGRES_SQLALCHEMY_URL")
    if url:
        scheme, sep, rest = url.partition("://")
        if not sep or not scheme.startswith("postgres"):
            raise WarehouseError("TARGET_POSTGRES_SQLALCHEMY_URL is not a postgresql:// URL")
        return "postgresql://" + rest
    from psycopg.conninfo import make_conninfo

    params = {
        "host": env.get("TARGET_POSTGRES_HOST") or "localhost",
        "port": env.get("TARGET_POSTGRES_PORT") or "5432",
        "user": env.get("TARGET_POSTGRES_USER") or None,
        "password": env.get("TARGET_POSTGRES_PASSWORD") or None,
        "dbname": env.get("TARGET_POSTGRES_DATABASE") or None,
    }
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def target_schema(env: dict[str, str] | None = None) -> str:
    """The schema target-postgres loads into."""
    env = dict(os.environ if env is None else env)
    return env.get("TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA") or "sequin"


def convert_timestamps(conninfo: str, schema: str) -> list[str]:
    """ALTER every ``timestamp without time zone`` column of ``schema`` to timestamptz.

    target-postgres 0.8.1 creates date-time columns without a time zone and writes
    each instant as wall-clock time of its session's TimeZone; ``meltano.yml`` gives
    its session ``PGTZ=UTC``, so the columns hold UTC and are read back as UTC here
    (``AT TIME ZONE 'UTC'``), whatever this session's or the server's TimeZone.
    Later loads keep the timestamptz type. Returns ``schema.table.column`` names.
    """
    import psycopg
    from psycopg import sql

    done: list[str] = []
    with psycopg.connect(conninfo, autocommit=False) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND data_type = 'timestamp without time zone' "
            "ORDER BY table_name, ordinal_position",
            (schema,),
        ).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column in rows:
            tables.setdefault(table, []).append(column)
        for table, columns in tables.items():
            alters = sql.SQL(", ").join(
                sql.SQL("ALTER COLUMN {c} TYPE timestamptz USING {c} AT TIME ZONE 'UTC'").format(
                    c=sql.Identifier(c)
                )
                for c in columns
            )
            conn.execute(
                sql.SQL("ALTER TABLE {t} {a}").format(t=sql.Identifier(schema, table), a=alters)
            )
            done += [f"{schema}.{table}.{c}" for c in columns]
        conn.commit()
    return done


REPORT_SQL = """
SELECT coalesce(health_status, '(none)') AS health_status,
       coalesce(provider, '(none)')      AS provider,
       count(*)                          AS syncs
FROM {table}
WHERE _sdc_deleted_at IS NULL
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
"""


def print_rows(names: list[str], rows: list[tuple[Any, ...]], out: Any) -> None:
    """An aligned text table, as psql prints one (without the borders)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    # Numbers right-aligned, as psql does.
    numeric = [
        bool(rows) and all(isinstance(r[i], (int, float)) for r in rows) for i in range(len(names))
    ]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip(), file=out)
    for row in cells:
        line = "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(row, widths, numeric, strict=True)
        )
        print(line.rstrip(), file=out)


def report_files(directory: Path = REPORT_DIR) -> list[tuple[str, str]]:
    """``(heading, sql)`` of every ``*.sql`` file, in name order; heading from its first
    ``-- `` comment line (the file name if it has none)."""
    found = []
    for path in sorted(directory.glob("*.sql")) if directory.is_dir() else []:
        text = path.read_text()
        heading = next(
            (line[3:].strip() for line in text.splitlines() if line.startswith("-- ")),
            path.name,
        )
        found.append((heading, text))
    return found


def report(conninfo: str, schema: str, out: Any = None, directory: Path = REPORT_DIR) -> int:
    """Print live syncs per health status and provider, then every ``sql/report`` query.

    The report queries run with ``search_path`` set to ``schema``. Returns the number
    of rows of the first table.
    """
    import psycopg
    from psycopg import sql

    out = out or sys.stdout
    with psycopg.connect(conninfo) as conn:
        table = sql.Identifier(schema, "syncs")
        rows = conn.execute(sql.SQL(REPORT_SQL).format(table=table)).fetchall()
        live, deleted = conn.execute(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE _sdc_deleted_at IS NULL), "
                "count(*) FILTER (WHERE _sdc_deleted_at IS NOT NULL) FROM {t}"
            ).format(t=table)
        ).fetchone() or (0, 0)
        print_rows(["health_status", "provider", "syncs"], rows, out)
        print(f"{live} live syncs in {schema}.syncs, {deleted} soft-deleted", file=out)
        conn.execute(sql.SQL("SET search_path TO {s}").format(s=sql.Identifier(schema)))
        for heading, query in report_files(directory):
            cursor = conn.execute(query.encode())
            print(f"\n{heading}:", file=out)
            names = [d.name for d in cursor.description or []]
            print_rows(names, cursor.fetchall(), out)
    return len(rows)
