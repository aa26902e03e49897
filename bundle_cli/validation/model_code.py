"""Static checks of the model file: it exists, parses, defines the class and its hooks correctly.

Only `ast` is used: validating a bundle never imports or runs its code.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bundle_cli.config.locate import config_file
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.paths import display, escapes

if TYPE_CHECKING:
    from bundle_cli.config.schema import BundleConfig

Function = ast.FunctionDef | ast.AsyncFunctionDef

# Bases that add no hooks, so a class built on them alone is fully visible in this file.
_NEUTRAL_BASES = {"object", "ABC", "Generic", "Protocol"}


@dataclass
class ClassView:
    """A class as far as this file shows it: its methods, including those of bases defined here."""

    node: ast.ClassDef
    methods: dict[str, Function] = field(default_factory=dict)
    attributes: set[str] = field(default_factory=set)
    open: bool = False  # a base comes from elsewhere: what it defines is unknown

    def defines(self, name: str) -> bool:
        return name in self.methods or name in self.attributes


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


def parse_python(source: str | bytes, filename: str) -> ast.Module:
    """ast.parse, with the parser's own limits (an expression nested thousands deep exhausts
    its stack: RecursionError or MemoryError) reported as the SyntaxError they are to a user."""
    try:
        return ast.parse(source, filename=filename)
    except (RecursionError, MemoryError):
        raise SyntaxError(
            "nested too deeply for Python's parser (an expression thousands of levels deep)"
        ) from None


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


def _module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, also those inside top-level if/try/with blocks (not functions)."""
    found: list[ast.stmt] = []
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, ast.If | ast.With | ast.AsyncWith | ast.For | ast.While):
            found += _module_statements(stmt.body + getattr(stmt, "orelse", []))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            blocks = stmt.body + stmt.orelse + stmt.finalbody
            for handler in stmt.handlers:
                blocks += handler.body
            found += _module_statements(blocks)
    return found


def module_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Classes bound at module level by name; a later definition wins, as at run time."""
    return {s.name: s for s in _module_statements(tree.body) if isinstance(s, ast.ClassDef)}


def _other_bindings(tree: ast.Module) -> set[str]:
    """Module-level names bound by imports, assignments or functions ("*" for a star import)."""
    names: set[str] = set()
    for stmt in _module_statements(tree.body):
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def class_view(node: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> ClassView:
    """Methods of `node`, then of its bases defined in this file, depth first (MRO-like)."""
    view = ClassView(node)
    _collect(node, classes, view, seen=set())
    return view


def _collect(
    node: ast.ClassDef, classes: dict[str, ast.ClassDef], view: ClassView, seen: set[str]
) -> None:
    # A loop, not recursion: a chain of a thousand classes must not exhaust the stack.
    pending = [node]
    while pending:
        node = pending.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                view.methods.setdefault(stmt.name, stmt)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                view.attributes |= {t.id for t in targets if isinstance(t, ast.Name)}
        for base in reversed(node.bases):  # reversed: the first base is visited first
            name = _base_name(base)
            if name in classes:
                pending.append(classes[name])
            elif name not in _NEUTRAL_BASES:
                view.open = True


def _base_name(base: ast.expr) -> str | None:
    if isinstance(base, ast.Subscript):  # Generic[T], Protocol[T]
        base = base.value
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute):  # abc.ABC, typing.Generic
        return base.attr if base.attr in _NEUTRAL_BASES else None
    return None
