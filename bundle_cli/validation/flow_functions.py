"""Static checks of a stage's pre/post references: `module:function` through ast, pickles by opcode.

Nothing here imports or unpickles bundle code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.contract import Shape, Slot, arity
from bundle_cli.layout import NotFound, find_module


@dataclass(frozen=True)
class FunctionDef:
    """Where a function is defined and its positional parameters (None: cannot be told)."""

    file: Path
    line: int
    positional: int | None
    varargs: bool = False
    required_kwonly: bool = False
    required: int = 0  # positional parameters without a default


def find_function(roots: list[Path], ref: str) -> FunctionDef:
    """Resolve "module:function" to its definition, by parsing the module file."""
    module, sep, name = ref.partition(":")
    if not sep or not module or not name.isidentifier():
        raise NotFound(f'"{ref}" is not "module:function" or a path ending in .pkl')
    path = find_module(roots, module)
    try:
        from bundle_cli.pysource import parse_python

        tree = parse_python(path.read_bytes(), str(path))
    except SyntaxError as exc:
        raise NotFound(f"{path.name} does not parse: {exc.msg} (line {exc.lineno})") from None
    found = _definition(tree, name)
    if found is None:
        raise NotFound(f"{module} defines no function {name}")
    return found if isinstance(found, FunctionDef) else _from_args(path, *found)


def _definition(
    tree: ast.Module, name: str
) -> FunctionDef | tuple[int, ast.arguments | None] | None:
    """The last top-level binding of `name`, as Python would see it after import."""
    result: tuple[int, ast.arguments | None] | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            result = (node.lineno, node.args)
        elif isinstance(node, ast.Assign) and any(_binds(t, name) for t in node.targets):
            value = node.value
            result = (node.lineno, value.args if isinstance(value, ast.Lambda) else None)
        elif isinstance(node, ast.Import | ast.ImportFrom) and any(
            (a.asname or a.name.split(".")[0]) == name for a in node.names
        ):
            result = (node.lineno, None)  # bound by an import: its signature is elsewhere
    return result


def _binds(target: ast.expr, name: str) -> bool:
    return isinstance(target, ast.Name) and target.id == name


def _from_args(path: Path, line: int, args: ast.arguments | None) -> FunctionDef:
    if args is None:
        return FunctionDef(path, line, None)
    required_kwonly = any(d is None for d in args.kw_defaults)
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    return FunctionDef(path, line, positional, args.vararg is not None, required_kwonly, required)


def arity_problem(fn: FunctionDef, slot: Slot) -> str | None:
    """Why the definition cannot be called as `slot` is (contract.arity), or None."""
    if fn.positional is None:
        return None
    shape = Shape(fn.positional, fn.required, fn.varargs, fn.required_kwonly)
    problem = arity(slot, shape)[1]
    if problem == "required-keyword":
        return "has a keyword-only parameter without a default, which is never passed"
    if problem:
        return (
            f"takes {fn.positional} positional parameters; it must take {slot.fewest} to "
            f"{slot.most}"
        )
    return None


def source_imports(path: Path) -> list[str]:
    """Top-level names of the modules a source file imports (for the review listing)."""
    try:
        from bundle_cli.pysource import parse_python

        tree = parse_python(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(names)
