"""scripts/setup.sh keeps a synced .venv, whatever kind of `python` it was given."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, clean_env

pytestmark = pytest.mark.e2e


def test_a_second_setup_keeps_the_venv_when_python_is_a_wrapper(tmp_path: Path) -> None:
    # pyenv's `python3` is a shell script that execs the real interpreter; given that, uv
    # used to delete and rebuild .venv on every run of scripts/run and scripts/test.
    root = tmp_path / "project"
    root.mkdir()
    for name in ("pyproject.toml", "uv.lock", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "tap_sequin", root / "tap_sequin",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (root / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    (root / ".tools").symlink_to(REPO / ".tools")
    wrapper = tmp_path / "bin" / "python3"
    wrapper.parent.mkdir()
    real = getattr(sys, "_base_executable", sys.executable)
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    env = clean_env(PYTHON=str(wrapper))
    env.pop("VIRTUAL_ENV", None)

    def setup() -> None:
        done = subprocess.run(
            ["bash", "scripts/setup.sh"], cwd=root, env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    setup()
    marker = root / ".venv" / "kept"
    marker.touch()
    made = os.stat(root / ".venv" / "pyvenv.cfg").st_ino
    setup()
    assert marker.exists(), ".venv was rebuilt"
    assert os.stat(root / ".venv" / "pyvenv.cfg").st_ino == made
    assert (root / ".venv" / "bin" / "tap-sequin").exists()
