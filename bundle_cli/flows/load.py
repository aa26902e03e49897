"""Loading a flow bundle: each stage's model through its loader, its pre/post functions, one store."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Any

from bundle_cli.contract import FUNCTIONS
from bundle_cli.errors import BundleError, InvalidBundleError
from bundle_cli.flows.calling import arity, run_sync
from bundle_cli.flows.functions import bundle_imports, import_roots, load_function
from bundle_cli.flows.loaders import load_framework
from bundle_cli.flows.pipeline import Flow, Stage
from bundle_cli.runtime.store import Store, active


def load_flow(
    bundle_dir: Path,
    config: Any,
    *,
    model_kwargs: dict[str, Any] | None = None,
    store: Store | None = None,
) -> Flow:
    """Load every stage of `config.flow`; runs the bundle's code (imports, pickles, Model.load).

    `model_kwargs` are what a `python` stage's Model may take in __init__ (config, data_dir,
    secrets, environment); `store` is added to them, and shared by every stage and call.
    """
    return run_sync(aload_flow(bundle_dir, config, model_kwargs=model_kwargs, store=store))


async def aload_flow(
    bundle_dir: Path,
    config: Any,
    *,
    model_kwargs: dict[str, Any] | None = None,
    store: Store | None = None,
) -> Flow:
    """`load_flow` for async callers."""
    if not config.flow:
        raise InvalidBundleError(f"{bundle_dir}: config.yaml defines no flow", [])
    _check_pickle_python(config)
    store = store if store is not None else Store()
    kwargs = _default_kwargs(bundle_dir, config) | (model_kwargs or {}) | {"store": store}
    roots = import_roots(bundle_dir, config)
    stages = []
    with active(store), bundle_imports(roots):
        for spec in config.flow:
            stages.append(await _load_stage(bundle_dir, spec, kwargs))
    return Flow(stages, store, imports=partial(bundle_imports, roots))


async def _load_stage(bundle_dir: Path, spec: Any, model_kwargs: dict[str, Any]) -> Stage:
    where = f"flow stage '{spec.name}'"
    path = bundle_dir / spec.model
    if not path.exists():
        raise InvalidBundleError(f"{where}: model file {spec.model} does not exist", [])
    if spec.type == "python":
        from bundle_cli.flows.python_stage import load_python_stage

        model = await load_python_stage(path, spec.options, where, model_kwargs)
    else:
        model = _ignoring_files(_load_framework(spec, path, where))
    stage = Stage(name=spec.name, model=model, pre_ref=spec.pre or "", post_ref=spec.post or "")
    for slot in ("pre", "post"):
        ref = getattr(spec, slot)
        if ref:
            fn = load_function(bundle_dir, ref, f"{where}: {slot}")
            n = arity(fn, FUNCTIONS[slot], f"{where}: {slot} function {ref}")
            setattr(stage, slot, fn)
            setattr(stage, f"{slot}_arity", n)
    return stage


def _load_framework(spec: Any, path: Path, where: str) -> Any:
    try:
        return load_framework(spec.type, path, spec.options, where)
    except BundleError:
        raise
    except Exception as exc:  # a corrupt or mismatched file: the framework's own words
        message = f"{where}: cannot load {spec.model} as a {spec.type} model: {exc}"
        raise InvalidBundleError(message, []) from exc


def _ignoring_files(predict: Any) -> Any:
    return lambda x, files: predict(x)


def _default_kwargs(bundle_dir: Path, config: Any) -> dict[str, Any]:
    return {
        "config": config.model_dump(mode="json", exclude_none=True),
        "data_dir": bundle_dir / config.data_dir,
        "secrets": {},
        "environment": {},
    }


def _check_pickle_python(config: Any) -> None:
    """Cloudpickled code only loads on the Python minor version that wrote it."""
    pickled = any(ref.endswith(".pkl") for s in config.flow for ref in (s.pre, s.post) if ref)
    running = f"py3{sys.version_info.minor}"
    if pickled and config.python_version != running:
        raise InvalidBundleError(
            f"this flow's pickled functions were written for python_version "
            f"{config.python_version} and cannot load on Python 3.{sys.version_info.minor}; "
            "run the bundle with that Python or rebuild it with build_flow",
            [],
        )
