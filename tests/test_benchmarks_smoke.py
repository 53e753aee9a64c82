"""The benchmark scripts run end to end on tiny sizes, so they cannot rot unnoticed.

No timing is asserted (figures at these sizes mean nothing); what is checked is that
each script measures what it says: every program ran, every sync arrived, every
target was computed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
needs_dlt = pytest.mark.skipif(
    importlib.util.find_spec("dlt") is None,
    reason="dlt not installed (the bench group: .tools/bin/uv sync --frozen --all-groups)",
)


def run_benchmarks(suites: str, tmp_path: Path) -> list[dict[str, Any]]:
    """benchmarks/run.py --size smoke on `suites`; its JSON report's sections."""
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "benchmarks/run.py", "--size", "smoke", "--only", suites]
    proc = subprocess.run(
        [*cmd, "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Exit 1 says a target was missed, which tiny sizes may do; a crash leaves no JSON.
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert out.exists(), proc.stderr[-3000:]
    sections: list[dict[str, Any]] = json.loads(out.read_text())["sections"]
    return sections


def syncs_of(row: dict[str, Any]) -> int:
    """How many syncs a row's program was given ("8 ids", "list of 20")."""
    return int(row["what"].split()[-1 if row["what"].startswith("list") else 0].replace(",", ""))


def test_extraction_benchmark_runs_every_scenario(tmp_path: Path) -> None:
    (section,) = run_benchmarks("extraction", tmp_path)
    assert {(r["scenario"], r["program"]) for r in section["rows"]} == {
        ("A", "stock"),
        ("A", "tap-sequin"),
        ("D", "tap-sequin"),
        ("E", "tap-sequin"),
    }
    for row in section["rows"]:
        assert row["run"]["records"] == syncs_of(row), row
        assert row["run"]["requests"] == syncs_of(row), row  # one GET per id, none retried
    assert len(section["targets"]) == 5


def test_self_hosted_benchmark_lists_the_sinks_then_asks_each_for_its_backfills(
    tmp_path: Path,
) -> None:
    (section,) = run_benchmarks("self-hosted", tmp_path)
    row, control = section["rows"]
    assert (row["scenario"], row["program"], row["what"]) == ("S", "tap-sequin", "16 sinks")
    # One listing, then one backfills request per sink, none retried.
    assert row["run"]["requests"] == 1 + 16, row
    # A sink row and a health row per sink, and at least the seeded sinks' backfills.
    assert row["run"]["records"] > 2 * 16, row
    assert row["floor_s"] > 0.02 + 16 * 0.02 / 8
    # The v1 control: the same number of requests, one sync each.
    assert control["program"] == "tap-sequin v1 (control)"
    assert control["run"]["requests"] == control["run"]["records"] == 16, control
    (target,) = section["targets"]
    assert target["limit"] == 1.2


@needs_dlt
def test_peer_benchmark_runs_tap_sequin_and_dlt(tmp_path: Path) -> None:
    (section,) = run_benchmarks("peer", tmp_path)
    programs = {(r["scenario"], r["program"]) for r in section["rows"]}
    assert programs == {(s, p) for s in ("PL", "PI") for p in ("tap-sequin", "dlt rest_api")}
    for row in section["rows"]:
        assert row["run"]["records"] == syncs_of(row), row
    assert len(section["targets"]) == 2


@needs_dlt
@pytest.mark.e2e
def test_pipeline_benchmark_loads_postgres_every_way(tmp_path: Path) -> None:
    (section,) = run_benchmarks("pipeline", tmp_path)
    programs = [r["program"] for r in section["rows"]]
    assert any(p.startswith("meltano run") for p in programs)
    assert any(p.startswith("dlt") for p in programs)
    for row in section["rows"]:
        assert row["run"]["records"] == syncs_of(row), row  # rows in PostgreSQL after it
    assert len(section["targets"]) == 1
