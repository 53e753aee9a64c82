"""Fixtures for the end-to-end tests: a meltano project copy, PostgreSQL, meltano runs.

Meltano runs as a subprocess (never imported here: its import warns about
XDG_RUNTIME_DIR, and the suite turns warnings into errors), in a temporary COPY of the
project made once per session. The copy keeps the developer's `.meltano/` (plugin venvs,
the system database with run state, logs) and `output/` apart from the tests', and lets
two test sessions run side by side. `meltano install` runs once per session in it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MELTANO = VENV_BIN / "meltano"
# What a meltano project needs; no .env/.secrets/.meltano from the developer's tree.
PROJECT_FILES = ("meltano.yml", "pyproject.toml", "uv.lock", "README.md", "LICENSE")
PROJECT_DIRS = ("tap_sequin", "scripts", "transform")
# The README's main command runs this job (meltano.yml: tap-sequin target-postgres
# dbt-postgres:run dbt-postgres:test).
JOB = "sequin-to-postgres"
RUN_COMMAND = ("run", JOB)
_PROJECTS: list[MeltanoProject] = []


def load_postgres_helper() -> ModuleType:
    """Import scripts/postgres.py (a script, not a package module)."""
    name = "tap_sequin_scripts_postgres"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "postgres.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def clean_env(**extra: str) -> dict[str, str]:
    """The test process' environment without any configuration of the plugins."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_SEQUIN_", "TARGET_POSTGRES_", "TARGET_JSONL_", "MELTANO_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@dataclass
class MeltanoProject:
    root: Path
    install_seconds: float = 0.0
    runs: list[tuple[tuple[str, ...], float, int]] = field(default_factory=list)

    def meltano(
        self, *args: str, env: dict[str, str], timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        proc = subprocess.run(
            [str(MELTANO), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.runs.append((args, time.monotonic() - started, proc.returncode))
        return proc


@pytest.fixture(scope="session")
def meltano_project() -> Iterator[MeltanoProject]:
    """A copy of the project with its plugins installed (once per session)."""
    if not MELTANO.exists():
        pytest.skip(f"meltano is not installed in {VENV_BIN} (uv sync --all-groups)")
    # Not under pytest's basetemp: every pytest session on the machine resets that to
    # mode 0700, which would cut off a PostgreSQL server running there as `nobody`
    # (scripts/run's embedded server) from its own files mid-test.
    root = Path(tempfile.mkdtemp(prefix="tap-sequin-meltano-project-"))
    for name in PROJECT_FILES:
        if (REPO / name).exists():
            shutil.copy2(REPO / name, root / name)
    # dbt's own output folders: each project copy builds its own.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "target", "logs", "dbt_packages")
    for name in PROJECT_DIRS:
        if (REPO / name).exists():
            shutil.copytree(REPO / name, root / name, ignore=ignore)
    project = MeltanoProject(root)
    started = time.monotonic()
    proc = project.meltano("install", env=clean_env(), timeout=600)
    project.install_seconds = time.monotonic() - started
    _PROJECTS.append(project)
    assert proc.returncode == 0, f"meltano install failed:\n{proc.stdout}\n{proc.stderr}"
    yield project
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """One throwaway PostgreSQL for the session; each test loads into its own schema."""
    # No skip without the wheel: it is in the locked e2e group for every Python version.
    helper = load_postgres_helper()
    # A server whose TimeZone is not UTC: timestamps must keep their instants anyway.
    with helper.LocalPostgres(server_settings={"timezone": "America/New_York"}) as pg:
        yield pg


@dataclass
class Pipeline:
    """One sandbox + one target schema, and the environment that joins them."""

    project: MeltanoProject
    pg: Any
    sandbox: Any
    token: str
    schema: str = field(default_factory=lambda: f"e2e_{uuid.uuid4().hex[:10]}")
    extra_env: dict[str, str] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return clean_env(
            **{
                "TAP_SEQUIN_API_KEY": self.token,
                "TAP_SEQUIN_BASE_URL": self.sandbox.url,
                "TAP_SEQUIN_MAX_RETRIES": "1",
                **self.pg.target_env(),
                "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": self.schema,
                "MELTANO_RUN_STATE_ID_SUFFIX": self.schema,
                **self.extra_env,
            }
        )

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """``meltano`` with ``command`` (default: the main job) and this pipeline's env."""
        proc = self.project.meltano(*(command or RUN_COMMAND), env=self.env())
        self.logs += [proc.stdout, proc.stderr]
        return proc

    def run_ok(self, *command: str) -> subprocess.CompletedProcess[str]:
        proc = self.run(*command)
        assert proc.returncode == 0, f"meltano run failed:\n{proc.stderr[-6000:]}"
        return proc

    @property
    def analytics(self) -> str:
        """The schema the dbt models are built in (profiles.yml: ``<schema>_analytics``)."""
        return f"{self.schema}_analytics"

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` in a UTC session; the dbt models' schema, then the loaded one, on
        the search path (model names never clash with the loaded tables')."""
        import psycopg

        with psycopg.connect(self.pg.conninfo) as conn:
            conn.execute(f'SET search_path TO "{self.analytics}", "{self.schema}"')
            conn.execute("SET timezone = 'UTC'")
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def make_pipeline(meltano_project: MeltanoProject, postgres: Any) -> Iterator[Any]:
    """Factory: make_pipeline(syncs=20, seed=1) -> Pipeline with a started sandbox.

    Module-scoped so a module-scoped fixture can load once for several tests; every
    pipeline has its own sandbox, token and schema, so tests stay independent.
    """
    from tap_sequin.sandbox import Sandbox

    sandboxes: list[Any] = []

    def make(syncs: int = 20, seed: int = 1) -> Pipeline:
        token = f"e2e-token-{uuid.uuid4().hex}"
        sandbox = Sandbox(syncs=syncs, seed=seed, token=token).start()
        sandboxes.append(sandbox)
        return Pipeline(meltano_project, postgres, sandbox, token)

    yield make
    for sandbox in sandboxes:
        sandbox.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report how long meltano install and runs took, when the e2e tests ran."""
    if not _PROJECTS:
        return
    project = _PROJECTS[0]
    total = sum(seconds for _, seconds, _ in project.runs)
    terminalreporter.write_line(
        f"e2e: meltano install {project.install_seconds:.1f}s; "
        f"{len(project.runs) - 1} meltano runs, {total - project.install_seconds:.1f}s"
    )
