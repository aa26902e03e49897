"""The import graph of `bundle_cli`, read from the ast (nothing is imported), and its cycles.

    python benchmarks/import_graph.py [PACKAGE_DIR]

Every `import bundle_cli...` / `from bundle_cli... import ...` (relative ones resolved) is an edge
from the importing module to the imported one; `from bundle_cli.x import y` points at `x.y` when
that is a module, else at `x`. An import is "module-level" when it runs at import time (not inside
a function; `if`/`try` at the top count), "local" when it sits inside a function, and is left out
when it sits under `if TYPE_CHECKING:` (it never runs). A package is a folder directly under
`bundle_cli/` (`cli`, `runtime`, ...) or a top-level module (`errors`, `contract`, ...). Importing
`bundle_cli.x.y` also runs `bundle_cli/x/__init__.py`; that implied edge is not drawn.

Prints the package edges with their counts, then the cycles (strongly connected components of
more than one node) of four graphs: packages and modules, over module-level imports only and over
all imports. The test suite (tests/test_import_graph.py) fails on any of them.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = "bundle_cli"


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module names without the leading "bundle_cli."
    target: str
    local: bool  # inside a function: runs only when called


def modules(package: Path) -> dict[str, Path]:
    """Dotted name (relative to bundle_cli, "" for its __init__) -> file."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def edges(package: Path) -> list[Edge]:
    """Every import of a bundle_cli module by a bundle_cli module."""
    known = modules(package)
    found = []
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, local in _imports(tree.body, local=False):
            for target in _targets(node, name, is_package, known):
                if target != name:
                    found.append(Edge(name, target, local))
    return found


def _imports(
    body: list[ast.stmt], local: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, local
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, local)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(node.body, True)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(node, field, None) or []:
                    inner = (
                        child.body
                        if isinstance(child, ast.excepthandler | ast.match_case)
                        else [child]
                    )
                    yield from _imports(inner, local)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, name: str, is_package: bool, known: dict[str, Path]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == ROOT or alias.name.startswith(ROOT + "."):
                yield _strip(alias.name)
        return
    if node.level:
        base = name.split(".") if name else []
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        module = ".".join([*base, *(node.module.split(".") if node.module else [])])
    elif node.module and (node.module == ROOT or node.module.startswith(ROOT + ".")):
        module = _strip(node.module)
    else:
        return
    for alias in node.names:
        sub = f"{module}.{alias.name}" if module else alias.name
        yield sub if sub in known else module


def _strip(dotted: str) -> str:
    return dotted[len(ROOT) + 1 :] if dotted != ROOT else ""


def package_of(module: str) -> str:
    return module.split(".")[0] or "__init__"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def graphs(all_edges: list[Edge]) -> dict[str, dict[str, set[str]]]:
    """The four graphs whose cycles are reported, by title."""
    result: dict[str, dict[str, set[str]]] = {}
    for level in ("package", "module"):
        for scope in ("module-level", "all"):
            graph: dict[str, set[str]] = {}
            for e in all_edges:
                if scope == "module-level" and e.local:
                    continue
                a, b = (
                    (package_of(e.source), package_of(e.target))
                    if level == "package"
                    else (
                        e.source or "__init__",
                        e.target or "__init__",
                    )
                )
                if a != b:
                    graph.setdefault(a, set()).add(b)
            result[f"{level} graph, {scope} imports"] = graph
    return result


def report(package: Path) -> tuple[str, int]:
    """The printed report and the number of cycles in it."""
    all_edges = edges(package)
    counts = Counter(
        (package_of(e.source), package_of(e.target), e.local)
        for e in all_edges
        if package_of(e.source) != package_of(e.target)
    )
    lines = ["package edges (module-level + function-local imports):"]
    for a, b in sorted({(a, b) for a, b, _ in counts}):
        top, local = counts[(a, b, False)], counts[(a, b, True)]
        lines.append(f"  {a} -> {b}: {top} + {local}")
    total = 0
    for title, graph in graphs(all_edges).items():
        found = cycles(graph)
        total += len(found)
        lines.append(f"cycles in the {title}: {len(found)}")
        for component in found:
            lines.append(f"  {' <-> '.join(component)}")
            lines += [f"    {e}" for e in _edges_within(component, all_edges, title)]
    return "\n".join(lines), total


def _edges_within(component: list[str], all_edges: list[Edge], title: str) -> list[str]:
    """The imports that make a cycle: `module -> module` lines, marked (local) when in a function."""
    members = set(component)
    by_package = title.startswith("package")
    found = set()
    for e in all_edges:
        if "module-level" in title and e.local:
            continue
        a, b = (package_of(e.source), package_of(e.target)) if by_package else (e.source, e.target)
        if a in members and b in members and a != b:
            found.add(f"{e.source} -> {e.target}{' (local)' if e.local else ''}")
    return sorted(found)


def main(argv: list[str]) -> int:
    package = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / ROOT
    text, _ = report(package)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
