"""The dbt project in transform/: the job's data tests, its docs, its connection, and its use
as a package in a user's own dbt project, each on tables a `meltano run` loaded.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import JOB, REPO, clean_env

pytestmark = pytest.mark.e2e


def _dbt(pipeline: Any) -> Path:
    """dbt as `meltano install` put it in the project's plugin venv."""
    return pipeline.project.root / ".meltano/utilities/dbt-postgres/venv/bin/dbt"


def test_a_failing_data_test_fails_the_job_with_dbts_own_message(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=5, seed=21)
    # A data test of the project's own kind that finds rows: every live sync.
    failing = pipeline.project.root / "transform" / "tests" / "every_sync_is_a_fault.sql"
    failing.parent.mkdir(exist_ok=True)
    failing.write_text("select id from {{ ref('stg_sequin__syncs') }} where not is_deleted\n")
    try:
        proc = pipeline.run("run", JOB)
    finally:
        failing.unlink()
    assert proc.returncode != 0
    assert "Failure in test every_sync_is_a_fault" in proc.stderr
    assert "Got 5 results, configured to fail if != 0" in proc.stderr
    # The load and the models happened; only the test failed.
    assert pipeline.query("SELECT count(*) FROM stg_sequin__syncs") == [(5,)]


def test_a_missing_credential_is_a_warning_not_a_failure(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=5, seed=22)
    sync_id = pipeline.sandbox.sync_ids[0]
    pipeline.sandbox.update_sync(sync_id, credential_id="no-such-credential")
    proc = pipeline.run_ok("run", JOB)
    assert "Warning in test relationships_stg_sequin__syncs_credential_id" in proc.stderr
    assert pipeline.query("SELECT credential_id FROM stg_sequin__syncs WHERE id = %s", (sync_id,))


def test_the_url_setting_alone_reaches_the_same_database(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=4, seed=23)
    pg = pipeline.pg
    # Percent-encoded user and password, as in any URL; the host variable is ignored when
    # the URL is set, by the loader and by dbt alike.
    pipeline.extra_env.update(
        TARGET_POSTGRES_SQLALCHEMY_URL=(
            f"postgresql+psycopg://post%67res:p%40ss@{pg.host}:{pg.port}/postgres"
        ),
        TARGET_POSTGRES_HOST="no-such-host.invalid",
        TARGET_POSTGRES_PORT="1",
    )
    pipeline.run_ok("run", JOB)
    assert pipeline.query("SELECT sum(syncs) FROM sequin_live_syncs_by_provider_and_health") == [
        (4,)
    ]


def test_docs_generate_describes_every_model_and_column(make_pipeline: Any) -> None:
    pipeline = make_pipeline(syncs=4, seed=24)
    pipeline.run_ok("run", JOB)
    pipeline.run_ok("invoke", "dbt-postgres:docs-generate")
    target = pipeline.project.root / "transform" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    models = {
        key: node for key, node in manifest["nodes"].items() if node["resource_type"] == "model"
    }
    assert len(models) >= 8
    for key, node in models.items():
        assert node["description"].strip(), f"{node['name']} has no description"
        # Every column the database has, from dbt's catalog of the built table.
        columns = catalog["nodes"][key]["columns"]
        assert columns, node["name"]
        for column in columns:
            described = node["columns"].get(column, {}).get("description", "")
            assert described.strip(), f"{node['name']}.{column} has no description"
    for source in manifest["sources"].values():
        assert source["description"].strip(), source["name"]


def _user_project(root: Path, package: Path, pg: Any, schema: str) -> Path:
    """A new dbt project of a user's own that installs the package by path."""
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: users_analytics\nversion: '1.0'\nconfig-version: 2\nprofile: users\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
        f"vars:\n  sequin:\n    sequin_schema: {schema}\n"
    )
    (root / "packages.yml").write_text(f"packages:\n  - local: {package}\n")
    (root / "profiles.yml").write_text(
        "users:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n"
        f"      host: {pg.host}\n      port: {pg.port}\n      user: postgres\n"
        "      password: ''\n      dbname: postgres\n      schema: users_models\n"
        "      threads: 1\n"
    )
    # A model of the user's own over one of the package's.
    (root / "models" / "stripe_syncs.sql").write_text(
        "select id, name from {{ ref('stg_sequin__syncs') }} where provider = 'stripe'\n"
    )
    return root


def test_the_package_runs_in_a_users_own_dbt_project(make_pipeline: Any, tmp_path: Path) -> None:
    pipeline = make_pipeline(syncs=12, seed=25)
    # Loaded by the plain pipeline: the user's own Meltano project has no dbt step of ours.
    pipeline.run_ok("run", "tap-sequin", "target-postgres")
    package = pipeline.project.root / "transform"
    project = _user_project(tmp_path / "users", package, pipeline.pg, pipeline.schema)
    env = clean_env(DBT_PROFILES_DIR=str(project))

    def dbt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_dbt(pipeline)), "--no-use-colors", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    deps = dbt("deps")
    assert deps.returncode == 0, deps.stdout[-3000:]
    built = dbt("build")
    assert built.returncode == 0, built.stdout[-5000:]
    assert "ERROR=0" in built.stdout

    served = [pipeline.sandbox.sync(i) for i in pipeline.sandbox.sync_ids]
    stripe = {row[0] for row in pipeline.query("SELECT id FROM users_models.stripe_syncs")}
    unhealthy = {
        row[0] for row in pipeline.query("SELECT id FROM users_models.sequin_syncs_unhealthy_now")
    }
    assert stripe == {s["id"] for s in served if s["provider"] == "stripe"}
    assert unhealthy == {s["id"] for s in served if s["health"]["status"] not in {"healthy", "ok"}}

    # A project that loads another family only (no model of its own over this one) switches
    # this family off and still runs.
    (project / "models" / "stripe_syncs.sql").unlink()
    off = dbt("build", "--vars", "{sequin_v1_enabled: false}", "--select", "package:sequin")
    assert off.returncode == 0, off.stdout[-3000:]
    assert "stg_sequin__" not in off.stdout, off.stdout[-3000:]


def test_the_package_installs_from_git_with_a_subdirectory(
    make_pipeline: Any, tmp_path: Path
) -> None:
    # The README's other packages.yml form, with this repository as the git remote (a
    # file:// URL: tests reach no network). It installs what is committed.
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    pipeline = make_pipeline(syncs=3, seed=26)
    project = _user_project(tmp_path / "users", Path("unused"), pipeline.pg, pipeline.schema)
    (project / "packages.yml").write_text(
        f"packages:\n  - git: file://{REPO}\n    subdirectory: transform\n"
    )
    env = clean_env(DBT_PROFILES_DIR=str(project))
    for args in (("deps",), ("ls", "--select", "package:sequin", "--resource-type", "model")):
        done = subprocess.run(
            [str(_dbt(pipeline)), "--no-use-colors", *args], cwd=project, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:]
    assert "sequin.v1.answers.sequin_syncs_unhealthy_now" in done.stdout
