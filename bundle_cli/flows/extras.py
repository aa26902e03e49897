"""Optional frameworks: imported when a stage needs one, or an error naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from bundle_cli.errors import MissingDependencyError

# importable module -> the bundle-cli extra that installs it
EXTRA_OF = {
    "torch": "torch",
    "sklearn": "sklearn",
    "joblib": "sklearn",
    "xgboost": "xgboost",
    "onnxruntime": "onnx",
}


def require(module: str, needed_by: str) -> ModuleType:
    """Import `module`, or raise MissingDependencyError saying which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(module, needed_by, exc) from exc


def _missing(module: str, needed_by: str, exc: ImportError) -> MissingDependencyError:
    top = module.split(".")[0]
    extra = EXTRA_OF.get(top)
    install = f"pip install 'bundle-cli[{extra}]'" if extra else f"pip install {top}"
    # An import that fails inside the framework is a broken install, not a missing one.
    absent = exc.name in (module, top)
    why = "is not installed" if absent else f"failed to import: {exc}"
    return MissingDependencyError(
        f"{needed_by} needs {module}, which {why}; install it with: {install}"
    )
