"""A stage's pre/post functions: `module:function` in the bundle or a cloudpickled file, and the
number of positional arguments each receives (the contract's one arity rule)."""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any

from bundle_cli.contract import Shape, Slot
from bundle_cli.contract import arity as contract_arity
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError

if TYPE_CHECKING:
    from bundle_cli.runtime.flow import FlowHost

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def load_function(host: FlowHost, ref: str, where: str) -> Callable[..., Any]:
    """The function a stage's `pre`/`post` names (validated: a .pkl in the bundle or
    "module:function" whose module binds the name); importing or unpickling it runs bundle code."""
    if ref.endswith(".pkl"):
        fn = _unpickle(host, host.root / ref, where)
    else:
        module_name, _, attr = ref.partition(":")
        fn = getattr(host.import_module(module_name, where), attr, None)
        if fn is None:  # bound in a branch the static check took, not when it ran
            module = f"{module_name} has no {attr}"
            raise InvalidBundleError(f"{where}: {module}", [_diagnostic(f"{where}: {module}")])
    if not callable(fn):
        message = f"{where}: {ref} is a {type(fn).__name__}, not a function"
        raise InvalidBundleError(message, [_diagnostic(message)])
    return fn


def _diagnostic(message: str) -> Diagnostic:
    return Diagnostic("missing-function", "error", message, "config.yaml")


def _unpickle(host: FlowHost, path: Path, where: str) -> Any:
    """Load a function written by build_flow; a bundle is code, and so are its pickles."""
    with path.open("rb") as f, host.running(f"{where}: unpickling {path.name}"):
        fn = pickle.load(f)
    code = getattr(fn, "__code__", None)
    if isinstance(fn, FunctionType) and code and not Path(code.co_filename).is_absolute():
        # build_flow records the source beside the pickle relative to the bundle; make it
        # absolute here so tracebacks name the file on this machine.
        from bundle_cli.flows.pickling import relocate

        fn.__code__ = relocate(code, str(path.with_suffix(".py")))
    return fn


def arity(fn: Callable[..., Any], slot: Slot, where: str) -> int:
    """How many positional arguments to pass `fn` in `slot`, by the contract's one rule
    (contract.arity); a definition the rule refuses is a definition error naming `where`."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError) as exc:
        raise definition_error(fn, where, f"has a signature that cannot be read ({exc})") from None
    positional = [p for p in params if p.kind in _POSITIONAL]
    shape = Shape(
        positional=len(positional),
        required=sum(p.default is p.empty for p in positional),
        varargs=any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params),
        required_keyword=any(
            p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty for p in params
        ),
    )
    takes, problem = contract_arity(slot, shape)
    if problem == "required-keyword":
        raise definition_error(fn, where, "has a keyword-only parameter without a default")
    if problem:
        why = (
            f"takes {len(positional)} positional parameters; it must take {slot.fewest} to "
            f"{slot.most}"
        )
        raise definition_error(fn, where, why)
    return takes


def definition_error(fn: Any, where: str, why: str) -> InvalidBundleError:
    """An error about how a bundle function is defined, located at its `def` when known."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    place = {"file": code.co_filename, "line": code.co_firstlineno} if code else {}
    message = f"{where} {why}"
    diagnostic = Diagnostic(code="bad-signature", severity="error", message=message, **place)
    return InvalidBundleError(message, diagnostics=[diagnostic])
