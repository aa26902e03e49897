"""The hook contract, checked on a parsed class: signatures, streaming, misspellings, __init__.

The runtime calls hooks on an instance with positional arguments (preprocess: model_input[, files];
predict: model_input; postprocess: model_output[, model_input[, files]]; load: nothing) and builds the
instance with the keyword arguments `__init__` names among config, data_dir, secrets, environment
and store (the per-bundle shared store).
"""

from __future__ import annotations

import ast
import difflib
from typing import TYPE_CHECKING

from bundle_cli.contract import (
    HOOKS,
    NAMEABLE_INIT_KWARGS,
    REQUEST_MODULES,
    Shape,
    Slot,
    arity,
    is_request_annotation,
)
from bundle_cli.diagnostics import Diagnostic, Severity
from bundle_cli.validation.misspelt import check_misspelt

if TYPE_CHECKING:
    from bundle_cli.pysource import ClassView, Function

# Keywords Truss's server may pass (an engine's handle among them) are valid to name here.
INIT_KWARGS = NAMEABLE_INIT_KWARGS
_NUMBERS = ("no", "one", "two", "three")
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def check_class(
    view: ClassView, file: str, request_names: frozenset[str] = frozenset()
) -> list[Diagnostic]:
    """Every contract problem of the model class, errors and warnings, in file order;
    `request_names` are the names the file binds to the request class."""
    at = Locator(file, request_names)
    found: list[Diagnostic] = []
    if not view.open and not view.defines("predict") and not view.defines("websocket"):
        found.append(_no_predict(view.node, at))
    for name in HOOKS:
        if name in view.methods:
            found += _check_hook(view.methods[name], at)
    found += _check_streaming(view, at)
    found += check_misspelt(view, at)
    if "__init__" in view.methods:
        found += _check_init(view.methods["__init__"], at)
    return sorted(found, key=lambda d: (d.line or 0, d.column or 0))


class Locator:
    """Builds diagnostics for one file at the position of an AST node."""

    def __init__(self, file: str, request_aliases: frozenset[str] = frozenset()) -> None:
        self.file = file
        self.request_aliases = request_aliases

    def __call__(
        self, code: str, message: str, node: ast.AST, severity: Severity = "error"
    ) -> Diagnostic:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        column = col + 1 if col is not None else None
        return Diagnostic(code, severity, message, self.file, line, column)


def _no_predict(node: ast.ClassDef, at: Locator) -> Diagnostic:
    return at(
        "model-predict-missing",
        f"class {node.name} has no predict method, the one hook every model needs; "
        "add `def predict(self, model_input):` returning the prediction",
        node,
    )


def _check_hook(fn: Function, at: Locator) -> list[Diagnostic]:
    name = fn.name
    slot = HOOKS[name]
    kind = _static_kind(fn)
    if kind:
        return [
            at(
                "hook-static",
                f"{name} is a {kind}; hooks are called on the model instance (after __init__ "
                f"and load prepared it) and take self: remove @{kind} and make self the first "
                "parameter",
                fn,
            )
        ]
    args = fn.args
    positional = args.posonlyargs + args.args
    if not positional:
        if args.vararg:
            return []
        return [at("hook-no-self", f"{name} has no self parameter; write {_example(name)}", fn)]
    rest = [a for a in positional[1:] if not _is_request(a, at.request_aliases)]  # extra
    required = rest[: max(len(rest) - len(args.defaults), 0)]
    shape = Shape(
        positional=len(rest),
        required=len(required),
        varargs=args.vararg is not None,
        request=len(rest) < len(positional) - 1,
    )
    calls = _calls(slot)
    found = []
    problem = arity(slot, shape)[1]
    if problem == "too-many-params":
        extra = required[slot.most :]
        names = ", ".join(a.arg for a in extra)
        found.append(
            at(
                "hook-too-many-params",
                f"{name} requires {len(required)} parameter{'s' * (len(required) != 1)} "
                f"besides self but is called with {calls}; remove {names} or give "
                f"{'it a default value' if len(extra) == 1 else 'them default values'}",
                extra[0],
            )
        )
    elif problem == "missing-param" and positional[0].arg not in ("self", "cls"):
        first = positional[0].arg
        found.append(
            at(
                "hook-no-self",
                f"{name} has no self parameter: its only parameter, {first}, would receive "
                f"the model instance, not the data; write {_example(name)}",
                fn,
            )
        )
    elif problem == "missing-param":
        found.append(
            at(
                "hook-missing-param",
                f"{name} takes no parameter besides self but is called with {calls}; "
                f"write {_example(name)}",
                fn,
            )
        )
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is None:
            found.append(
                at(
                    "hook-required-keyword",
                    f"{name}: keyword-only parameter {arg.arg} has no default, but hooks are "
                    "called with positional arguments only; give it a default value or move it "
                    "before the *",
                    arg,
                )
            )
    return found


