"""The typer application, shared rendering helpers and the error boundary.

Command modules register themselves on `app`; each keeps heavy imports inside its function so
that `bundle --help` and argument errors stay fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from bundle_cli._version import __version__
from bundle_cli.cli import plain
from bundle_cli.errors import BundleError

app = typer.Typer(
    name="bundle",
    help="Package ML models with their pre- and post-processing code.",
    no_args_is_help=True,
    add_completion=False,
    # Plain click formatting: rich help rendering doubles start-up time.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"bundle {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Package ML models with their pre- and post-processing code."""


def say(message: str, *, color: str | None = None) -> None:
    """A message for the person at the terminal: always stderr, never stdout."""
    plain.say(message, color)


def emit_json(data: Any) -> None:
    """A machine-readable result on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


render_diagnostics = plain.render_diagnostics


@contextmanager
def boundary() -> Iterator[None]:
    """Turn the core's exceptions into one message and a documented exit code."""
    try:
        yield
    except (BundleError, KeyboardInterrupt) as exc:
        raise typer.Exit(plain.report(exc)) from None


# Registration order is the order of `bundle --help`.
from bundle_cli.cli import commands  # noqa: E402,F401
