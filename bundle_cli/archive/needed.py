"""The files a bundle needs in order to run, checked against what `package` selected.

Validation reads the bundle folder, where an excluded file is still present, so a `.bundleignore`
that drops the model file, a module it imports, a stage's model or functions, an example's file or
the requirements file would pass validation and give an archive that cannot run. Every such file
that exists in the folder must therefore be in the selection; otherwise packaging stops before
anything is written, naming the rule that left the file out.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bundle_cli.archive.ignore import Rules
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.layout import NotFound, find_module


def dropped(bundle_dir: Path, config: Any, packed: set[str], rules: Rules) -> list[Diagnostic]:
    """An error for each needed file that exists in the bundle but is not in `packed`."""
    problems = []
    seen: set[str] = set()
    for named, why in needed_files(bundle_dir, config):
        rel = posixpath.normpath(named)
        if rel in seen or rel in packed or not (bundle_dir / rel).is_file():
            continue
        seen.add(rel)
        message = f"{why} is left out by {rules.explain(rel)}; the archive would not run without it"
        problems.append(Diagnostic("needed-file-excluded", "error", message, str(bundle_dir / rel)))
    return problems


def needed_files(bundle_dir: Path, config: Any) -> Iterator[tuple[str, str]]:
    """(bundle-relative POSIX path, why it is needed) for every file the bundle names or imports."""
    roots = [bundle_dir / config.model_module_dir, bundle_dir / config.bundled_packages_dir]
    if config.requirements_file:
        yield config.requirements_file, "the requirements file (requirements_file)"
    if not config.flow:
        model = f"{config.model_module_dir}/{config.model_class_filename}"
        yield model, "the model class file"
        yield from _imports(bundle_dir, model, roots, set())
    roots.insert(0, bundle_dir)
    for stage in config.flow or ():
        yield stage.model, f"the model of stage '{stage.name}'"
        if stage.type == "python":
            yield from _imports(bundle_dir, stage.model, roots, set())
        for slot in ("pre", "post"):
            ref = getattr(stage, slot, None)
            if ref:
                yield from _function_files(bundle_dir, roots, stage.name, slot, ref)
    yield from _example_files(bundle_dir, config.examples_filename)


def _relative(bundle_dir: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(bundle_dir.resolve()).as_posix()
    except ValueError:
        return None  # outside the bundle (external_package_dirs): not packed anyway


def _imports(
    bundle_dir: Path, rel: str, roots: list[Path], done: set[str]
) -> Iterator[tuple[str, str]]:
    """The bundle's own modules that `rel` imports, and theirs in turn."""
    done.add(rel)
    try:
        tree = ast.parse((bundle_dir / rel).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return  # validation reports it
    here = [(bundle_dir / rel).parent]
    for name, level in _imported_names(tree):
        try:
            path = find_module(here if level else roots, name)
        except NotFound:
            continue  # not the bundle's own: an installed package
        found = _relative(bundle_dir, path)
        if found and found not in done:
            yield found, f"a module imported by {rel}"
            yield from _imports(bundle_dir, found, roots, done)


def _imported_names(tree: ast.Module) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            if node.module:
                yield node.module, node.level
            if node.level:  # `from . import helpers`
                for alias in node.names:
                    yield (f"{node.module}.{alias.name}" if node.module else alias.name), 1


def _function_files(
    bundle_dir: Path, roots: list[Path], stage: str, slot: str, ref: str
) -> Iterator[tuple[str, str]]:
    why = f"the {slot} function of stage '{stage}'"
    if ref.endswith(".pkl"):
        yield ref, why
        return
    try:
        path = find_module(roots, ref.partition(":")[0])
    except NotFound:
        return
    found = _relative(bundle_dir, path)
    if found:
        yield found, why


def _example_files(bundle_dir: Path, examples: str) -> Iterator[tuple[str, str]]:
    from bundle_cli.config.yamlpos import load_yaml_file

    try:
        doc = load_yaml_file(bundle_dir / examples)
    except (OSError, UnicodeDecodeError):
        return
    for entry in doc.data if isinstance(doc.data, list) else ():
        files = entry.get("files") if isinstance(entry, dict) else None
        for name, value in files.items() if isinstance(files, dict) else ():
            if isinstance(value, str) and value:
                yield value, f"file {name} of example '{entry.get('name')}' in {examples}"
