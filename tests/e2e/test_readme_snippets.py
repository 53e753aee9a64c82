"""The README's Meltano block, pasted into a new Meltano project, works as it says."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_sequin.sandbox import Sandbox

from ..test_readme import readme_block
from .conftest import REPO, MeltanoProject, clean_env

pytestmark = pytest.mark.e2e


def test_readme_meltano_snippet_declares_every_tap_setting() -> None:
    snippet = yaml.safe_load(readme_block("meltano-snippet"))
    ours = yaml.safe_load((REPO / "meltano.yml").read_text())
    (tap,) = snippet["plugins"]["extractors"]
    (full,) = [p for p in ours["plugins"]["extractors"] if p["name"] == "tap-sequin"]
    kinds = {s["name"]: s.get("kind") for s in tap["settings"]}
    assert kinds == {s["name"]: s.get("kind") for s in full["settings"]}
    (postgres,) = [p for p in snippet["plugins"]["loaders"] if p["name"] == "target-postgres"]
    assert postgres["env"] == {"PGTZ": "UTC"}


def test_readme_meltano_snippet_works_in_a_new_project(tmp_path: Path) -> None:
    snippet = yaml.safe_load(readme_block("meltano-snippet"))
    (tap,) = snippet["plugins"]["extractors"]
    tap["pip_url"] = f"-e {REPO}"  # the snippet's "or -e /path/to/a/checkout"
    # Only what this test runs: target-postgres is installed by the main e2e project.
    snippet["plugins"]["loaders"] = [
        p for p in snippet["plugins"]["loaders"] if p["name"] == "target-jsonl"
    ]
    env = clean_env()
    initialised = MeltanoProject(tmp_path).meltano(
        "init", "fresh", "--no-usage-stats", env=env, timeout=120
    )
    assert initialised.returncode == 0, initialised.stderr[-3000:]
    root = tmp_path / "fresh"
    config = yaml.safe_load((root / "meltano.yml").read_text())
    (root / "meltano.yml").write_text(yaml.safe_dump({**config, **snippet}, sort_keys=False))
    project = MeltanoProject(root)
    installed = project.meltano("install", env=env, timeout=600)
    assert installed.returncode == 0, installed.stderr[-4000:]
    # The README's example: an object setting set through `meltano config set`
    # ("__NULL__": Meltano drops null values inside objects it reads from meltano.yml).
    maps = '{"syncs": {"metadata": "__NULL__", "name_upper": "name.upper()"}}'
    done = project.meltano("config", "set", "tap-sequin", "stream_maps", maps, env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    token = f"e2e-{uuid.uuid4().hex}"
    with Sandbox(syncs=4, seed=9, token=token) as sandbox:
        run_env = clean_env(
            TAP_SEQUIN_API_KEY=token,
            TAP_SEQUIN_BASE_URL=sandbox.url,
            TAP_SEQUIN_RETRY_BACKOFF_SECONDS="0.5",
        )
        proc = project.meltano("run", "tap-sequin", "target-jsonl", env=run_env)
        expected = sandbox.sync_ids
        names = [sandbox.sync(i)["name"] for i in expected]
    assert proc.returncode == 0, proc.stderr[-4000:]
    # The three streams, as the README's analyst queries need them.
    written = sorted(path.name for path in (root / "output").glob("*.jsonl"))
    assert written == ["credentials.jsonl", "sync_health_history.jsonl", "syncs.jsonl"]
    lines = (root / "output" / "syncs.jsonl").read_text().splitlines()
    rows: list[dict[str, Any]] = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == expected
    history = (root / "output" / "sync_health_history.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["sync_id"] for line in history) == sorted(expected)
    assert (root / "output" / "credentials.jsonl").read_text().strip()
    assert all("metadata" not in r for r in rows)
    assert [r["name_upper"] for r in rows] == [n.upper() for n in names]
