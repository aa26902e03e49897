"""The Python files of a bundle's own code, for the checks that read every one of them.

Model code (model_module_dir), bundled packages, external package folders inside the bundle, and a
flow's `module:function` modules and build_flow sources (functions/*.py). Files are parsed once;
a file that does not parse is left to the check that owns it (model_code reports the model file).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bundle_cli.validation.paths import escapes

# A vendored library can hold thousands of files; past this many the import checks stop reading.
MAX_FILES = 400
_SKIPPED = {"__pycache__", ".git", ".venv", "venv", "node_modules"}


Kind = Literal["model", "package", "excerpt"]


@dataclass(frozen=True)
class Source:
    path: Path
    tree: ast.Module
    # model: model_module_dir and flow modules; package: bundled packages and external folders
    # (often vendored libraries); excerpt: build_flow's saved sources, reviewed copies only
    kind: Kind = "model"


def bundle_sources(bundle_dir: Path, config: Any) -> tuple[list[Source], list[Path]]:
    """The parsed files, and the folders a bundle's modules are imported from."""
    roots = import_roots(bundle_dir, config)
    model_dir = bundle_dir / config.model_module_dir
    paths: list[tuple[Path, Kind]] = []
    if config.flow:
        paths += [(p, "model") for p in _flow_modules(bundle_dir, config, roots)]
        paths += [(p, "excerpt") for p in _python_files(bundle_dir / "functions")]
    else:
        paths += [(p, "model") for p in _python_files(model_dir)]
    for folder in roots:
        if folder not in (bundle_dir, model_dir):
            paths += [(p, "package") for p in _python_files(folder)]
    seen: set[Path] = set()
    sources = []
    for path, kind in paths[:MAX_FILES]:
        if path in seen:
            continue
        seen.add(path)
        tree = _parse(path)
        if tree is not None:
            sources.append(Source(path, tree, kind))
    return sources, roots


def import_roots(bundle_dir: Path, config: Any) -> list[Path]:
    """Where the runtime imports the bundle's modules from, as it puts them on sys.path."""
    roots = [bundle_dir] if config.flow else []
    roots.append(bundle_dir / config.model_module_dir)
    roots.append(bundle_dir / config.bundled_packages_dir)
    roots += [bundle_dir / d for d in config.external_package_dirs if not escapes(d)]
    return [r for r in roots if r.is_dir()]


def _python_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*.py")):
        if not _SKIPPED & set(path.relative_to(folder).parts):
            found.append(path)
    return found


def _flow_modules(bundle_dir: Path, config: Any, roots: list[Path]) -> list[Path]:
    found = []
    for stage in config.flow:
        for ref in (stage.pre, stage.post):
            if ref and ":" in ref and not ref.endswith(".pkl"):
                module = ref.split(":", 1)[0].replace(".", "/")
                found += [r / f"{module}.py" for r in roots if (r / f"{module}.py").is_file()][:1]
    return found


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
