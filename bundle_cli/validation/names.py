"""Names the bundle's code uses but never binds (an `np` never imported), found by pyflakes.

Only pyflakes' undefined-name findings are reported: errors in the model code (it would raise
NameError), warnings in bundled packages, which often vendor whole libraries with dead corners.
Annotations of local variables are left out, since Python never evaluates them. Style findings
such as unused imports are the author's business.
"""

from __future__ import annotations

import ast
import sys
import types
from typing import Any

from bundle_cli.diagnostics import Diagnostic, Severity
from bundle_cli.validation.sources import Source


def check_names(sources: list[Source]) -> list[Diagnostic]:
    """An error per use of a name that is neither defined, imported nor a builtin."""
    checker, messages = _pyflakes()
    found = []
    for source in sources:
        if source.kind == "excerpt":
            continue
        result = checker.Checker(source.tree, filename=str(source.path))
        unevaluated = _local_annotations(source.tree)
        for message in result.messages:
            undefined = isinstance(message, messages.UndefinedName | messages.UndefinedLocal)
            if undefined and (message.lineno, message.col) not in unevaluated:
                found.append(_diagnostic(message, "error" if source.kind == "model" else "warning"))
    return found


def _local_annotations(tree: ast.Module) -> set[tuple[int, int]]:
    """(line, column) of every name in an annotation of a local variable (`x: T = ...` in a
    function), which Python does not evaluate."""
    found: set[tuple[int, int]] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.AnnAssign):
                    found |= {
                        (n.lineno, n.col_offset)
                        for n in ast.walk(node.annotation)
                        if isinstance(n, ast.Name)
                    }
    return found


def _diagnostic(message: Any, severity: Severity) -> Diagnostic:
    name = message.message_args[0]
    if type(message).__name__ == "UndefinedLocal":
        text = f"{name} is used before it is assigned in this function; assign it first"
    else:
        text = f"{name} is used but never defined or imported; import or define it"
    return Diagnostic(
        "undefined-name", severity, text, message.filename, message.lineno, message.col + 1
    )


def _pyflakes() -> tuple[Any, Any]:
    """pyflakes' checker and messages modules, imported without doctest.

    pyflakes.checker imports doctest at the top (and with it pdb and unittest: ~30 ms here, a
    sixth of validate's 0.2 s budget) only to check doctests, which this check never asks for
    (Checker's withDoctest is False). A stand-in is visible while pyflakes loads and removed right
    after, so any later `import doctest` gets the real module.
    """
    if "pyflakes.checker" not in sys.modules and "doctest" not in sys.modules:
        stand_in = types.ModuleType("doctest")
        stand_in.DocTestParser = _NoDoctests  # type: ignore[attr-defined]
        sys.modules["doctest"] = stand_in
        try:
            import pyflakes.checker
        finally:
            if sys.modules.get("doctest") is stand_in:
                del sys.modules["doctest"]
    import pyflakes.checker
    import pyflakes.messages

    return pyflakes.checker, pyflakes.messages


class _NoDoctests:
    def get_examples(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []  # never called: doctests are not checked
