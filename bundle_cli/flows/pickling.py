"""Serialising pre/post functions by value, and finding what will break where the bundle runs.

A function is pickled with its code, not as a reference to its module, because its module will not
be importable inside the bundle. Whatever it reaches through module-level names travels with it,
except imports: a module (or a name imported from one) is pickled as an import to redo at load
time, so imports belong inside the function, where they are visible and reviewed.
"""

from __future__ import annotations

import dis
import inspect
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
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

    if library_function(fn):
        return []  # pickled as a reference, like an import: its package is needed where it runs
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


def library_function(fn: Callable[..., Any]) -> bool:
    """A function of an installed package or the standard library, reachable by its name."""
    module = getattr(fn, "__module__", None)
    if not isinstance(module, str) or module == "__main__" or is_user_module(module):
        return False
    return _resolve(module, getattr(fn, "__qualname__", None)) is fn


def _resolve(module: str, qualname: Any) -> Any:
    if not isinstance(qualname, str):
        return None
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


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
    return f"{qualname} from {origin}" if _resolve(origin, qualname) is value else None


def is_user_module(name: str) -> bool:
    """A module of the user's own project: not the standard library, not an installed package."""
    top = name.split(".")[0]
    file = getattr(sys.modules.get(name), "__file__", None)
    if name == "__main__" or not file or top in sys.stdlib_module_names:
        return False
    parts = Path(file).parts
    # bundle_cli is reached by reference even from a source checkout: its state (the store)
    # belongs to the process that runs the bundle.
    return top != "bundle_cli" and "site-packages" not in parts and "dist-packages" not in parts


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


def dump_function(fn: Callable[..., Any], filename: str, first_line: int | None) -> bytes:
    """The cloudpickle bytes of `fn`, its own code included.

    Its code is relocated to `filename` (the source saved beside the pickle, where the source
    starts at `first_line`), so the pickle holds no path of the machine that built it and a
    traceback points into the reviewed source.
    """
    import cloudpickle

    pickled = fn
    if type(fn) is FunctionType and not library_function(fn):
        pickled = with_code(fn, relocate(fn.__code__, filename, first_line))
    with by_value(fn):
        return bytes(cloudpickle.dumps(pickled))


def relocate(code: CodeType, filename: str, first_line: int | None = None) -> CodeType:
    """`code` (and the code nested in it) as if it were in `filename`, starting at first_line."""
    shift = 0 if first_line is None else first_line - code.co_firstlineno
    return _shifted(code, filename, shift)


def _shifted(code: CodeType, filename: str, shift: int) -> CodeType:
    consts = tuple(
        _shifted(c, filename, shift) if isinstance(c, CodeType) else c for c in code.co_consts
    )
    return code.replace(
        co_filename=filename, co_firstlineno=code.co_firstlineno + shift, co_consts=consts
    )


def with_code(fn: FunctionType, code: CodeType) -> FunctionType:
    """A copy of `fn` running `code`, for pickling (the original is left as the user defined it).

    The copy's module is named after its file (`functions/x_post.py` -> `functions.x_post`), a
    module that does not exist, so it is pickled by value and the pickle is the same whether
    the builder ran as a script or was imported.
    """
    module = code.co_filename.removesuffix(".py").replace("/", ".")
    # Its own globals: the values are what they are now (as pickled anyway); the names that
    # cloudpickle records about the module say where the source is, not the builder's file.
    scope = {k: v for k, v in fn.__globals__.items() if k not in ("__package__", "__path__")}
    scope |= {"__file__": code.co_filename, "__name__": module}
    copy = FunctionType(code, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    copy.__module__ = module
    copy.__doc__ = fn.__doc__
    copy.__annotations__ = dict(fn.__annotations__)
    copy.__dict__.update(fn.__dict__)
    return copy


def source_of(fn: Callable[..., Any], label: str) -> tuple[str, int | None]:
    """The text saved beside a pickle for review: a header, then the function's source.

    Returns the text and the line where the source starts (None when it is not available).
    """
    head = f"# {label}: the source of what the .pkl beside this file holds.\n"
    scope = getattr(fn, "__globals__", {})
    code = getattr(fn, "__code__", None)
    carried = sorted(global_names(code) & set(scope)) if code else []
    if carried:
        head += f"# Module-level names pickled with it, as they were: {', '.join(carried)}.\n"
    try:
        return head + textwrap.dedent(inspect.getsource(fn)), head.count("\n") + 1
    except (OSError, TypeError) as exc:
        return head + f"# (the source is not available: {exc})\n", None
