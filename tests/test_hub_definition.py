"""hub/tap-sequin.yml is what scripts/hub_definition.py makes of `tap-sequin --about`."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .conftest import generated_on_locked_sdk

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "hub_definition.py"
COMMITTED = REPO / "hub" / "tap-sequin.yml"


def generate() -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--stdout"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def about() -> dict[str, Any]:
    tap = Path(sys.executable).parent / "tap-sequin"
    done = subprocess.run(
        [str(tap), "--about", "--format=json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@generated_on_locked_sdk
def test_committed_definition_is_the_generated_one() -> None:
    assert COMMITTED.read_text() == generate(), (
        "hub/tap-sequin.yml is stale: run .venv/bin/python scripts/hub_definition.py"
    )


@generated_on_locked_sdk
def test_check_mode_fails_on_a_stale_file_and_names_the_command(tmp_path: Path) -> None:
    # The script writes next to itself; run a copy of it against a stale copy of the file.
    (tmp_path / "scripts").mkdir()
    (tmp_path / "hub").mkdir()
    (tmp_path / "scripts" / SCRIPT.name).write_text(SCRIPT.read_text())
    (tmp_path / "hub" / COMMITTED.name).write_text(COMMITTED.read_text().replace("api_key", "key"))
    script = tmp_path / "scripts" / SCRIPT.name
    stale = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert stale.returncode == 1
    assert "hub/tap-sequin.yml is stale: run .venv/bin/python scripts/hub_definition.py" in (
        stale.stderr
    )
    subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120, check=True)
    assert (tmp_path / "hub" / COMMITTED.name).read_text() == COMMITTED.read_text()


def test_every_setting_of_the_tap_is_declared_with_its_secret_marked() -> None:
    # Meltano passes a plugin only the settings its definition declares.
    definition = yaml.safe_load(COMMITTED.read_text())
    properties = about()["settings"]["properties"]
    declared = {s["name"]: s for s in definition["settings"]}
    assert set(declared) == set(properties)
    for name, schema in properties.items():
        assert declared[name].get("sensitive", False) is bool(schema.get("secret")), name
        types = set(schema["type"]) if isinstance(schema["type"], list) else {schema["type"]}
        if types & {"integer", "number"}:
            assert declared[name]["kind"] == "string", name


def test_definition_agrees_with_the_projects_meltano_yml() -> None:
    # The project's own meltano.yml is what the e2e tests run; the Hub entry must not
    # declare a setting differently.
    meltano_yml = yaml.safe_load((REPO / "meltano.yml").read_text())
    (project,) = [p for p in meltano_yml["plugins"]["extractors"] if p["name"] == "tap-sequin"]
    hub = yaml.safe_load(COMMITTED.read_text())
    for key in ("namespace", "executable", "settings_group_validation"):
        assert hub[key] == project[key], key
    assert sorted(hub["capabilities"]) == sorted(project["capabilities"])

    def kinds(settings: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
        # `kind: password` (the Hub's spelling) is a sensitive string.
        return {
            s["name"]: (
                "string" if s["kind"] == "password" else s["kind"],
                bool(s.get("sensitive")),
            )
            for s in settings
        }

    assert kinds(hub["settings"]) == kinds(project["settings"])


def test_kinds_meltano_reads_safely_from_each_schema_shape() -> None:
    spec = importlib.util.spec_from_file_location("hub_definition", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    hub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hub)
    secret = {"type": ["string"], "title": "API token", "secret": True, "description": "A b."}
    assert hub.setting("api_key", secret) == {
        "name": "api_key", "kind": "password", "label": "API token", "description": "A b.",
        "sensitive": True,
    }  # fmt: skip
    assert hub.setting_kind({"type": ["number", "null"]}) == "string"
    assert hub.setting_kind({"type": "integer"}) == "string"
    # Meltano parses an array setting itself (a traceback on "" or "abc"): text instead.
    assert hub.setting_kind({"type": ["array", "null"], "items": {"type": "string"}}) == "string"
    assert hub.setting_kind({"type": ["boolean", "null"]}) == "boolean"
    assert hub.setting_kind({"type": ["string"], "format": "date-time"}) == "date_iso8601"
    choice = hub.setting("api", {"type": ["string", "null"], "enum": ["v1", "v2", None]})
    assert choice["kind"] == "options"
    assert choice["options"] == [{"label": "v1", "value": "v1"}, {"label": "v2", "value": "v2"}]
