"""The README's settings table is the tap's own --about output, so it cannot drift."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import REPO


def test_readme_settings_table_matches_about_output() -> None:
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
