"""bundle: package ML models with their pre- and post-processing code.

The public API is importable from here; each function is loaded on first use so that
`import bundle_cli` (and the `bundle` command's start-up) stays cheap: not even `typing` is
imported at start-up, hence the local TYPE_CHECKING flag that type checkers recognise.
"""

from __future__ import annotations

from importlib import import_module

from bundle_cli._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from bundle_cli.archive.diff import diff as diff
    from bundle_cli.config import load_config as load_config
    from bundle_cli.errors import InvalidInput as InvalidInput
    from bundle_cli.flows.build import build_flow as build_flow
    from bundle_cli.flows.stages import ModelType as ModelType
    from bundle_cli.runtime import load as load
    from bundle_cli.runtime.store import Store as Store
    from bundle_cli.runtime.store import store as store
    from bundle_cli.scaffold import init as init
    from bundle_cli.signing.sign import sign as sign
    from bundle_cli.testing import run_examples as run_examples
    from bundle_cli.validation import validate as validate

# name -> module that defines it
_API = {
    "init": "bundle_cli.scaffold",
    "validate": "bundle_cli.validation",
    "load_config": "bundle_cli.config",
    "build_flow": "bundle_cli.flows.build",
    "ModelType": "bundle_cli.flows.stages",
    "store": "bundle_cli.runtime.store",
    "Store": "bundle_cli.runtime.store",
    "run_examples": "bundle_cli.testing",
    "load": "bundle_cli.runtime",
    "package": "bundle_cli.archive.package",
    "verify": "bundle_cli.archive.verify",
    "unpack": "bundle_cli.archive.extract",
    "inspect": "bundle_cli.archive.inspect",
    "sign": "bundle_cli.signing.sign",
    "diff": "bundle_cli.archive.diff",
    "InvalidInput": "bundle_cli.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'bundle_cli' has no attribute {name!r}")
    return getattr(import_module(module), name)
