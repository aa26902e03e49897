"""Loading a flow's stages: each stage's model through its framework, its pre/post functions.

Runs inside the runtime (`runtime/flow.py`): the bundle's import scope is active and its code
is reached through the host. What `bundle validate` checked (files exist, types, options, the
functions' references) is not checked again here.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from bundle_cli import frameworks
from bundle_cli.config.locate import CONFIG_FILENAME
from bundle_cli.contract import FUNCTIONS
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import BundleError, InvalidBundleError, InvalidInput
from bundle_cli.flows.functions import arity, load_function
from bundle_cli.flows.pipeline import Flow, Stage

if TYPE_CHECKING:
    from bundle_cli.runtime.flow import FlowHost


def load_flow(host: FlowHost, stages: list[dict[str, Any]], python_version: str) -> Flow:
    """Load every stage of a validated config's `flow`; runs the bundle's code (imports,
    pickles, Model.load)."""
    _check_pickle_python(stages, python_version)
    return Flow([_load_stage(host, spec) for spec in stages], host)


def _load_stage(host: FlowHost, spec: dict[str, Any]) -> Stage:
    where = f"flow stage '{spec['name']}'"
    model = _load_model(host, spec, where)
    stage = Stage(name=spec["name"], model=model)
    for slot in ("pre", "post"):
        ref = spec.get(slot)
        if ref:
            fn = load_function(host, ref, f"{where}: {slot}")
            setattr(stage, slot, fn)
            setattr(stage, f"{slot}_ref", ref)
            setattr(
                stage,
                f"{slot}_arity",
                arity(fn, FUNCTIONS[slot], f"{where}: {slot} function {ref}"),
            )
    return stage


def _load_model(host: FlowHost, spec: dict[str, Any], where: str) -> Any:
    path = host.root / spec["model"]
    try:
        return frameworks.get(spec["type"]).load(path, spec.get("options") or {}, where, host)
    except (BundleError, InvalidInput):
        raise
    except Exception as exc:  # a corrupt or mismatched file: the framework's own words
        message = f"{where}: cannot load {spec['model']} as a {spec['type']} model: {exc}"
        raise frameworks.stage_error("stage-model-unreadable", message, path) from exc


def _check_pickle_python(stages: list[dict[str, Any]], python_version: str) -> None:
    """Cloudpickled code only loads on the Python minor version that wrote it."""
    pickled = any(
        str(s.get(slot) or "").endswith(".pkl") for s in stages for slot in ("pre", "post")
    )
    running = f"py3{sys.version_info.minor}"
    if pickled and python_version != running:
        message = (
            f"this flow's pickled functions were written for python_version "
            f"{python_version} and cannot load on Python 3.{sys.version_info.minor}; "
            "run the bundle with that Python or rebuild it with build_flow"
        )
        diagnostic = Diagnostic("pickle-python-version", "error", message, CONFIG_FILENAME)
        raise InvalidBundleError(message, [diagnostic])
