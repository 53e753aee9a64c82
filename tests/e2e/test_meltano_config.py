"""meltano.yml and .secrets.example stay in step with the tap's own settings.

Fast (no meltano run, no database): not marked e2e, so it runs with the unit tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import manual

REPO = Path(__file__).resolve().parents[2]
TAP = Path(sys.executable).parent / "tap-sequin"


@pytest.fixture(scope="module")
def meltano_yml() -> dict[str, Any]:
    return yaml.safe_load((REPO / "meltano.yml").read_text())


@pytest.fixture(scope="module")
def about() -> dict[str, Any]:
    if not TAP.exists():
        pytest.skip("tap-sequin is not installed in this venv")
    proc = subprocess.run(
        [str(TAP), "--about", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)


def plugin(meltano_yml: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for entry in meltano_yml["plugins"][kind]:
        if entry["name"] == name:
            return entry
    raise AssertionError(f"{name} is not declared in meltano.yml")


def secrets_example_vars() -> set[str]:
    text = (REPO / ".secrets.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


JSON_TO_MELTANO_KIND = {
    "string": {"string", "password", "options"},
    # string, not decimal or integer: Meltano 4.4.1 crashes on env values of decimal
    # settings, and with a traceback on "abc" or "3.0" for integer ones; the tap parses
    # numeric text and refuses anything else in one line.
    "integer": {"string"},
    "number": {"string"},
    "boolean": {"boolean"},
    # sync_ids is `kind: string`: Meltano's own array parsing crashes on "" and "abc";
    # the tap reads JSON text itself.
    "array": {"array", "string"},
    "object": {"object"},
}


def json_type(schema: dict[str, Any]) -> str:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    (kind,) = [t for t in types if t != "null"]
    return kind


def test_every_tap_setting_is_declared(about: dict[str, Any], meltano_yml: dict[str, Any]) -> None:
    tap = plugin(meltano_yml, "extractors", "tap-sequin")
    declared = {s["name"]: s for s in tap["settings"]}
    properties = about["settings"]["properties"]
    missing = sorted(set(properties) - set(declared))
    assert not missing, f"meltano.yml lacks tap settings: {missing}"
    extra = sorted(set(declared) - set(properties))
    assert not extra, f"meltano.yml declares settings the tap does not have: {extra}"
    for name, schema in properties.items():
        kind = declared[name].get("kind", "string")
        assert kind in JSON_TO_MELTANO_KIND[json_type(schema)], (name, kind)
        secret = bool(schema.get("secret") or schema.get("writeOnly"))
        assert bool(declared[name].get("sensitive")) == secret, name
        assert declared[name].get("description"), f"{name} has no description"
    assert declared["api_key"]["sensitive"] is True


def test_capabilities_match(about: dict[str, Any], meltano_yml: dict[str, Any]) -> None:
    tap = plugin(meltano_yml, "extractors", "tap-sequin")
    assert set(tap["capabilities"]) == set(about["capabilities"])


def test_secrets_example_lists_every_env_var(meltano_yml: dict[str, Any]) -> None:
    listed = secrets_example_vars()
    for kind, name in (
        ("extractors", "tap-sequin"),
        ("loaders", "target-postgres"),
        ("loaders", "target-jsonl"),
    ):
        prefix = name.upper().replace("-", "_")
        for setting in plugin(meltano_yml, kind, name)["settings"]:
            env = setting.get("env") or f"{prefix}_{setting['name'].upper()}"
            assert env in listed, f".secrets.example lacks {env}"


def test_target_postgres_soft_delete_config(meltano_yml: dict[str, Any]) -> None:
    target = plugin(meltano_yml, "loaders", "target-postgres")
    assert re.fullmatch(r"meltanolabs-target-postgres==[0-9.]+", target["pip_url"])
    config = target["config"]
    assert config["add_record_metadata"] is True
    assert config["activate_version"] is True
    assert config["hard_delete"] is False
    names = {s["name"] for s in target["settings"]}
    assert {"host", "port", "user", "password", "database", "sqlalchemy_url"} <= names
    sensitive = {s["name"] for s in target["settings"] if s.get("sensitive")}
    assert {"password", "sqlalchemy_url"} <= sensitive


def test_ci_runs_the_readme_test_command_on_every_supported_python() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    versions = job["strategy"]["matrix"]["python-version"]
    pyproject = (REPO / "pyproject.toml").read_text()  # no tomllib on Python 3.10
    declared = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    assert versions == declared
    assert any(step.get("run") == "bash .ci/run" for step in job["steps"])
    assert "exec bash scripts/test" in (REPO / ".ci" / "run").read_text()
    assert "bash scripts/test" in (REPO / "README.md").read_text()


def test_readme_scheduling_block_is_meltano_yml_own(meltano_yml: dict[str, Any]) -> None:
    readme = manual()
    section = readme.split("## Scheduling", 1)[1].split("\n## ", 1)[0]
    block = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    assert block == {"jobs": meltano_yml["jobs"], "schedules": meltano_yml["schedules"]}


def _words(text: str) -> str:
    return " ".join(text.split())


def test_meltano_yml_and_secrets_example_describe_settings_as_the_tap_does(
    about: dict[str, Any], meltano_yml: dict[str, Any]
) -> None:
    import dataclasses

    from tap_sequin.settings.parsing import Settings

    # The tap's own settings (the SDK's built-in ones carry the SDK's words).
    own = [f.name for f in dataclasses.fields(Settings) if f.name != "corrections"]
    declared = {s["name"]: s for s in plugin(meltano_yml, "extractors", "tap-sequin")["settings"]}
    secrets = (REPO / ".secrets.example").read_text().splitlines()
    for name in own:
        said = about["settings"]["properties"][name]["description"]
        assert _words(declared[name]["description"]) == said, name
        # The comment lines right above the variable's line in .secrets.example.
        variable = f"TAP_SEQUIN_{name.upper()}="
        (at,) = [i for i, line in enumerate(secrets) if line.lstrip("# ").startswith(variable)]
        comment: list[str] = []
        while re.match(r"# (?![A-Z][A-Z0-9_]*=|---)", secrets[at - 1 - len(comment)]):
            comment.insert(0, secrets[at - 1 - len(comment)][2:])
        assert _words(" ".join(comment)) == said, name


def test_the_package_description_names_every_stream() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    (description,) = re.findall(r'^description = "(.*)"$', pyproject, re.M)
    for words in ("syncs", "health history", "credentials"):
        assert words in description
