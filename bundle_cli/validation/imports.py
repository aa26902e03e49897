"""Every module the bundle's code imports, resolved without importing it: in the bundle, in the
standard library, or installed here. One that resolves nowhere is a warning naming the module and
whether config.yaml's requirements list it.

Only top-level names are looked up (`importlib.util.find_spec("torch")` runs no code of torch's);
imports inside `try: ... except ImportError` (optional ones) and under `if TYPE_CHECKING:` are
left out, as are relative imports (they stay inside the bundle's own packages).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.sources import Source

UNRESOLVED = "module-unresolved"
# Distributions whose import name differs from their own name and that ML bundles often use.
_DISTRIBUTION_OF = {
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "google": "protobuf",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "attr": "attrs",
}
_OPTIONAL = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def check_imports(
    sources: list[Source], roots: list[Path], own: set[str], requirement_names: set[str]
) -> list[Diagnostic]:
    """A warning per import (first place in each file) of a module found nowhere; `own` are
    module names the runtime itself makes importable (the model package)."""
    found = []
    cache: dict[str, bool] = dict.fromkeys(own, True)
    declared = {_normal(n): n for n in requirement_names}
    for source in sources:
        reported: set[str] = set()
        for name, node in _imports(source.tree):
            if name in reported:
                continue
            if name not in cache:
                cache[name] = _resolves(name, roots)
            if cache[name]:
                continue
            reported.add(name)
            found.append(_warning(name, node, source.path, declared))
    return found


def _imports(tree: ast.Module) -> list[tuple[str, ast.stmt]]:
    """(top-level module, statement) of each absolute import that is not optional."""
    found: list[tuple[str, ast.stmt]] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Try | ast.TryStar) and _catches_import_errors(node):
            stack += [*node.orelse, *node.finalbody, *node.handlers]
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack += node.orelse
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node))
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda item: (item[1].lineno, item[1].col_offset))


def _catches_import_errors(node: ast.Try | ast.TryStar) -> bool:
    for handler in node.handlers:
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if handler.type is None or any(getattr(n, "id", None) in _OPTIONAL for n in names):
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolves(name: str, roots: list[Path]) -> bool:
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return True
    if name == "__future__" or _in_folder(name, roots):
        return True
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _in_folder(name: str, folders: list[Path]) -> bool:
    return any((f / name).is_dir() or (f / f"{name}.py").is_file() for f in folders)


def _warning(name: str, node: ast.stmt, path: Path, declared: dict[str, str]) -> Diagnostic:
    distribution = _DISTRIBUTION_OF.get(name, name)
    listed = declared.get(_normal(distribution)) or declared.get(_normal(name))
    if listed:
        why = f"config.yaml's requirements list {listed}, but it is not installed here"
    else:
        why = f"config.yaml's requirements do not list it: add {distribution} (its distribution name may differ)"
    message = f"{name} is imported but found neither in the bundle, the standard library nor this environment; {why}"
    return Diagnostic(UNRESOLVED, "warning", message, str(path), node.lineno, node.col_offset + 1)


def _normal(name: Any) -> str:
    return str(name).lower().replace("-", "_").replace(".", "_")
