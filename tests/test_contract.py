"""The one arity rule: the static checks (ast) and the runtime's (inspect) give each definition of
a hook or a flow function the same verdict, for model hooks and pre/post functions alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import bundle_cli
from bundle_cli.contract import FUNCTIONS, HOOKS, Shape, arity
from bundle_cli.errors import InvalidBundleError
from bundle_cli.flows.functions import arity as function_arity
from bundle_cli.runtime.hooks import inspect_model

# parameters after self (or of a pre function) -> (arguments passed, problem)
CASES: dict[str, tuple[int, str | None]] = {
    "x": (1, None),
    "x, files": (2, None),
    "x, files, extra=1": (2, None),
    "x, extra=1, more=2": (2, None),
    "*args": (2, None),
    "x, *rest": (2, None),
    "x, *, k=1": (1, None),
    "x, files, extra": (2, "too-many-params"),
    "x, a, b, *rest": (2, "too-many-params"),
    "": (0, "missing-param"),
    "x, *, k": (1, "required-keyword"),
}
# how each reader names a problem
HOOK_CODES = {
    "hook-too-many-params": "too-many-params",
    "hook-missing-param": "missing-param",
    "hook-required-keyword": "required-keyword",
}


def _function_problem(message: str) -> str:
    if "keyword-only" in message:
        return "required-keyword"
    return "missing-param" if "takes 0 " in message else "too-many-params"


def _static_hook(tree: Callable[..., Path], params: str) -> str | None:
    sep = ", " if params else ""
    model = f"class Model:\n    def preprocess(self{sep}{params}):\n        return 1\n"
    model += "    def predict(self, x):\n        return x\n"
    path = tree({"config.yaml": "model_name: m\n", "model/model.py": model}, name="hook")
    codes = [HOOK_CODES[d.code] for d in bundle_cli.validate(path).errors if d.code in HOOK_CODES]
    assert len(codes) <= 1
    return codes[0] if codes else None


def _runtime_hook(params: str) -> tuple[int, str | None]:
    sep = ", " if params else ""
    namespace: dict[str, Any] = {}
    source = f"class Model:\n    def preprocess(self{sep}{params}):\n        return 1\n"
    exec(source + "    def predict(self, x):\n        return x\n", namespace)
    try:
        spec = inspect_model(namespace["Model"], "model.py")
    except InvalidBundleError as exc:
        return -1, HOOK_CODES[exc.diagnostics[0].code]
    assert spec.preprocess is not None
    return spec.preprocess.nargs, None


def _static_function(tree: Callable[..., Path], params: str) -> str | None:
    stage = {"name": "s", "model": "model.py", "type": "python", "pre": "fns:f"}
    config = yaml.safe_dump({"model_name": "f", "flow": [stage]})
    model = "class Model:\n    def predict(self, x):\n        return x\n"
    files = {
        "config.yaml": config,
        "model.py": model,
        "packages/fns.py": f"def f({params}):\n    return 1\n",
    }
    errors = [d for d in bundle_cli.validate(tree(files, name="flow")).errors]
    assert all(d.code == "bad-function-arity" for d in errors) and len(errors) <= 1
    return _function_problem(errors[0].message) if errors else None


def _runtime_function(params: str) -> tuple[int, str | None]:
    namespace: dict[str, Any] = {}
    exec(f"def f({params}):\n    return 1\n", namespace)
    try:
        return function_arity(namespace["f"], FUNCTIONS["pre"], "pre"), None
    except InvalidBundleError as exc:
        return -1, _function_problem(exc.message)


@pytest.mark.parametrize("params", list(CASES))
def test_every_reader_of_a_definition_applies_the_one_rule(
    tree: Callable[..., Path], params: str
) -> None:
    nargs, problem = CASES[params]
    assert FUNCTIONS["pre"] is HOOKS["preprocess"]
    assert _static_hook(tree, params) == problem
    assert _static_function(tree, params) == problem
    expected = (-1 if problem else nargs, problem)
    assert _runtime_hook(params) == expected
    assert _runtime_function(params) == expected


def test_a_hook_taking_the_request_needs_no_input_parameter() -> None:
    shape = Shape(positional=0, required=0, request=True)
    assert arity(HOOKS["predict"], shape) == (0, None)
    assert arity(HOOKS["predict"], Shape(positional=0, required=0)) == (0, "missing-param")


def test_the_contract_writes_how_each_hook_is_called() -> None:
    assert HOOKS["postprocess"].signature == (
        "postprocess(self, model_output[, model_input[, files]])"
    )
    assert HOOKS["load"].signature == "load(self)"
    assert HOOKS["predict"].arguments == "model_input"
