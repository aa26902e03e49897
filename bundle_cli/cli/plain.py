"""How every command writes to the terminal, and its error boundary, without typer.

The typer commands (`app.say`, `app.boundary`) and the typer-free fast paths (`predict`,
`validate`) both render through here, so a message looks the same whichever path ran. ANSI colours
are written by hand so that typer (and click) are never imported on the fast paths.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from bundle_cli.errors import (
    BundleError,
    BundleWarning,
    ExitCode,
    InvalidBundleError,
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


def warning(message: str) -> None:
    """A formatted warning diagnostic, as `render_diagnostics` shows one."""
    say(message, "yellow")


def render_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    for d in diagnostics:
        say(d.format(), {"error": "red", "warning": "yellow"}.get(d.severity))


def report(exc: BundleError | KeyboardInterrupt) -> int:
    """Render one of the core's exceptions as its message; return its documented exit code."""
    if isinstance(exc, KeyboardInterrupt):
        say("interrupted", "red")
        return int(ExitCode.INTERRUPTED)
    if isinstance(exc, InvalidBundleError):
        render_diagnostics(exc.diagnostics)
        say(exc.message, "red")
    elif isinstance(exc, UserCodeError):
        sys.stderr.write(printable(exc.user_traceback, keep_lines=True))
        say(exc.message, "red")
    else:
        say(f"error: {exc}", "red")
    return int(exc.exit_code)


def bounded(action: Callable[[], int]) -> int:
    """Run `action` and return its exit code, or the one of the exception it raised."""
    try:
        return action()
    except (BundleError, KeyboardInterrupt) as exc:
        return report(exc)
