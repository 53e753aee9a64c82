"""scripts/postgres.py: a throwaway PostgreSQL from a wheel, on 127.0.0.1.

Quick (about a second per server), so not marked e2e. The wheel is part of the locked
e2e group on every Python version, so a missing wheel fails these tests, never skips them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, load_postgres_helper

helper = load_postgres_helper()


def test_ephemeral_server_on_tcp_is_removed_on_stop() -> None:
    import psycopg

    with helper.LocalPostgres() as pg:
        assert pg.settings["host"] == "127.0.0.1"
        assert pg.port > 0
        with psycopg.connect(pg.conninfo) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        data_dir = pg.data_dir
    assert not data_dir.exists()


def test_kept_data_dir_survives_restart(tmp_path: Path) -> None:
    import psycopg

    data_dir = tmp_path / "pg" / "data"
    with (
        helper.LocalPostgres(data_dir) as pg,
        psycopg.connect(pg.conninfo, autocommit=True) as conn,
    ):
        conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
    assert (data_dir / "PG_VERSION").exists()
    with helper.LocalPostgres(data_dir) as pg, psycopg.connect(pg.conninfo) as conn:
        assert conn.execute("SELECT x FROM kept").fetchall() == [(42,)]


def test_cli_start_prints_target_env_and_stop(tmp_path: Path) -> None:
    script = REPO / "scripts" / "postgres.py"
    data_dir = tmp_path / "cli" / "data"
    started = subprocess.run(
        [sys.executable, str(script), "start", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    try:
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
        )
        assert exports["TARGET_POSTGRES_HOST"] == "127.0.0.1"
        assert int(exports["TARGET_POSTGRES_PORT"]) > 0
        status = subprocess.run(
            [sys.executable, str(script), "status", "--data-dir", str(data_dir)],
            timeout=60,
            check=False,
        )
        assert status.returncode == 0
    finally:
        subprocess.run(
            [sys.executable, str(script), "stop", "--data-dir", str(data_dir)],
            timeout=60,
            check=True,
        )
    status = subprocess.run(
        [sys.executable, str(script), "status", "--data-dir", str(data_dir)],
        timeout=60,
        check=False,
    )
    assert status.returncode != 0


def test_library_example_in_the_docstring_runs_as_written() -> None:
    doc = (REPO / "scripts" / "local_postgres.py").read_text().split('"""')[1]
    code = "\n".join(line[4:] for line in doc.splitlines() if line.startswith("    "))
    assert "LocalPostgres()" in code
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "'host': '127.0.0.1'" in done.stdout


def test_report_prints_the_models_dbt_marks_for_the_summary_in_their_order(
    tmp_path: Path,
) -> None:
    import io
    import json

    import psycopg

    def model(name: str, description: str, meta: dict[str, object]) -> dict[str, object]:
        return {
            "resource_type": "model",
            "name": name,
            "description": description,
            "relation_name": f'"postgres"."a"."{name}"',
            "config": {"enabled": True, "meta": meta},
        }

    # The shape of dbt's manifest.json, as far as the summary reads it.
    manifest = tmp_path / "manifest.json"
    nodes = [
        model("by_name", "Syncs by name. More words.", {"summary": 2, "order_by": "name"}),
        model("unhealthy", "Unhealthy now, with reasons. More.", {"summary": 1}),
        model("not_shown", "A model without meta.summary.", {}),
        model("stg_sequin__syncs", "Staging.", {}),
    ]
    manifest.write_text(json.dumps({"nodes": {f"model.x.{n['name']}": n for n in nodes}}))
    with helper.LocalPostgres() as pg:
        with psycopg.connect(pg.conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE SCHEMA a; CREATE TABLE a.by_name (name text, n bigint);"
                "INSERT INTO a.by_name VALUES ('y', 1), ('x', 2);"
                "CREATE TABLE a.unhealthy (id text); CREATE TABLE a.not_shown (id text);"
                "CREATE TABLE a.stg_sequin__syncs (id text, is_deleted boolean);"
                "INSERT INTO a.stg_sequin__syncs VALUES ('a', false), ('b', false), ('c', true)"
            )
        out = io.StringIO()
        assert helper.report(pg.conninfo, out, manifest=manifest) == 2
    assert out.getvalue().splitlines() == [
        "Unhealthy now, with reasons:",
        "id",
        "",
        "Syncs by name:",
        "name  n",
        "x     2",
        "y     1",
        "",
        "2 live syncs, 1 soft-deleted",
    ]


def test_cluster_of_another_major_version_is_refused_in_words(tmp_path: Path) -> None:
    # A clone that ran the main job with an older wheel keeps that cluster in
    # .meltano/postgres/data; the new server cannot open it.
    script = REPO / "scripts" / "postgres.py"
    data_dir = tmp_path / "old" / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "PG_VERSION").write_text("16\n")
    started = subprocess.run(
        [sys.executable, str(script), "start", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 1
    assert started.stdout == ""
    message = started.stderr.strip()
    assert "\n" not in message
    assert f"{data_dir} holds a PostgreSQL 16 cluster" in message
    assert "installed server is PostgreSQL 18" in message
    assert "move that folder away" in message


def test_report_without_a_manifest_says_to_run_dbt_first(tmp_path: Path) -> None:
    with pytest.raises(helper.WarehouseError, match="manifest"):
        helper.report("host=127.0.0.1 port=1", manifest=tmp_path / "missing.json")


def test_report_without_any_database_says_where_it_looked(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TARGET_POSTGRES_")}
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "postgres.py"), "report", "--data-dir",
         str(tmp_path / "none")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith(f"postgres.py report: no database in {tmp_path / 'none'}")
