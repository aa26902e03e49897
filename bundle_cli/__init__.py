"""bundle: package ML models with their pre- and post-processing code.

The public API is what `__all__` lists (pinned by tests/test_public_api.py): the functions the
commands are made of, the results they return and the exceptions they raise; `bundle_cli.errors`
is public too. Every other module is an implementation detail. Each name is loaded on first use
so that `import bundle_cli` (and the `bundle` command's start-up) stays cheap: not even `typing`
is imported at start-up, hence the local TYPE_CHECKING flag that type checkers recognise.
"""

from __future__ import annotations

from bundle_cli._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # the same names as _API, for type checkers (a test compares the two)
    from bundle_cli.archive.diff import DiffResult as DiffResult
    from bundle_cli.archive.diff import diff as diff
    from bundle_cli.archive.extract import UnpackResult as UnpackResult
    from bundle_cli.archive.extract import unpack as unpack
    from bundle_cli.archive.inspect import InspectResult as InspectResult
    from bundle_cli.archive.inspect import inspect as inspect
    from bundle_cli.archive.signing.sign import SignResult as SignResult
    from bundle_cli.archive.signing.sign import sign as sign
    from bundle_cli.archive.verify import VerifyReport as VerifyReport
    from bundle_cli.archive.verify import verify as verify
    from bundle_cli.config import load_config as load_config
    from bundle_cli.config.load import ConfigResult as ConfigResult
    from bundle_cli.diagnostics import Diagnostic as Diagnostic
    from bundle_cli.diagnostics import Report as Report
    from bundle_cli.errors import BadSignatureError as BadSignatureError
    from bundle_cli.errors import BundleError as BundleError
    from bundle_cli.errors import BundleWarning as BundleWarning
    from bundle_cli.errors import EnvironmentMismatchError as EnvironmentMismatchError
    from bundle_cli.errors import ExitCode as ExitCode
    from bundle_cli.errors import FileSystemError as FileSystemError
    from bundle_cli.errors import InputDataError as InputDataError
    from bundle_cli.errors import InvalidBundleError as InvalidBundleError
    from bundle_cli.errors import InvalidInput as InvalidInput
    from bundle_cli.errors import MissingDependencyError as MissingDependencyError
    from bundle_cli.errors import OutputEncodingError as OutputEncodingError
    from bundle_cli.errors import PredictTimeoutError as PredictTimeoutError
    from bundle_cli.errors import SecretError as SecretError
    from bundle_cli.errors import Terminated as Terminated
    from bundle_cli.errors import UnsafeArchiveError as UnsafeArchiveError
    from bundle_cli.errors import UnsafePathError as UnsafePathError
    from bundle_cli.errors import UnsafePickleError as UnsafePickleError
    from bundle_cli.errors import UsageError as UsageError
    from bundle_cli.errors import UserCodeError as UserCodeError
    from bundle_cli.flows.build import build_flow as build_flow
    from bundle_cli.flows.stages import ModelType as ModelType
    from bundle_cli.opening import validate as validate
    from bundle_cli.packaging import PackageResult as PackageResult
    from bundle_cli.packaging import package as package
    from bundle_cli.runtime import load as load
    from bundle_cli.runtime.bundle import LoadedBundle as LoadedBundle
    from bundle_cli.runtime.store import Store as Store
    from bundle_cli.runtime.store import store as store
    from bundle_cli.scaffold import InitResult as InitResult
    from bundle_cli.scaffold import init as init
    from bundle_cli.testing import run_examples as run_examples
    from bundle_cli.testing.report import ExampleResult as ExampleResult
    from bundle_cli.testing.report import TestReport as TestReport

# name -> module that defines it
_API = {
    # what the commands do
    "init": "bundle_cli.scaffold",
    "validate": "bundle_cli.opening",
    "load_config": "bundle_cli.config",
    "build_flow": "bundle_cli.flows.build",
    "ModelType": "bundle_cli.flows.stages",
    "store": "bundle_cli.runtime.store",
    "Store": "bundle_cli.runtime.store",
    "run_examples": "bundle_cli.testing",
    "load": "bundle_cli.runtime",
    "package": "bundle_cli.packaging",
    "verify": "bundle_cli.archive.verify",
    "unpack": "bundle_cli.archive.extract",
    "inspect": "bundle_cli.archive.inspect",
    "sign": "bundle_cli.archive.signing.sign",
    "diff": "bundle_cli.archive.diff",
    # what they return
    "ConfigResult": "bundle_cli.config.load",
    "Diagnostic": "bundle_cli.diagnostics",
    "Report": "bundle_cli.diagnostics",
    "LoadedBundle": "bundle_cli.runtime.bundle",
    "TestReport": "bundle_cli.testing.report",
    "ExampleResult": "bundle_cli.testing.report",
    "InitResult": "bundle_cli.scaffold",
    "PackageResult": "bundle_cli.packaging",
    "VerifyReport": "bundle_cli.archive.verify",
    "UnpackResult": "bundle_cli.archive.extract",
    "InspectResult": "bundle_cli.archive.inspect",
    "DiffResult": "bundle_cli.archive.diff",
    "SignResult": "bundle_cli.archive.signing.sign",
    # what they raise (bundle_cli.errors)
    **dict.fromkeys(
        (
            "ExitCode",
            "BundleError",
            "UsageError",
            "InvalidBundleError",
            "UnsafePickleError",
            "InputDataError",
            "InvalidInput",
            "FileSystemError",
            "UnsafeArchiveError",
            "BadSignatureError",
            "UserCodeError",
            "OutputEncodingError",
            "PredictTimeoutError",
            "SecretError",
            "UnsafePathError",
            "EnvironmentMismatchError",
            "MissingDependencyError",
            "Terminated",
            "BundleWarning",
        ),
        "bundle_cli.errors",
    ),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'bundle_cli' has no attribute {name!r}")
    # __import__, not importlib.import_module: importing importlib costs more than the rest.
    return getattr(__import__(module, fromlist=[name]), name)
