"""The version in one place, the CHANGELOG, and the release checks that stop a bad tag."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECK_DIST = REPO / "scripts" / "check_dist.py"


def package_version() -> str:
    source = (REPO / "tap_sequin" / "__init__.py").read_text()
    (version,) = re.findall(r'^__version__ = "([^"]+)"$', source, re.M)
    return version


def test_about_reports_the_one_version_and_the_changelog_has_its_section() -> None:
    assert 'version = "' not in (REPO / "pyproject.toml").read_text().split("[project.urls]")[0]
    tap = Path(sys.executable).parent / "tap-sequin"
    about = json.loads(
        subprocess.run(
            [str(tap), "--about", "--format=json"],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout
    )  # fmt: skip
    assert about["version"] == package_version()
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(package_version())}\] - ", changelog, re.M)


def check_dist(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/check_dist.py as if in a project at ``root`` (it reads files next to it)."""
    (root / "scripts").mkdir(exist_ok=True)
    script = root / "scripts" / CHECK_DIST.name
    script.write_text(CHECK_DIST.read_text())
    return subprocess.run(
        [sys.executable, str(script), "--dist", str(root / "dist"), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def project(root: Path, version: str, changelog_heading: str) -> Path:
    (root / "tap_sequin").mkdir()
    (root / "tap_sequin" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n{changelog_heading}\n\n- Fixed.\n")
    return root


def test_a_tag_that_does_not_name_the_version_is_refused_before_building(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, "1.2.3", "## [1.2.3] - 2027-01-04")
    done = check_dist(root, "--tag", "v1.2.4")
    assert done.returncode == 1
    assert (
        done.stderr.strip() == "check_dist: error: tag v1.2.4 does not name version 1.2.3 (v1.2.3)"
    )
    assert not (root / "dist").exists()


def test_a_tag_of_a_version_the_changelog_has_not_dated_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, "1.2.3", "## [1.2.3] - unreleased")
    done = check_dist(root, "--tag", "v1.2.3")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "check_dist: error: CHANGELOG.md: the section of 1.2.3 says 'unreleased', "
        "not a release date (YYYY-MM-DD)"
    )
    assert not (root / "dist").exists()


def test_a_version_without_a_changelog_section_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, "1.2.3", "## [1.2.2] - 2027-01-04")
    done = check_dist(root)
    assert done.returncode == 1
    assert "CHANGELOG.md has no '## [1.2.3] - <date>' section" in done.stderr
