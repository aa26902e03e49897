"""No import circles in bundle_cli, read from the ast by benchmarks/import_graph.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import import_graph  # noqa: E402

PACKAGE = ROOT / "bundle_cli"
# Packages still joined through function-local imports only (none at import time): archive
# writes what validation checks, and validation reads archive's file selection (what `package`
# would pack). A new pair fails the test.
KNOWN_LOCAL_PAIRS = {frozenset({"archive", "validation"})}


def _graphs() -> dict[str, dict[str, set[str]]]:
    return import_graph.graphs(import_graph.edges(PACKAGE))


@pytest.mark.parametrize(
    "title",
    [
        "package graph, module-level imports",
        "module graph, module-level imports",
        "module graph, all imports",
    ],
)
def test_no_cycle(title: str) -> None:
    assert import_graph.cycles(_graphs()[title]) == []


def test_function_local_imports_join_no_other_packages() -> None:
    graph = _graphs()["package graph, all imports"]
    for component in import_graph.cycles(graph):
        members = set(component)
        pairs = {frozenset({a, b}) for a in members for b in graph.get(a, set()) & members}
        assert pairs <= KNOWN_LOCAL_PAIRS, component


def test_the_cycle_finder_finds_one() -> None:
    assert import_graph.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]
    ]


def test_the_script_runs_on_its_own() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "import_graph.py")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "cycles in the module graph, all imports: 0" in proc.stdout
