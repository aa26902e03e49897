"""Static checks of the model file: it exists, parses, defines the class and its hooks correctly.

Only `ast` is used: validating a bundle never imports or runs its code.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from bundle_cli.config.locate import config_file
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.pysource import (
    class_view,
    module_classes,
    module_statements,
    parse_python,
)
from bundle_cli.validation.paths import display, escapes

if TYPE_CHECKING:
    from bundle_cli.config.schema import BundleConfig


def check_model_code(
    bundle_dir: Path, config: BundleConfig, no_code_kind: str | None = None
) -> list[Diagnostic]:
    """Every problem of the model file and its class that can be seen without running it.

    `no_code_kind` names what the bundle is when its config makes Truss serve it without model
    code (docker_server, an engine builder); then a missing model file is expected.
    """
    from bundle_cli.validation.hooks import check_class, request_aliases

    if config.flow:
        return []  # a flow runs its stages instead of the Model class; its checks are its own
    relative = f"{config.model_module_dir}/{config.model_class_filename}"
    if escapes(relative):
        return []  # check_files reports the path; nothing outside the bundle is read
    path = bundle_dir / config.model_module_dir / config.model_class_filename
    file = str(path)
    if not path.exists() and no_code_kind:
        message = (
            f"this bundle is {no_code_kind}: Truss serves it without model code, so only its "
            "config is checked; `bundle predict` and `bundle test` cannot run it here"
        )
        return [Diagnostic("no-model-code", "info", message, str(config_file(bundle_dir)))]
    if not path.is_file():
        return [_missing_file(path, relative)]
    try:
        source = path.read_bytes()
    except OSError as exc:
        message = f"cannot read the model file: {exc.strerror or exc}; check its permissions"
        return [Diagnostic("model-file-unreadable", "error", message, file)]
    try:
        tree = parse_python(source, file)
    except (SyntaxError, ValueError) as exc:
        return [_syntax_error(exc, file)]
    classes = module_classes(tree)
    name = config.model_class_name
    if name not in classes:
        bound = _other_bindings(tree)
        if name in bound or "*" in bound:
            return []  # imported or assigned: defined elsewhere, so not checkable here
        return [_missing_class(name, classes, file, relative)]
    return check_class(class_view(classes[name], classes), file, request_aliases(tree))


def _missing_file(path: Path, relative: str) -> Diagnostic:
    what = "is a folder, not a file" if path.exists() else "does not exist"
    return Diagnostic(
        code="model-file-missing",
        severity="error",
        message=(
            f"the model file {display(relative)} {what}; it is set by model_module_dir and "
            "model_class_filename in config.yaml: create the file or point those keys at it"
        ),
        file=str(path),
    )


def _syntax_error(exc: SyntaxError | ValueError, file: str) -> Diagnostic:
    line = getattr(exc, "lineno", None)
    offset = getattr(exc, "offset", None)
    detail = getattr(exc, "msg", None) or str(exc)
    return Diagnostic(
        code="model-syntax-error",
        severity="error",
        message=f"Python cannot parse the model file: {detail}"
        + ("; fix the syntax at this position" if line else ""),
        file=file,
        line=line,
        column=offset if line and offset else (1 if line else None),
    )


def _missing_class(
    name: str, classes: dict[str, ast.ClassDef], file: str, relative: str
) -> Diagnostic:
    close = difflib.get_close_matches(name, sorted(classes), n=1, cutoff=0.6)
    if close:
        hint = f'; did you mean "{close[0]}"? Rename that class or set model_class_name to it'
        node: ast.AST | None = classes[close[0]]
    elif classes:
        hint = f"; the file defines {_listing(classes)}: set model_class_name to one of them"
        node = None
    else:
        hint = f"; the file defines no class: add `class {name}:` with a predict method"
        node = None
    return Diagnostic(
        code="model-class-missing",
        severity="error",
        message=f'no class "{name}" (model_class_name) in {display(relative)}{hint}',
        file=file,
        line=node.lineno if isinstance(node, ast.ClassDef) else 1,
        column=node.col_offset + 1 if isinstance(node, ast.ClassDef) else 1,
    )


def _listing(classes: dict[str, ast.ClassDef]) -> str:
    names = sorted(classes)
    shown = ", ".join(f'"{n}"' for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _other_bindings(tree: ast.Module) -> set[str]:
    """Module-level names bound by imports, assignments or functions ("*" for a star import)."""
    names: set[str] = set()
    for stmt in module_statements(tree.body):
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names
