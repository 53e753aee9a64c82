"""The built wheel, installed into a clean virtualenv, gives working commands.

Offline: the locked dependencies come from uv's cache (filled by scripts/setup.sh), the
wheel is built from this checkout, and the commands run outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.e2e


def uv() -> str:
    found = REPO / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.skip("uv is not installed (scripts/setup.sh bootstraps it into .tools/)")
    return on_path


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_installs_working_commands_in_a_clean_virtualenv(tmp_path: Path) -> None:
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    run(uv(), "build", "--wheel", "--offline", "--out-dir", str(dist), str(REPO), cwd=REPO)
    (wheel,) = dist.glob("tap_sequin-*.whl")
    # The locked runtime dependencies only (no dev or e2e group), then the wheel itself.
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    run(
        uv(), "sync", "--frozen", "--offline", "--no-default-groups", "--no-install-project",
        "--python", sys.executable, "-q", cwd=REPO, env=env,
    )  # fmt: skip
    python = venv / "bin" / "python"
    run(
        uv(),
        "pip",
        "install",
        "--offline",
        "--no-deps",
        "--python",
        str(python),
        str(wheel),
        cwd=tmp_path,
    )

    clean = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    about = json.loads(
        run(str(venv / "bin" / "tap-sequin"), "--about", "--format=json", cwd=tmp_path, env=clean)
    )
    assert about["name"] == "tap-sequin"
    assert "api_key" in about["settings"]["properties"]
    sandbox_help = run(str(venv / "bin" / "tap-sequin-sandbox"), "--help", cwd=tmp_path, env=clean)
    assert "The first line on stdout is the base URL" in sandbox_help
    where = run(
        str(python),
        "-c",
        "import tap_sequin, faker; print(tap_sequin.__file__)",
        cwd=tmp_path,
        env=clean,
    )
    assert where.strip().startswith(str(venv)), "the wheel, not the checkout, was imported"
