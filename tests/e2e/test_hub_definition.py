"""A new Meltano project adds tap-sequin from the Hub definition and runs it.

As a user would without this repository's meltano.yml: `meltano init`, then `meltano add
extractor tap-sequin --from-ref hub/tap-sequin.yml` (its pip_url pointed at this checkout
instead of PyPI), target-jsonl declared inline the same way (Meltano Hub is not reached),
and `meltano run tap-sequin target-jsonl` against the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from importlib.metadata import metadata
from pathlib import Path

import pytest
import yaml

from .conftest import MELTANO, REPO, clean_env

pytestmark = pytest.mark.e2e


def meltano(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(MELTANO), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"meltano {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def test_new_project_adds_the_tap_from_the_hub_definition_and_loads_the_sandbox(
    tmp_path: Path,
) -> None:
    from tap_sequin.sandbox import Sandbox

    if not MELTANO.exists():
        pytest.skip(f"meltano is not installed ({MELTANO})")
    hub = yaml.safe_load((REPO / "hub" / "tap-sequin.yml").read_text())
    hub["pip_url"] = str(REPO)  # this checkout, not the release on PyPI
    tap_ref = tmp_path / "tap-sequin.yml"
    tap_ref.write_text(yaml.safe_dump(hub))
    ours = yaml.safe_load((REPO / "meltano.yml").read_text())
    (jsonl,) = [p for p in ours["plugins"]["loaders"] if p["name"] == "target-jsonl"]
    target_ref = tmp_path / "target-jsonl.yml"
    target_ref.write_text(yaml.safe_dump(jsonl))

    # docs/install.md's command, with this checkout's file for the published one.
    docs = (REPO / "docs" / "install.md").read_text()
    block = docs.split("<!-- meltano-add:start -->", 1)[1].split("<!-- meltano-add:end -->")[0]
    (command,) = [line for line in block.splitlines() if line.startswith("meltano ")]
    assert command in (REPO / "README.md").read_text(), "the README gives the same command"
    *args, ref = command.split()
    assert args == ["meltano", "add", "--plugin-type", "extractor", "tap-sequin", "--from-ref"]
    urls = dict(url.split(", ", 1) for url in metadata("tap-sequin").get_all("Project-URL"))
    repository = urls["Repository"]
    assert ref == repository.replace("github.com", "raw.githubusercontent.com") + (
        "/main/hub/tap-sequin.yml"
    )

    env = clean_env()
    meltano("init", "demo", "--no-usage-stats", cwd=tmp_path, env=env)
    project = tmp_path / "demo"
    meltano(*args[1:], str(tap_ref), cwd=project, env=env)
    meltano(
        "add", "--plugin-type", "loader", "target-jsonl", "--from-ref", str(target_ref),
        cwd=project, env=env,
    )  # fmt: skip

    added = yaml.safe_load((project / "meltano.yml").read_text())
    (tap,) = added["plugins"]["extractors"]
    assert "utilities" not in added["plugins"], "added as one extractor, nothing else"
    assert tap["variant"] == hub["variant"]
    assert tap["pip_url"] == str(REPO)

    out = tmp_path / "out"
    token = f"hub-e2e-{uuid.uuid4().hex}"
    with Sandbox(syncs=7, seed=3, token=token) as sandbox:
        run_env = clean_env(
            TAP_SEQUIN_API_KEY=token,
            TAP_SEQUIN_BASE_URL=sandbox.url,
            # Numeric text through Meltano: `kind: string` in the definition.
            TAP_SEQUIN_REQUEST_TIMEOUT="12.5",
            TAP_SEQUIN_MAX_RETRIES="1",
            TARGET_JSONL_DESTINATION_PATH=str(out),
            TARGET_JSONL_DO_TIMESTAMP_FILE="false",
        )
        config = json.loads(
            meltano("invoke", "--dump=config", "tap-sequin", cwd=project, env=run_env).stdout
        )
        assert config["request_timeout"] == "12.5"
        assert config["max_retries"] == "1"
        run = meltano("run", "tap-sequin", "target-jsonl", cwd=project, env=run_env)
        expected_ids = sorted(sandbox.sync_ids)

    assert token not in run.stdout + run.stderr
    syncs = [json.loads(line) for line in (out / "syncs.jsonl").read_text().splitlines()]
    assert sorted(row["id"] for row in syncs) == expected_ids
    history = (out / "sync_health_history.jsonl").read_text().splitlines()
    assert len(history) == len(expected_ids)
    assert (out / "credentials.jsonl").read_text().strip()
