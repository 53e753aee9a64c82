"""`SEQUIN_API=self-hosted bash scripts/run`: the self-hosted job on its embedded defaults
(the self-hosted sandbox, the embedded PostgreSQL), as the README and docs/self-hosted.md
give it.

Runs in the session's copy of the project, as tests/e2e/test_main_job.py does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from .conftest import REPO, MeltanoProject, clean_env, load_postgres_helper

pytestmark = pytest.mark.e2e

HEADINGS = (
    "Sinks unhealthy now, with their failing checks and those checks' errors:",
    "Since when each failing check of each live sink has failed:",
    "Health incidents per sink, and how they ended:",
    "Backfills in progress, with how far each has got:",
    "Backfills in progress that made no progress between the last two runs:",
    "Source databases whose replication slot is not active:",
)


def _run(root: object, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/run"], cwd=root, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip


def test_scripts_run_self_hosted_three_times_answers_from_the_self_hosted_models(
    meltano_project: MeltanoProject,
) -> None:
    root = meltano_project.root
    if not (root / ".tools").exists():
        (root / ".tools").symlink_to(REPO / ".tools")
    env = clean_env(PYTHON=getattr(sys, "_base_executable", sys.executable))
    env.pop("VIRTUAL_ENV", None)
    env["SEQUIN_API"] = "self-hosted"
    for run_number in (1, 2, 3):
        run = _run(root, env)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
        assert "meltano run sequin-self-hosted-to-postgres" in run.stderr
        assert f"(12 sinks, run {run_number})" in run.stderr
        assert re.search(r"\[run\] dbt Done\. PASS=\d+ WARN=0 ERROR=0", run.stderr), run.stderr
        for heading in HEADINGS:
            assert heading in run.stdout, heading
        # No v1 model is printed: the v1 family is off in this job.
        assert "Syncs unhealthy now" not in run.stdout
    # The sandbox's seeded stalled backfill (no progress after run 2) shows from run 3 on,
    # and the seeded database whose slot is disabled.
    stalled = run.stdout.split(HEADINGS[4])[1].split("\n\n")[0]
    assert "invoices-to-sqs-002" in stalled
    databases = run.stdout.split(HEADINGS[5])[1]
    assert re.search(r"legacy\s.*\sdisabled", databases)
    assert (
        not load_postgres_helper()
        .LocalPostgres(root / ".meltano" / "postgres" / "data")
        .is_running()
    )


def test_scripts_run_refuses_an_unknown_api_in_one_line(meltano_project: MeltanoProject) -> None:
    env = clean_env(SEQUIN_API="selfhosted")
    run = _run(meltano_project.root, env)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "[run] error: SEQUIN_API is 'selfhosted': use v1 (the default) or self-hosted"
    ]


def test_the_self_hosted_plugin_reads_its_own_variables_and_never_v1s_base_url(
    meltano_project: MeltanoProject,
) -> None:
    # What docs/self-hosted.md says: TAP_SEQUIN_SELF_HOSTED_* first, then tap-sequin's
    # TAP_SEQUIN_* (the token), except base_url and api.
    v1 = {
        "TAP_SEQUIN_API": "v1",
        "TAP_SEQUIN_BASE_URL": "https://api.sequin.io",
        "TAP_SEQUIN_API_KEY": "v1-token",
    }

    def config(**extra: str) -> dict[str, object]:
        proc = meltano_project.meltano(
            "invoke", "--dump=config", "tap-sequin-self-hosted", env=clean_env(**v1, **extra)
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        found: dict[str, object] = json.loads(proc.stdout)
        return found

    inherited = config()
    assert (inherited["api"], inherited["base_url"]) == ("self-hosted", "http://localhost:7376")
    assert inherited["api_key"] == "v1-token"
    own = config(
        TAP_SEQUIN_SELF_HOSTED_BASE_URL="http://sequin:7376",
        TAP_SEQUIN_SELF_HOSTED_API_KEY="server-token",
        TAP_SEQUIN_SELF_HOSTED_ALLOW_PLAIN_HTTP="true",
    )
    assert (own["api"], own["base_url"], own["api_key"], own["allow_plain_http"]) == (
        "self-hosted",
        "http://sequin:7376",
        "server-token",
        True,
    )
