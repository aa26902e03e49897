"""A `python` stage: a Model class from a .py file in the bundle, as in the single-model contract.

The stage calls the class's hooks in order on the stage's input: preprocess(x[, files]) ->
predict(x) -> postprocess(result[, x[, files]]); load() runs once when the flow is loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bundle_cli.contract import HOOKS
from bundle_cli.errors import InvalidBundleError
from bundle_cli.flows.calling import arity, call_user, user_code_error

StageCall = Callable[[Any, Any], Any]


async def load_python_stage(
    path: Path, options: dict[str, Any], where: str, model_kwargs: dict[str, Any]
) -> StageCall:
    """Instantiate the stage's Model, run its load(), and return `run(x, files)`."""
    class_name = options.get("class_name", "Model")
    cls = getattr(_import_file(path, where), class_name, None)
    if not inspect.isclass(cls):
        raise InvalidBundleError(f"{where}: {path.name} defines no class {class_name}", [])
    try:
        model: Any = cls(**_accepted(cls, model_kwargs))
    except Exception as exc:
        raise user_code_error(exc, f"{where}: {class_name}()") from exc
    if callable(getattr(model, "load", None)):
        await call_user(model.load, (), f"{where}: {class_name}.load")
    return _runner(model, class_name, where)


def _import_file(path: Path, where: str) -> ModuleType:
    # A name private to this file, so stages of several bundles never share a module object.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_bundle_stage_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidBundleError(f"{where}: {path} is not a Python file", [])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise user_code_error(exc, f"{where}: importing {path.name}") from exc
    return module


def _accepted(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments __init__ names, or all of them when it takes **kwargs."""
    params = inspect.signature(cls).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(kwargs)
    names = {p.name for p in params}
    return {k: v for k, v in kwargs.items() if k in names}


def _runner(model: Any, class_name: str, where: str) -> StageCall:
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise InvalidBundleError(f"{where}: {class_name} has no predict()", [])
    if inspect.isgeneratorfunction(predict) or inspect.isasyncgenfunction(predict):
        raise InvalidBundleError(f"{where}: a streaming predict cannot feed a flow", [])
    hook = f"{where}: {class_name}."
    pre, post = getattr(model, "preprocess", None), getattr(model, "postprocess", None)
    n_pre = arity(pre, HOOKS["preprocess"], hook + "preprocess") if pre else 0
    arity(predict, HOOKS["predict"], hook + "predict")
    n_post = arity(post, HOOKS["postprocess"], hook + "postprocess") if post else 0

    async def run(x: Any, files: Any) -> Any:
        data = await call_user(pre, (x, files)[:n_pre], hook + "preprocess") if pre else x
        result = await call_user(predict, (data,), hook + "predict")
        if post:
            result = await call_user(post, (result, x, files)[:n_post], hook + "postprocess")
        return result

    return run
