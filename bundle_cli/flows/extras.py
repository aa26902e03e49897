"""Optional frameworks: imported when a stage needs one, or an error naming what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from bundle_cli.errors import MissingDependencyError

# importable module -> the distribution that installs it (bundle-cli's extras name the same
# ones, but bundle-cli is not on a package index: installing an extra of it by name cannot work)
DISTRIBUTION_OF = {
    "torch": "torch",
    "sklearn": "scikit-learn",
    "joblib": "scikit-learn",
    "xgboost": "xgboost",
    "onnxruntime": "onnxruntime",
}


def require(module: str, needed_by: str) -> ModuleType:
    """Import `module`, or raise MissingDependencyError saying which package provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(module, needed_by, exc) from exc


def _missing(module: str, needed_by: str, exc: ImportError) -> MissingDependencyError:
    top = module.split(".")[0]
    install = f"pip install {DISTRIBUTION_OF.get(top, top)}"
    # An import that fails inside the framework is a broken install, not a missing one.
    absent = exc.name in (module, top)
    why = "is not installed" if absent else f"failed to import: {exc}"
    return MissingDependencyError(
        f"{needed_by} needs {module}, which {why}; install it with: {install}"
    )
