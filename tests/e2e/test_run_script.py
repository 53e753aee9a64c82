"""`bash scripts/run` when something is wrong: which API it uses, a failing loader, Ctrl-C.

Each runs the README's main command in the session's copy of the project, as a user
would from a shell.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO, MeltanoProject, clean_env

pytestmark = pytest.mark.e2e


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _project(meltano_project: MeltanoProject) -> Path:
    root = meltano_project.root
    if not (root / ".tools").exists():
        (root / ".tools").symlink_to(REPO / ".tools")
    return root


def _env(**extra: str) -> dict[str, str]:
    env = clean_env(PYTHON=getattr(sys, "_base_executable", sys.executable), **extra)
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/run"], cwd=root, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip


def test_variables_left_from_a_stopped_sandbox_are_named_and_fail_before_the_pipeline(
    meltano_project: MeltanoProject,
) -> None:
    # What the README's "try it by hand" block used to leave exported in the shell.
    port = _closed_port()
    env = _env(TAP_SEQUIN_API_KEY="demo-token", TAP_SEQUIN_BASE_URL=f"http://127.0.0.1:{port}")
    run = _run(_project(meltano_project), env)

    assert run.returncode == 1
    assert f"[run] using the Sequin API at http://127.0.0.1:{port}" in run.stderr
    assert "TAP_SEQUIN_API_KEY from the environment" in run.stderr
    assert "connection to 127.0.0.1 refused" in run.stderr
    assert "unset both to run on the local sandbox" in run.stderr.splitlines()[-1]
    assert "meltano run" not in run.stderr
    assert "demo-token" not in run.stdout + run.stderr


def test_a_failing_loader_is_named_with_its_own_error_line(
    meltano_project: MeltanoProject,
) -> None:
    env = _env(
        TARGET_POSTGRES_HOST="127.0.0.1",
        TARGET_POSTGRES_PORT=str(_closed_port()),
        TARGET_POSTGRES_USER="loader",
        TARGET_POSTGRES_PASSWORD="not-a-real-password",
        TARGET_POSTGRES_DATABASE="analytics",
    )
    run = _run(_project(meltano_project), env)

    assert run.returncode == 1
    lines = run.stderr.splitlines()
    (cause,) = [line for line in lines if line.startswith("[run] target-postgres failed: ")]
    assert "Connection refused" in cause
    assert "pipeline failed" in lines[-1]
    # Meltano's own tracebacks stay in the log the last line names.
    assert "BrokenPipeError" not in run.stderr
    assert "Traceback" not in run.stderr


def test_ctrl_c_says_it_was_interrupted(meltano_project: MeltanoProject) -> None:
    root = _project(meltano_project)
    # A terminal's Ctrl-C sends SIGINT to the whole foreground process group.
    with subprocess.Popen(
        ["bash", "scripts/run"], cwd=root, env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    ) as proc:  # fmt: skip
        assert proc.stderr is not None
        seen = []
        deadline = time.monotonic() + 600
        for line in proc.stderr:
            seen.append(line)
            if "meltano run sequin-to-postgres" in line or time.monotonic() > deadline:
                break
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        rest = proc.stderr.read()
        proc.wait(timeout=120)
    stderr = "".join(seen) + rest

    assert proc.returncode == 130, stderr[-3000:]
    assert "[run] interrupted (Ctrl-C)" in stderr