def _is_request(arg: ast.arg, aliases: frozenset[str]) -> bool:
    return arg.annotation is not None and is_request_annotation(
        ast.unparse(arg.annotation), aliases
    )


def request_aliases(tree: ast.Module) -> frozenset[str]:
    """Names a module binds to the request class (`from fastapi import Request as R`)."""
    return frozenset(
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in REQUEST_MODULES
        for alias in node.names
        if alias.name == "Request"
    )


def _calls(slot: Slot) -> str:
    """How the runtime calls the hook, in words: `one or two arguments (model_input[, files])`."""
    if not slot.most:
        return "no arguments"
    low, high = _NUMBERS[slot.fewest], _NUMBERS[slot.most]
    count = (
        f"exactly {low} argument{'s' * (slot.most != 1)}"
        if slot.fewest == slot.most
        else f"{low} {'or' if slot.most == slot.fewest + 1 else 'to'} {high} arguments"
    )
    return f"{count} ({slot.arguments})"


def _example(name: str) -> str:
    first = "".join(f", {p}" for p in HOOKS[name].params[:1])
    return f"`def {name}(self{first}):`"


def _static_kind(fn: Function) -> str | None:
    for dec in fn.decorator_list:
        name = dec.id if isinstance(dec, ast.Name) else getattr(dec, "attr", None)
        if name in ("staticmethod", "classmethod"):
            return name
    return None


def first_yield(fn: Function) -> ast.expr | None:
    """The first yield of fn's own body; yields of nested functions, lambdas, classes don't count."""
    found: list[ast.expr] = []
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Yield | ast.YieldFrom):
            found.append(node)
        elif not isinstance(node, _NESTED_SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return min(found, key=lambda n: (n.lineno, n.col_offset), default=None)


def _check_streaming(view: ClassView, at: Locator) -> list[Diagnostic]:
    predict, post = view.methods.get("predict"), view.methods.get("postprocess")
    if predict is None or post is None:
        return []
    yielded = first_yield(predict)
    if yielded is None:
        return []
    return [
        at(
            "hook-generator-postprocess",
            f"predict is a generator (yield on line {yielded.lineno}), so its output is streamed "
            "chunk by chunk and there is no single result for postprocess; remove postprocess and "
            "do that work inside predict, or make predict return instead of yield",
            post,
        )
    ]


def _check_init(init: Function, at: Locator) -> list[Diagnostic]:
    args = init.args
    positional = args.posonlyargs + args.args
    n_required = max(len(positional) - len(args.defaults), 0)
    required = [(a, i < len(args.posonlyargs)) for i, a in enumerate(positional[:n_required])]
    required = required[1:]  # self
    required += [
        (a, False) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None
    ]
    found = []
    for arg, positional_only in required:
        if positional_only:
            found.append(
                at(
                    "init-positional-only",
                    f"__init__ parameter {arg.arg} is positional-only (before /), but the model is "
                    "built with keyword arguments; move it after the / or give it a default value",
                    arg,
                )
            )
        elif arg.arg not in INIT_KWARGS:
            found.append(at("init-unknown-param", _unknown_init_message(arg.arg), arg))
    return found


def _unknown_init_message(name: str) -> str:
    close = difflib.get_close_matches(name, INIT_KWARGS, n=1, cutoff=0.6)
    hint = f'did you mean "{close[0]}"? Otherwise ' if close else ""
    allowed = ", ".join(INIT_KWARGS)
    return (
        f"__init__ requires {name}, which cannot be supplied: the model is built with only "
        f"{allowed} (those it names, or all with **kwargs); {hint}give {name} a default value "
        "or remove it"
    )
