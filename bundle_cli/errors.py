"""One exception hierarchy; every user-facing error carries its message and exit code.

Core code raises these; only the CLI turns them into output and an exit status.
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
    INTERRUPTED = 130  # Ctrl-C


class BundleWarning(UserWarning):
    """Something the user should know that does not stop the command (shown as `warning: ...`)."""


class BundleError(Exception):
    """Base of every error the tool reports to a user (never shown with a traceback)."""

    exit_code: ExitCode = ExitCode.USAGE

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


class UnsafePathError(BundleError):
    """A file would be written outside its target folder (a path escape); nothing was written."""

    exit_code = ExitCode.UNSAFE


class EnvironmentMismatchError(BundleError):
    """Loading the model needed a module this environment does not have (not the model's fault)."""

    exit_code = ExitCode.ENVIRONMENT


class MissingDependencyError(BundleError):
    """A bundle needs an optional framework that is not installed; the message names the extra."""
