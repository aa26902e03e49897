"""What the loaders share: importing a framework on demand, and inputs as arrays."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from bundle_cli.errors import MissingDependencyError


def require(module: str, needed_by: str) -> ModuleType:
    """Import `module`, or raise MissingDependencyError saying which package provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(module, needed_by, exc) from exc


def _missing(module: str, needed_by: str, exc: ImportError) -> MissingDependencyError:
    from bundle_cli.frameworks import distribution_of

    top = module.split(".")[0]
    # bundle-cli's extras name the same distributions, but bundle-cli is not on a package
    # index: installing an extra of it by name cannot work.
    install = f"pip install {distribution_of(module)}"
    # An import that fails inside the framework is a broken install, not a missing one.
    absent = exc.name in (module, top)
    why = "is not installed" if absent else f"failed to import: {exc}"
    return MissingDependencyError(
        f"{needed_by} needs {module}, which {why}; install it with: {install}"
    )


def as_array(x: Any) -> Any:
    """Tensors and lists become numpy arrays; arrays, data frames and the rest pass unchanged."""
    import numpy as np

    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor, without importing torch
        return x.detach().cpu().numpy()
    if isinstance(x, list | tuple):
        return np.asarray(x)
    return x


def ignoring_files(predict: Any) -> Any:
    """A framework model takes the stage input only; the request files are for pre/post."""
    return lambda x, files: predict(x)
