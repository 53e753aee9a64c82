"""The README's generated blocks (settings, tables, models) come from their one source."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO


def _locked_sdk() -> str:
    found = re.search(r'name = "singer-sdk"\nversion = "([^"]+)"', (REPO / "uv.lock").read_text())
    assert found, "singer-sdk is not in uv.lock"
    return found.group(1)


@pytest.mark.skipif(
    importlib.metadata.version("singer-sdk") != _locked_sdk(),
    reason="the README's table is generated on the locked singer-sdk (its settings' words differ)",
)
def test_readme_generated_blocks_match_their_sources() -> None:
    # The settings table (--about), the tables and the models (the dbt project's words).
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "update_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_test_the_failure_table_cites_exists() -> None:
    readme = (REPO / "README.md").read_text()
    cited = re.findall(r"`((?:e2e/)?test_\w+\.py)(?:::(test_\w+))?`", readme)
    assert cited
    for path, name in cited:
        source = (REPO / "tests" / path).read_text()
        if name:
            assert f"def {name}(" in source, f"{path}::{name} is cited but does not exist"


def readme_block(marker: str) -> str:
    """The fenced code block between ``<!-- marker:start -->`` and ``<!-- marker:end -->``."""
    readme = (REPO / "README.md").read_text()
    section = readme.split(f"<!-- {marker}:start -->", 1)[1].split(f"<!-- {marker}:end -->")[0]
    return section.split("```", 2)[1].split("\n", 1)[1]


def test_try_it_by_hand_runs_as_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_SEQUIN_")}
    # Twice in the same TMPDIR: a second try must not read the first sandbox's URL.
    for attempt in (1, 2):
        done = subprocess.run(
            ["bash", "-c", readme_block("try-it")],
            cwd=REPO,
            env={**env, "TMPDIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"attempt {attempt}: {done.stdout}{done.stderr}"
        assert done.stdout.splitlines() == ["5", '"health_status":"error"'], attempt
