"""Finding a stage's pre/post functions: `module:function` in the bundle, or a cloudpickled file."""

from __future__ import annotations

import importlib
import pickle
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FunctionType
from typing import Any

from bundle_cli.errors import InvalidBundleError
from bundle_cli.flows.calling import user_code_error


def import_roots(bundle_dir: Path, config: Any) -> list[Path]:
    """Where a bundle's own modules are imported from: its root, packages/, external dirs."""
    roots = [bundle_dir, bundle_dir / config.bundled_packages_dir]
    roots += [bundle_dir / extra for extra in config.external_package_dirs]
    return [root.resolve() for root in roots]


@contextmanager
def bundle_imports(roots: list[Path]) -> Iterator[None]:
    """Put the bundle's import roots first on sys.path for the block, then restore sys.path."""
    saved = list(sys.path)
    sys.path[:0] = [str(root) for root in roots if str(root) not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved


def load_function(bundle_dir: Path, ref: str, where: str) -> Callable[..., Any]:
    """The function a stage's `pre`/`post` names; importing or unpickling it runs bundle code."""
    fn: Callable[..., Any] = (
        _unpickle(bundle_dir / ref, where) if ref.endswith(".pkl") else _import(ref, where)
    )
    if not callable(fn):
        raise InvalidBundleError(f"{where}: {ref} is a {type(fn).__name__}, not a function", [])
    return fn


def _import(ref: str, where: str) -> Any:
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidBundleError(f'{where}: "{ref}" is not "module:function" or a .pkl file', [])
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise user_code_error(exc, f"{where}: importing {module_name}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InvalidBundleError(f"{where}: {module_name} has no {attr}", []) from None


def _unpickle(path: Path, where: str) -> Any:
    """Load a function written by build_flow; a bundle is code, and so are its pickles."""
    try:
        with path.open("rb") as f:
            fn = pickle.load(f)
    except FileNotFoundError:
        raise InvalidBundleError(f"{where}: {path} does not exist", []) from None
    except Exception as exc:
        raise user_code_error(exc, f"{where}: unpickling {path.name}") from exc
    code = getattr(fn, "__code__", None)
    if isinstance(fn, FunctionType) and code and not Path(code.co_filename).is_absolute():
        # build_flow records the source beside the pickle relative to the bundle; make it
        # absolute here so tracebacks name the file on this machine.
        from bundle_cli.flows.pickling import relocate

        fn.__code__ = relocate(code, str(path.with_suffix(".py")))
    return fn
