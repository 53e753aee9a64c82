"""Regenerate the README's settings table from ``tap-sequin --about --format=markdown``.

    .venv/bin/python scripts/update_readme.py          # rewrite README.md in place
    .venv/bin/python scripts/update_readme.py --check  # exit 1 if README.md is stale

The table lives between the ``<!-- settings:start -->`` and ``<!-- settings:end -->``
markers; a test runs ``--check`` so the README cannot drift from the code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


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


def rendered(readme: str) -> str:
    """``readme`` with its settings block replaced by the current table."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"


def main() -> int:
    """Rewrite or check README.md."""
    current = README.read_text()
    fresh = rendered(current)
    if "--check" in sys.argv[1:]:
        if fresh != current:
            print("README.md settings table is stale: run scripts/update_readme.py")
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
