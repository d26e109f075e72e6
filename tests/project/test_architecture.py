"""The layout the README promises: layers that only import downwards, and no import circles."""

import subprocess
import sys

import grimp

from tests.conftest import REPO

APPS = (
    "leaguetable",
    "trusts",
    "metrics",
    "releases",
    "interventions",
    "public",
    "adminkit",
    "outbox",
)


def _import_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module in the project's import graph."""
    graph = grimp.build_graph(*APPS)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_it_has_no_import_cycles_between_modules() -> None:
    assert _import_cycles() == []


def test_it_keeps_the_layer_contract() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert "Contracts: 2 kept, 0 broken." in result.stdout, result.stdout + result.stderr
