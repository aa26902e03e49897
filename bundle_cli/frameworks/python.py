"""`python` stages: a Model class from a .py file in the bundle, as in the single-model contract.

The runtime runs the class as it runs a bundle's Model (same hooks, arity rule and typed input):
preprocess(x[, files]) -> predict(x) -> postprocess(result[, x[, files]]); load() runs once when
the flow is loaded.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from bundle_cli.frameworks import Framework, Host, StageCall, stage_error


def load(path: Path, options: dict[str, Any], where: str, host: Host) -> StageCall:
    class_name = options.get("class_name", "Model")
    cls = getattr(host.import_file(path, where), class_name, None)
    if not inspect.isclass(cls):
        message = f"{where}: {path.name} defines no class {class_name}"
        raise stage_error("missing-model-class", message, path)
    return host.model(cls, where)


FRAMEWORKS = (Framework("python", load, suffixes=(".py",), options={"class_name": str}),)
