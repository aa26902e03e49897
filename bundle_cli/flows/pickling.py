"""Serialising pre/post functions by value, and finding what will break where the bundle runs.

A function is pickled with its code, not as a reference to its module, because its module will not
be importable inside the bundle. Whatever it reaches through module-level names travels with it,
except imports: a module (or a name imported from one) is pickled as an import to redo at load
time, so imports belong inside the function, where they are visible and reviewed.
"""

from __future__ import annotations

import dis
import importlib.metadata
import inspect
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from types import CodeType, ModuleType
from typing import Any

_GLOBAL_OPS = {"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"}


def global_names(code: CodeType) -> set[str]:
    """Module-level names the code (and code nested in it) reads or writes."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname in _GLOBAL_OPS}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= global_names(const)
    return names


def function_problems(fn: Callable[..., Any], label: str) -> list[str]:
    """Why `fn` would not work once pickled into a bundle, one line per module-level name."""
    import cloudpickle

    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None:
        return [f"{label}: {fn!r} is not a Python function; pass a def or a lambda"]
    scope = getattr(fn, "__globals__", {})
    problems = []
    for name in sorted(global_names(code) & set(scope)):
        value = scope[name]
        imported = _imported_from(value, fn)
        if imported:
            problems.append(
                f"{label} uses {name!r}, {imported} imported at module level; "
                "import it inside the function"
            )
            continue
        try:
            cloudpickle.dumps(value)
        except Exception as exc:
            kind = type(value).__name__
            problems.append(f"{label} uses {name!r} (a {kind}) that cannot be pickled: {exc}")
    return problems


def _imported_from(value: Any, fn: Callable[..., Any]) -> str | None:
    """'module numpy' or 'argmax from numpy' when `value` arrives by a module-level import:
    a module, or an object that its module exposes under its own name (so pickle refers to it)."""
    if isinstance(value, ModuleType):
        return f"module {value.__name__}"
    origin = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(origin, str) or not isinstance(qualname, str):
        return None
    if origin == fn.__module__ or is_user_module(origin):
        return None
    found: Any = sys.modules.get(origin)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{qualname} from {origin}" if found is value else None


@cache
def _installed_top_names() -> frozenset[str]:
    return frozenset(importlib.metadata.packages_distributions())


def is_user_module(name: str) -> bool:
    """A module of the user's own project: neither the standard library nor installed."""
    top = name.split(".")[0]
    module = sys.modules.get(name)
    return (
        name != "__main__"
        and top != "bundle_cli"  # reached by reference: its state (the store) is per process
        and module is not None
        and getattr(module, "__file__", None) is not None
        and top not in sys.stdlib_module_names
        and top not in _installed_top_names()
    )


@contextmanager
def by_value(fn: Callable[..., Any]) -> Iterator[None]:
    """Pickle the user's own modules that `fn` comes from or refers to by value for the block."""
    import cloudpickle

    scope = getattr(fn, "__globals__", {})
    code = getattr(fn, "__code__", None)
    referenced = [scope[n] for n in global_names(code) if n in scope] if code else []
    names = {fn.__module__, *(getattr(v, "__module__", None) for v in referenced)}
    registered = set(cloudpickle.list_registry_pickle_by_value())
    added = sorted(
        n for n in names if isinstance(n, str) and is_user_module(n) and n not in registered
    )
    for name in added:
        cloudpickle.register_pickle_by_value(sys.modules[name])
    try:
        yield
    finally:
        for name in added:
            cloudpickle.unregister_pickle_by_value(sys.modules[name])


def dump_function(fn: Callable[..., Any]) -> bytes:
    """The cloudpickle bytes of `fn`, its own code included."""
    import cloudpickle

    with by_value(fn):
        return bytes(cloudpickle.dumps(fn))


def source_of(fn: Callable[..., Any]) -> str:
    """The function's source for review beside its pickle, or a note saying why there is none."""
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        return f"# the source of {getattr(fn, '__qualname__', fn)!s} is not available: {exc}\n"
