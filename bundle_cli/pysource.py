"""Reading a bundle's Python files as `ast` shows them, never importing them: the parse with
its limits reported as syntax errors, the classes a module binds and a class's methods with those
of its bases defined in the same file.

Shared by `bundle validate` (validation/) and the manifest's derived fields (archive/derived.py),
which both read the model file without running it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

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


def parse_python(source: str | bytes, filename: str) -> ast.Module:
    """ast.parse, with the parser's own limits (an expression nested thousands deep exhausts
    its stack: RecursionError or MemoryError) reported as the SyntaxError they are to a user."""
    try:
        return ast.parse(source, filename=filename)
    except (RecursionError, MemoryError):
        raise SyntaxError(
            "nested too deeply for Python's parser (an expression thousands of levels deep)"
        ) from None


def module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, also those inside top-level if/try/with blocks (not functions)."""
    found: list[ast.stmt] = []
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, ast.If | ast.With | ast.AsyncWith | ast.For | ast.While):
            found += module_statements(stmt.body + getattr(stmt, "orelse", []))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            blocks = stmt.body + stmt.orelse + stmt.finalbody
            for handler in stmt.handlers:
                blocks += handler.body
            found += module_statements(blocks)
    return found


def module_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Classes bound at module level by name; a later definition wins, as at run time."""
    return {s.name: s for s in module_statements(tree.body) if isinstance(s, ast.ClassDef)}


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
