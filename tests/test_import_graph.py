"""No import circles in bundle_cli, read from the ast by benchmarks/import_graph.py: none between
modules and none between packages, counting function-local imports too (a circle that only a
deferred import closes is still a circle in the design)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import import_graph  # noqa: E402

PACKAGE = ROOT / "bundle_cli"


def _graphs() -> dict[str, dict[str, set[str]]]:
    return import_graph.graphs(import_graph.edges(PACKAGE))


@pytest.mark.parametrize(
    "title",
    [
        "package graph, module-level imports",
        "package graph, all imports",
        "module graph, module-level imports",
        "module graph, all imports",
    ],
)
def test_no_cycle(title: str) -> None:
    assert import_graph.cycles(_graphs()[title]) == []


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
    assert "cycles in the package graph, all imports: 0" in proc.stdout
