"""Output and the error boundary of the typer-free fast paths (`predict`, `validate`).

They render exactly as `app.say` and `app.boundary` do, with ANSI colours written by hand so that
typer (and click) are never imported on these paths.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

RED, GREEN, YELLOW = "31", "32", "33"


def say(message: str, color: str | None = None) -> None:
    """A message for the person at the terminal: always stderr, coloured only on a terminal."""
    if color and sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        message = f"\x1b[{color}m{message}\x1b[0m"
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def render_diagnostics(diagnostics: list[object]) -> None:
    for d in diagnostics:
        severity = getattr(d, "severity", None)
        say(d.format(), {"error": RED, "warning": YELLOW}.get(str(severity)))  # type: ignore[attr-defined]


def bounded(action: Callable[[], int]) -> int:
    """Run `action`, turning the core's exceptions into one message and a documented exit code."""
    from bundle_cli.errors import BundleError, ExitCode, InvalidBundleError, UserCodeError

    try:
        return action()
    except InvalidBundleError as exc:
        render_diagnostics(list(exc.diagnostics))
        say(exc.message, RED)
        return int(exc.exit_code)
    except UserCodeError as exc:
        sys.stderr.write(exc.user_traceback)
        say(exc.message, RED)
        return int(exc.exit_code)
    except BundleError as exc:
        say(f"error: {exc}", RED)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        say("interrupted", RED)
        return int(ExitCode.INTERRUPTED)
