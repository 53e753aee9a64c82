"""The answers the main job's dbt models hold, printed as a summary (the end of scripts/run).

The connection is the one meltano's target-postgres and dbt use, read from the same
``TARGET_POSTGRES_*`` variables (``SQLALCHEMY_URL``, or ``HOST``/``PORT``/``USER``/
``PASSWORD``/``DATABASE``), and the loaded schema from
``TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA`` (default ``sequin``). Which models to print, in
which order, and under which heading comes from dbt's own manifest
(``transform/target/manifest.json``, written by ``dbt run``): every model whose
``meta.summary`` is set, headed by the first sentence of its description. Needs
``psycopg`` (in the project's ``e2e`` group).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).resolve().parents[1] / "transform" / "target" / "manifest.json"


class WarehouseError(RuntimeError):
    """The target database or dbt's manifest cannot be read."""


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


def models(manifest: Path = MANIFEST) -> dict[str, dict[str, Any]]:
    """The enabled models of dbt's manifest, by name."""
    try:
        nodes = json.loads(manifest.read_text())["nodes"].values()
    except (OSError, ValueError, KeyError) as exc:
        raise WarehouseError(f"cannot read dbt's manifest {manifest}: {exc}") from exc
    return {
        node["name"]: node
        for node in nodes
        if node.get("resource_type") == "model" and node.get("config", {}).get("enabled", True)
    }


def summary_models(found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The models with ``meta.summary``, in that order."""
    chosen = [node for node in found.values() if node["config"].get("meta", {}).get("summary")]
    return sorted(chosen, key=lambda node: node["config"]["meta"]["summary"])


def heading(description: str) -> str:
    """The first sentence of a model's description."""
    return " ".join(description.split()).split(". ")[0].rstrip(".")


def report(conninfo: str, out: Any = None, manifest: Path = MANIFEST) -> int:
    """Print every summary model's rows, then the live and deleted syncs; returns the
    number of models printed."""
    import psycopg

    out = out or sys.stdout
    found = models(manifest)
    chosen = summary_models(found)
    with psycopg.connect(conninfo) as conn:
        for number, node in enumerate(chosen):
            order_by = node["config"]["meta"].get("order_by")
            # Quoted relation names and the ordering come from this project's own manifest.
            query = f"SELECT * FROM {node['relation_name']}"  # noqa: S608
            if order_by:
                query += f" ORDER BY {order_by}"
            cursor = conn.execute(query.encode())
            print(("\n" if number else "") + f"{heading(node['description'])}:", file=out)
            print_rows([d.name for d in cursor.description or []], cursor.fetchall(), out)
        if "stg_sequin__syncs" in found:
            relation = found["stg_sequin__syncs"]["relation_name"]
            counts = "count(*) FILTER (WHERE NOT is_deleted), count(*) FILTER (WHERE is_deleted)"
            query = f"SELECT {counts} FROM {relation}"  # noqa: S608
            live, deleted = conn.execute(query.encode()).fetchone() or (0, 0)
            print(f"\n{live} live syncs, {deleted} soft-deleted", file=out)
    return len(chosen)
