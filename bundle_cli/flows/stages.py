"""What a flow stage can be: its framework types and the options each loader accepts.

Shared by the loaders (to run a stage), `bundle validate` (to check one without running it)
and `build_flow` (to write one), so the three never disagree.
"""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import Any


class ModelType(StrEnum):
    """The framework of a flow stage; the value is what config.yaml's `type` holds."""

    TORCH = "torch"
    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    XGBOOST_CLASSIFIER = "xgboost_classifier"
    ONNX = "onnx"
    PYTHON = "python"


_XGB_API = ("sklearn", "dmatrix")

# type -> option -> the allowed values (a tuple) or the required Python type
STAGE_OPTIONS: dict[str, dict[str, tuple[str, ...] | type]] = {
    "sklearn": {
        "method": (
            "predict",
            "predict_proba",
            "predict_log_proba",
            "decision_function",
            "transform",
        ),
        "trusted": list,  # skops files: the type names the author vouches for
    },
    "torch": {
        "dtype": ("float32", "float64", "float16", "bfloat16", "int64", "int32", "bool"),
        "format": ("auto", "torchscript", "exported", "module"),
    },
    "xgboost": {"method": ("predict",), "api": _XGB_API},
    "xgboost_classifier": {"method": ("predict", "predict_proba"), "api": _XGB_API},
    "onnx": {"input_name": str, "output_name": str},
    "python": {"class_name": str},
}

# type -> file name endings the loader reads (a mismatch is a warning, not an error)
STAGE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "sklearn": (".pkl", ".pickle", ".joblib", ".skops"),
    "torch": (".pt", ".pth", ".pts", ".ts", ".pt2"),
    "xgboost": (".json", ".ubj"),
    "xgboost_classifier": (".json", ".ubj"),
    "onnx": (".onnx", ".ort"),
    "python": (".py",),
}


def option_problems(stage_type: str, options: dict[str, Any]) -> list[tuple[str, str]]:
    """(option name, message) for every option the stage type's loader would not accept."""
    known = STAGE_OPTIONS.get(stage_type, {})
    problems = []
    for key, value in options.items():
        rule = known.get(key)
        if rule is None:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f'did you mean "{close[0]}"?' if close else _known_hint(known)
            problems.append((key, f'unknown option "{key}" for a {stage_type} stage; {hint}'))
        elif isinstance(rule, tuple) and value not in rule:
            allowed = ", ".join(rule)
            problems.append((key, f"{key} must be one of {allowed}; got {value!r}"))
        elif isinstance(rule, type) and not isinstance(value, rule):
            problems.append((key, f"{key} must be a {rule.__name__}; got {value!r}"))
    return problems


def _known_hint(known: dict[str, Any]) -> str:
    return f"known: {', '.join(known)}" if known else "this type takes no options"
