"""One exception hierarchy; every user-facing error carries its message and exit code.

Core code raises these; only the CLI turns them into output and an exit status. Every public
exception is here (and importable from `bundle_cli`); the exit code each class maps to follows
its name (a test keeps this drawing true):

    Exception
    ├── BundleError                     2 unless a subclass says otherwise
    │   ├── UsageError                  2  a command called wrongly
    │   ├── InvalidBundleError          2  the bundle failed validation (`diagnostics`)
    │   │   └── UnsafePickleError       4  pickles that import what nobody vouched for
    │   ├── InputDataError              3  the request data cannot be used
    │   ├── FileSystemError             2  a path the command needs cannot be used
    │   ├── UnsafeArchiveError          4  corrupt, altered or escaping archive
    │   ├── BadSignatureError           4  a signature that does not check out
    │   ├── UserCodeError               1  the bundle's own code raised (`user_traceback`)
    │   │   ├── OutputEncodingError     1  the model returned a value with no JSON form
    │   │   └── PredictTimeoutError     1  a request ran longer than its timeout
    │   ├── SecretError                 2  an undeclared or unset secret (also a KeyError)
    │   ├── UnsafePathError             4  a write that would leave its folder
    │   ├── EnvironmentMismatchError    5  this environment lacks a module the model needs
    │   └── MissingDependencyError      2  an optional framework is not installed
    └── InvalidInput                    3  raised by model code to reject a request
    KeyboardInterrupt
    └── Terminated                      143  SIGTERM (Ctrl-C itself is 130)
    UserWarning
    └── BundleWarning                   shown as `warning: ...`, never fails a command
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bundle_cli.diagnostics import Diagnostic


class ExitCode(IntEnum):
    """Exit codes of the `bundle` command; documented in the README and pinned by tests."""

    OK = 0
    USER_CODE = 1  # the bundle's own model code raised
    USAGE = 2  # bad command line, invalid bundle or config
    INVALID_INPUT = 3  # the input data is not valid for the model
    UNSAFE = 4  # refused as unsafe or corrupt (archive integrity, path escape)
    ENVIRONMENT = 5  # this environment lacks what the bundle declares (a module, a requirement)
    INTERNAL = 70  # a bug of the tool itself (EX_SOFTWARE); traceback with --debug
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (128 + 15): a cancelled CI job, `docker stop`


class BundleWarning(UserWarning):
    """Something the user should know that does not stop the command (shown as `warning: ...`)."""


class BundleError(Exception):
    """Base of every error the tool reports to a user (never shown with a traceback)."""

    exit_code: ExitCode = ExitCode.USAGE
    raised: str | None = None  # for errors of the model's code: the name of what it raised

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(BundleError):
    """A command was called wrongly (bad option value, unsafe name, existing target)."""


class InvalidBundleError(BundleError):
    """The bundle failed validation; `diagnostics` holds every problem found."""

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class UnsafePickleError(InvalidBundleError):
    """The bundle holds pickles that import what nobody vouched for; none was loaded."""

    exit_code = ExitCode.UNSAFE


class InputDataError(BundleError):
    """The request data cannot be used: not JSON, wrong shape, fails the declared input type."""

    exit_code = ExitCode.INVALID_INPUT


class InvalidInput(Exception):
    """Raise it in model code to reject a request: `bundle predict` exits 3 with its message
    (secret values masked) and no traceback; `bundle_cli.load(...).predict` raises
    InputDataError. Public as `bundle_cli.InvalidInput`; an examples.yaml entry can expect it
    (`expect_error: InvalidInput`). Not a BundleError: it is the model's, the runtime converts it.
    """


class FileSystemError(BundleError):
    """A file or folder the command must read or write cannot be used (permission, read-only,
    a parent that is a file, a full disk, a name too long); the message names the path and what
    the command was doing."""

    def __init__(self, operation: str, path: object, exc: OSError) -> None:
        self.operation, self.path, self.errno = operation, str(path), exc.errno
        super().__init__(f"cannot {operation} {path}: {_reason(exc)}")


def _reason(exc: OSError) -> str:
    """ "permission denied", "no space left on device", ...: the system's words, lower case."""
    return exc.strerror.lower() if exc.strerror else str(exc) or type(exc).__name__


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM. A KeyboardInterrupt, so every handler that lets
    Ctrl-C through (and every cleanup) treats a `docker stop` or a cancelled CI job the same."""


class UnsafeArchiveError(BundleError):
    """An archive is corrupt, altered or tries to escape its target; nothing was written."""

    exit_code = ExitCode.UNSAFE


class BadSignatureError(BundleError):
    """A signature does not check out: wrong key, altered content, or not a signature at all."""

    exit_code = ExitCode.UNSAFE


class UserCodeError(BundleError):
    """The bundle's own code raised; `user_traceback` holds its frames only."""

    exit_code = ExitCode.USER_CODE

    def __init__(self, message: str, user_traceback: str) -> None:
        super().__init__(message)
        self.user_traceback = user_traceback


class OutputEncodingError(UserCodeError):
    """A value returned by the model has no JSON form."""


class PredictTimeoutError(UserCodeError):
    """A request ran longer than --timeout; the traceback shows where the model was."""


class SecretError(BundleError, KeyError):
    """A secret was read that is not declared in config.yaml, or has no value."""

    exit_code = ExitCode.USAGE

    def __str__(self) -> str:  # KeyError would quote the message
        return BundleError.__str__(self)


class UnsafePathError(BundleError):
    """A file would be written outside its target folder (a path escape); nothing was written."""

    exit_code = ExitCode.UNSAFE


class EnvironmentMismatchError(BundleError):
    """Loading the model needed a module this environment does not have (not the model's fault)."""

    exit_code = ExitCode.ENVIRONMENT


class MissingDependencyError(BundleError):
    """A bundle needs an optional framework that is not installed; the message names the extra."""
