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


TOKEN = f"e2e-token-{uuid.uuid4().hex}"


def _run_jsonl(
    meltano_project: MeltanoProject, tmp_path: Any, sandbox: Sandbox, **variables: str
) -> Any:
    out = tmp_path / "jsonl"
    out.mkdir(exist_ok=True)
    env = clean_env(
        TAP_SEQUIN_API_KEY=TOKEN,
        TAP_SEQUIN_BASE_URL=sandbox.url,
        TARGET_JSONL_DESTINATION_PATH=str(out),
        MELTANO_RUN_STATE_ID_SUFFIX=uuid.uuid4().hex[:8],
        **variables,
    )
    return meltano_project.meltano("run", "tap-sequin", "target-jsonl", env=env)


@pytest.mark.e2e
def test_a_misspelt_variable_through_meltano_is_warned(
    meltano_project: MeltanoProject, tmp_path: Any
) -> None:
    # Meltano hands the variable to the tap's process but not into the config it writes.
    with Sandbox(syncs=3, seed=5, token=TOKEN) as sandbox:
        proc = _run_jsonl(meltano_project, tmp_path, sandbox, TAP_SEQUIN_SYNC_ID='["x"]')
    assert proc.returncode == 0, proc.stderr[-4000:]
    warnings = [line for line in proc.stderr.splitlines() if "is not a setting" in line]
    # One line, for the misspelt name only: none for the variables Meltano sets itself.
    assert len(warnings) == 1, warnings
    assert "TAP_SEQUIN_SYNC_ID is set" in warnings[0]
    assert "did you mean TAP_SEQUIN_SYNC_IDS (setting 'sync_ids')" in warnings[0]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("variable", "value", "error"),
    [
        ("TAP_SEQUIN_MAX_RETRIES", "3.0", None),
        ("TAP_SEQUIN_MAX_CONCURRENT_REQUESTS", " 2 ", None),
        ("TAP_SEQUIN_FLATTENING_MAX_DEPTH", "1", None),
        ("TAP_SEQUIN_MAX_RETRIES", "abc", "setting 'max_retries': must be a whole number"),
        (
            "TAP_SEQUIN_MAX_CONCURRENT_REQUESTS",
            "2.5",
            "setting 'max_concurrent_requests': must be a whole number",
        ),
        (
            "TAP_SEQUIN_FLATTENING_MAX_KEY_LENGTH",
            "long",
            "setting 'flattening_max_key_length': must be a whole number",
        ),
    ],
)
def test_whole_numbers_as_text_through_meltano(
    meltano_project: MeltanoProject, tmp_path: Any, variable: str, value: str, error: str | None
) -> None:
    with Sandbox(syncs=2, seed=6, token=TOKEN) as sandbox:
        proc = _run_jsonl(meltano_project, tmp_path, sandbox, **{variable: value})
        requests = list(sandbox.requests)
    # Meltano itself never crashes on the text ("invalid literal for int()").
    assert "invalid literal" not in proc.stderr
    assert "Traceback" not in proc.stderr
    if error is None:
        assert proc.returncode == 0, proc.stderr[-4000:]
        assert len((tmp_path / "jsonl" / "syncs.jsonl").read_text().splitlines()) == 2
    else:
        assert proc.returncode != 0
        assert f"tap-sequin: error: {error}" in proc.stderr
        assert requests == []


@pytest.mark.e2e
@pytest.mark.parametrize("value", ["", "abc", "ids"])
def test_sync_ids_variable_through_meltano(
    meltano_project: MeltanoProject, tmp_path: Any, value: str
) -> None:
    # Meltano parses a `kind: array` variable itself (a traceback for "" and "abc");
    # meltano.yml declares sync_ids `kind: string`, so the tap reads it as the README says.
    with Sandbox(syncs=3, seed=8, token=TOKEN) as sandbox:
        wanted = sandbox.sync_ids[:0:-1]
        text = json.dumps(wanted) if value == "ids" else value
        shown = meltano_project.meltano(
            "config", "print", "tap-sequin", env=clean_env(TAP_SEQUIN_SYNC_IDS=text)
        )
        proc = _run_jsonl(meltano_project, tmp_path, sandbox, TAP_SEQUIN_SYNC_IDS=text)
        expected = wanted if value == "ids" else sandbox.sync_ids
        requests = list(sandbox.requests)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    if value == "abc":
        assert proc.returncode != 0
        errors = [line for line in proc.stderr.splitlines() if "tap-sequin: error:" in line]
        assert len(errors) == 1, errors
        assert "setting 'sync_ids': must be a JSON list of sync ids" in errors[0]
        assert requests == []
    else:
        assert proc.returncode == 0, proc.stderr[-4000:]
        rows = (tmp_path / "jsonl" / "syncs.jsonl").read_text().splitlines()
        assert [json.loads(row)["id"] for row in rows] == expected
