"""The README's main command, `bash scripts/run`, on its embedded defaults, and the one
command the README gives to query the database it filled.

Runs in the session's copy of the project (scripts/run makes that copy's own .venv from
uv's cache; uv itself is the checkout's .tools/).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import REPO, MeltanoProject, clean_env, load_postgres_helper

pytestmark = pytest.mark.e2e

README = (REPO / "README.md").read_text()


def test_scripts_run_then_the_readme_sql_command_reads_its_data(
    meltano_project: MeltanoProject,
) -> None:
    root = meltano_project.root
    if not (root / ".tools").exists():
        (root / ".tools").symlink_to(REPO / ".tools")
    env = clean_env(PYTHON=getattr(sys, "_base_executable", sys.executable))
    env.pop("VIRTUAL_ENV", None)
    run = subprocess.run(
        ["bash", "scripts/run"], cwd=root, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert "meltano run sequin-to-postgres" in run.stderr
    # The answers come from the dbt models the job built and tested.
    assert re.search(r"\[run\] dbt Done\. PASS=\d+ WARN=0 ERROR=0", run.stderr), run.stderr
    assert "25 live syncs, 0 soft-deleted" in run.stdout
    for heading in (
        "Syncs unhealthy now, with Sequin's reasons and their credential's health:",
        "Health incidents: each stretch of unhealthy runs per sync",
        "Live syncs per collection",
    ):
        assert heading in run.stdout
    per_provider = run.stdout.split("Live syncs per provider and health status")[1]
    counts = re.findall(r"^\S+\s+\S+\s+(\d+)$", per_provider.split("\n\n")[0], re.M)
    assert sum(map(int, counts)) == 25

    # The folder the README names holds the cluster, and the server is stopped.
    assert "`.meltano/postgres/data`" in README
    data = root / ".meltano" / "postgres" / "data"
    (readme_version,) = re.findall(r"a real \*\*PostgreSQL (\d+)\*\*", README)
    assert (data / "PG_VERSION").read_text().strip() == readme_version
    assert not load_postgres_helper().LocalPostgres(data).is_running()

    # The README's one-query command, verbatim.
    (command,) = re.findall(
        r"^(\.venv/bin/python scripts/postgres\.py sql -c .*?)\s+#", README, re.M
    )
    query = subprocess.run(
        ["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert query.returncode == 0, query.stderr[-3000:]
    assert [line.strip() for line in query.stdout.splitlines()][:3] == ["count", "-------", "25"]
    assert not load_postgres_helper().LocalPostgres(data).is_running(), "left as it found it"

    # The models' answers again, later, as the README says.
    assert "`.venv/bin/python scripts/postgres.py\nreport` again later" in README
    again = subprocess.run(
        [".venv/bin/python", "scripts/postgres.py", "report"], cwd=root, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "25 live syncs, 0 soft-deleted" in again.stdout
    assert "Syncs unhealthy now, with Sequin's reasons" in again.stdout
    assert not load_postgres_helper().LocalPostgres(data).is_running(), "left as it found it"
