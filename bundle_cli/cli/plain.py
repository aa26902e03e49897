"""How every command writes to the terminal, and its error boundary, without typer.

The typer commands (`app.say`, `app.boundary`) and the typer-free fast paths (`predict`,
`validate`) both render through here, so a message looks the same whichever path ran. ANSI colours
are written by hand so that typer (and click) are never imported on the fast paths.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable
from types import FrameType
from typing import TYPE_CHECKING, Any

from bundle_cli.config.locate import CONFIG_FILENAME
from bundle_cli.errors import (
    BundleError,
    BundleWarning,
    ExitCode,
    FileSystemError,
    InvalidBundleError,
    Terminated,
    UserCodeError,
)
from bundle_cli.textsafe import printable

if TYPE_CHECKING:
    from bundle_cli.diagnostics import Diagnostic

# ANSI foreground colours by the names the commands use.
COLORS = {"red": "31", "green": "32", "yellow": "33"}


def say(message: str, color: str | None = None) -> None:
    """A message for the person at the terminal: always stderr, coloured only on a terminal.

    Control characters in it (from an archive's names, a config, a model's error) are escaped.
    """
    message = printable(message, keep_lines=True)
    if color and sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        message = f"\x1b[{COLORS[color]}m{message}\x1b[0m"
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def show_warnings() -> None:
    """Show the core's `BundleWarning`s as `warning: ...` lines; other warnings as Python does."""
    import warnings

    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: object, **kw: object) -> None:
        if issubclass(category, BundleWarning):
            say(f"warning: {message}", "yellow")
        else:
            previous(message, category, *args, **kw)  # type: ignore[arg-type]

    warnings.showwarning = show
    # shown each time, and never turned into an exception by PYTHONWARNINGS=error or -W error
    warnings.filterwarnings("always", category=BundleWarning)


def building(step: str) -> None:
    """What building a bundle's environment (--isolated) is doing; it happens once per key."""
    say(f"building the bundle's environment: {step}")


def warning(message: str) -> None:
    """A formatted warning diagnostic, as `render_diagnostics` shows one."""
    say(message, "yellow")


def render_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    for d in diagnostics:
        say(d.format(), {"error": "red", "warning": "yellow"}.get(d.severity))


def debugging() -> bool:
    """--debug (or BUNDLE_DEBUG=1): show the tool's own traceback of an internal error."""
    return os.environ.get("BUNDLE_DEBUG", "") not in ("", "0")


def failure(exc: BaseException) -> tuple[ExitCode, str, dict[str, Any]]:
    """(exit code, one-line message, extra JSON fields) for anything that stopped a command."""
    if isinstance(exc, Terminated):
        return ExitCode.TERMINATED, "terminated", {}
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "interrupted", {}
    if isinstance(exc, BundleError):
        return exc.exit_code, exc.message, _details(exc)
    if isinstance(exc, OSError):
        # Reached only where no core function named the operation: still the path, no traceback.
        error = FileSystemError("use", exc.filename or "a file", exc)
        return error.exit_code, error.message, _details(error)
    what = f"{type(exc).__name__}: {exc}".rstrip(": ")
    hint = "" if debugging() else "; rerun with --debug (or BUNDLE_DEBUG=1) for the traceback"
    message = f"internal error of bundle (a bug, not your input): {what}{hint}"
    return ExitCode.INTERNAL, message, {}


def _details(exc: BundleError) -> dict[str, Any]:
    if isinstance(exc, InvalidBundleError):
        return {"diagnostics": [d.to_dict() for d in exc.diagnostics]}
    if isinstance(exc, UserCodeError):
        return {"traceback": exc.user_traceback}
    if isinstance(exc, FileSystemError):
        return {"path": exc.path, "operation": exc.operation}
    return {"hint": exc.hint} if exc.hint else {}


def report(exc: BaseException, *, as_json: bool = False) -> int:
    """Render what stopped a command (stderr; and stdout with --json); return its exit code."""
    code, message, details = failure(exc)
    if isinstance(exc, InvalidBundleError):
        render_diagnostics(exc.diagnostics)
        say(exc.message, "red")
    elif isinstance(exc, UserCodeError):
        sys.stderr.write(printable(exc.user_traceback, keep_lines=True))
        say(exc.message, "red")
    elif isinstance(exc, KeyboardInterrupt):
        say(message, "red")
    else:
        if code is ExitCode.INTERNAL and debugging():
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        say(f"error: {exc}" if isinstance(exc, BundleError) else f"error: {message}", "red")
    if as_json:
        with contextlib.suppress(Exception):  # a closed stdout must not hide the exit code
            sys.stdout.write(json.dumps(failed(code, message, **details), indent=2) + "\n")
            sys.stdout.flush()
    return int(code)


def failed(code: ExitCode, message: str, **details: Any) -> dict[str, Any]:
    """The `--json` document of a failed command: `{"ok": false, "error": {...}}`."""
    error = {"code": code.name.lower(), "message": message, "exit_code": int(code), **details}
    return {"ok": False, "error": error}


def bounded(action: Callable[[], int], *, as_json: bool = False) -> int:
    """Run `action` and return its exit code, or the one of whatever stopped it."""
    try:
        return action()
    except Exception as exc:
        return report(exc, as_json=as_json)
    except KeyboardInterrupt as exc:
        return report(exc, as_json=as_json)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def handle_sigterm() -> None:
    """SIGTERM raises Terminated in the main thread: cleanups run as for Ctrl-C, exit 143."""
    signal.signal(signal.SIGTERM, _terminate)


def bundle_argument(path: str) -> str:
    """The bundle a command works on: PATH as given, except that `.` (the default) in a folder
    without config.yaml means the nearest folder above that holds one, as git finds its root."""
    if os.path.normpath(path) != "." or os.path.exists(CONFIG_FILENAME):
        return path
    here = folder = os.getcwd()
    while (parent := os.path.dirname(folder)) != folder:
        folder = parent
        if os.path.isfile(os.path.join(folder, CONFIG_FILENAME)):
            return os.path.relpath(folder, here)
    return path
