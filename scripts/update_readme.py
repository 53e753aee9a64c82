"""Regenerate the README's generated blocks from their one source.

    .venv/bin/python scripts/update_readme.py          # rewrite README.md in place
    .venv/bin/python scripts/update_readme.py --check  # exit 1 if README.md is stale

- ``<!-- settings:start -->`` ... ``<!-- settings:end -->``: the settings table of
  ``tap-sequin --about --format=markdown``;
- ``<!-- tables:start -->`` ... ``<!-- tables:end -->``: the tables and their columns, from
  the dbt staging models' YAML and the docs blocks it names (``transform/models/v1``), the
  same words ``dbt docs generate`` shows;
- ``<!-- models:start -->`` ... ``<!-- models:end -->``: the models that answer questions,
  with their descriptions.

A test runs ``--check`` so the README cannot drift from the code or the dbt project.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
V1 = ROOT / "transform" / "models" / "v1"
# The staging model of each loaded table, in the README's order.
STAGED = {
    "syncs": "stg_sequin__syncs",
    "sync_health_history": "stg_sequin__sync_health_history",
    "credentials": "stg_sequin__credentials",
}


def settings_table() -> str:
    """The '## Settings' table of the tap's --about markdown, as printed by the tap."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_sequin", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = about.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| Setting"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return "\n".join(table)


def docs_blocks(path: Path = V1 / "docs.md") -> dict[str, str]:
    """``{name: text}`` of every ``{% docs name %}`` block of a dbt docs file."""
    found = re.findall(r"{% docs (\w+) %}\n(.*?)\n{% enddocs %}", path.read_text(), re.S)
    return {name: text.strip() for name, text in found}


def _described(text: str, docs: dict[str, str]) -> str:
    """A YAML description with its ``{{ doc("name") }}`` references resolved."""
    return re.sub(r"""{{ doc\(["'](\w+)["']\) }}""", lambda m: docs[m.group(1)], text).strip()


def _models(path: Path) -> dict[str, dict[str, object]]:
    return {model["name"]: model for model in yaml.safe_load(path.read_text())["models"]}


def tables_section() -> str:
    """One subsection per loaded table: what it holds, and its staging model's columns."""
    docs = docs_blocks()
    models = _models(V1 / "staging" / "_v1__staging.yml")
    parts = []
    for table, name in STAGED.items():
        model: dict[str, object] = models[name]
        about = _described(str(model["description"]), docs)
        first, _, rest = about.partition(". ")
        parts += [
            f"### `{table}`: {first[0].lower()}{first[1:].rstrip('.')}",
            "",
            rest,
            "",
            f"Columns of the staging model `{name}` (the loaded table has the same names, its "
            "date-times as `timestamp without time zone` in UTC, and target-postgres' `_sdc_*` "
            "columns):",
            "",
            "| column | type | description |",
            "| --- | --- | --- |",
        ]
        columns = model["columns"]
        assert isinstance(columns, list)
        for column in columns:
            text = _described(column["description"], docs).replace("|", "\\|")
            parts.append(f"| `{column['name']}` | `{column['data_type']}` | {text} |")
        parts.append("")
    return "\n".join(parts).rstrip()


def models_section() -> str:
    """The answering models, each with its description."""
    models = _models(V1 / "answers" / "_v1__answers.yml")
    lines = []
    for name, model in sorted(
        models.items(), key=lambda item: item[1]["config"]["meta"]["summary"]
    ):
        text = " ".join(str(model["description"]).split())
        lines.append(f"- **`{name}`**: {text}")
    return "\n".join(lines)


def _replace(readme: str, marker: str, body: str) -> str:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def rendered(readme: str) -> str:
    """``readme`` with every generated block replaced by its current content."""
    readme = _replace(readme, "settings", settings_table())
    readme = _replace(readme, "tables", tables_section())
    return _replace(readme, "models", models_section())


def main() -> int:
    """Rewrite or check README.md."""
    current = README.read_text()
    fresh = rendered(current)
    if "--check" in sys.argv[1:]:
        if fresh != current:
            print("README.md is stale (settings, tables or models): run scripts/update_readme.py")
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
