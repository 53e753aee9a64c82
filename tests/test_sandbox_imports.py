"""The sandbox's modules import one another without a circle, `TYPE_CHECKING` imports and
imports inside functions included: each can be read, tested and changed on its own."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import REPO

PACKAGE = "tap_sequin.sandbox"
ROOT = REPO / "tap_sequin" / "sandbox"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The sandbox modules `path` imports: `from package import submodule` names the
    submodule; any other name imported from a package names the package itself."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules and name != module_name(path)}


def graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules on it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_sandbox_has_no_import_circle() -> None:
    edges = graph()
    assert f"{PACKAGE}.self_hosted.api" in edges
    assert f"{PACKAGE}.admin" in edges[f"{PACKAGE}.server"]
    assert cycle(edges) is None, " -> ".join(cycle(edges) or [])


def test_the_circle_finder_finds_a_circle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
