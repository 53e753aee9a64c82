"""`meltano run tap-sequin target-jsonl`: the offline loader from the repo's meltano.yml."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tap_sequin.sandbox import SECRET_MARKER, Sandbox

from .conftest import MeltanoProject, clean_env


@pytest.mark.e2e
def test_meltano_run_into_jsonl_writes_one_line_per_sync(
    meltano_project: MeltanoProject, tmp_path: Any
) -> None:
    token = f"e2e-token-{uuid.uuid4().hex}"
    out = tmp_path / "jsonl"
    out.mkdir()
    with Sandbox(syncs=15, seed=4, token=token) as sandbox:
        env = clean_env(
            TAP_SEQUIN_API_KEY=token,
            TAP_SEQUIN_BASE_URL=sandbox.url,
            TARGET_JSONL_DESTINATION_PATH=str(out),
            MELTANO_RUN_STATE_ID_SUFFIX=uuid.uuid4().hex[:8],
        )
        proc = meltano_project.meltano("run", "tap-sequin", "target-jsonl", env=env)
        expected = sandbox.sync_ids

    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = (out / "syncs.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["id"] for row in rows] == expected
    assert all("health_status" in row for row in rows)
    text = "\n".join(lines) + proc.stdout + proc.stderr
    assert SECRET_MARKER not in text
    assert token not in text
