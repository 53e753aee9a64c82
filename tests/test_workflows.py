"""The GitHub workflows: audited by zizmor, actions pinned, publishing only on a tag."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_zizmor_finds_nothing_even_pedantic() -> None:
    zizmor = Path(sys.executable).parent / "zizmor"
    if not zizmor.exists():
        if sys.version_info < (3, 11):
            pytest.skip("zizmor needs Python 3.11+ (the dev group installs it there)")
        zizmor = Path(shutil.which("zizmor") or zizmor)
    done = subprocess.run(
        [str(zizmor), "--offline", "--persona=pedantic", "--no-progress", str(WORKFLOWS)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_actions_are_pinned_to_a_commit_with_the_tag_named(name: str) -> None:
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$", line), line


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_read_only_token_and_no_persisted_credentials(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    for step in steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_release_checks_on_every_push_and_publishes_only_from_a_version_tag() -> None:
    workflow = load("release.yml")
    assert workflow["on"]["push"] == {"branches": ["**"], "tags": ["v*"]}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert "permissions" not in build
    assert any("scripts/check_dist.py --tag" in step.get("run", "") for step in build["steps"])
    assert publish["needs"] == "build"
    assert publish["if"] == "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
    # Trusted publishing: the OIDC token in this job only, and no password or token.
    assert publish["permissions"] == {"id-token": "write"}
    (upload,) = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert "with" not in upload
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()
    assert all("run" not in step for step in publish["steps"])


def test_ci_runs_every_test_on_every_supported_python_without_deselecting_e2e() -> None:
    workflow = load("ci.yml")
    (job,) = workflow["jobs"].values()
    assert "3.14" in job["strategy"]["matrix"]["python-version"]
    assert [step.get("run") for step in job["steps"] if "run" in step] == ["bash .ci/run"]
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "exec bash scripts/test\n" in ci_run
    assert "-m" not in ci_run.split("exec bash scripts/test", 1)[1]
