"""`ModelType`: the stage types of the frameworks registry, as the enum `build_flow` takes."""

from __future__ import annotations

from enum import StrEnum

from bundle_cli.frameworks import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers see; tests/flows/test_frameworks.py pins it to the registry

    class ModelType(StrEnum):
        TORCH = "torch"
        SKLEARN = "sklearn"
        XGBOOST = "xgboost"
        XGBOOST_CLASSIFIER = "xgboost_classifier"
        ONNX = "onnx"
        PYTHON = "python"

else:
    ModelType = StrEnum("ModelType", {name.upper(): name for name in types()})
    ModelType.__module__ = __name__
    ModelType.__doc__ = (
        "The framework of a flow stage; the value is what config.yaml's `type` holds."
    )
