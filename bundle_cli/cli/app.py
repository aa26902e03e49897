"""The typer application, shared rendering helpers and the error boundary.

Command modules register themselves on `app` (cli/commands.py imports them all, in help order);
each keeps heavy imports inside its function so that `bundle --help` and argument errors stay
fast. `command` makes a typer command from a declaration of cli/options.py.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

from bundle_cli._version import __version__
from bundle_cli.cli import plain
from bundle_cli.cli.options import parameters

T = TypeVar("T")

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
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an internal error (or BUNDLE_DEBUG=1)."
    ),
) -> None:
    """Package ML models with their pre- and post-processing code."""
    if debug:  # __main__ reads it first; this is for `bundle --debug` reaching typer directly
        os.environ["BUNDLE_DEBUG"] = "1"


def say(message: str, *, color: str | None = None) -> None:
    """A message for the person at the terminal: always stderr, never stdout."""
    plain.say(message, color)


def emit_json(data: Any) -> None:
    """A machine-readable result on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


render_diagnostics = plain.render_diagnostics


def warn(quiet: bool) -> Any:
    """How a command shows validation warnings before it runs: printed, or not with --quiet."""
    return None if quiet else plain.warning


@contextmanager
def boundary(*, as_json: bool = False) -> Iterator[None]:
    """Turn whatever stops a command into one message and a documented exit code; with
    `as_json`, also a `{"ok": false, "error": ...}` document on stdout."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except (Exception, KeyboardInterrupt) as exc:
        raise typer.Exit(plain.report(exc, as_json=as_json)) from None


def predict_option(field: str) -> Any:
    """The typer option that `bundle predict` declares as PredictOptions.`field`, for the other
    commands that run a model and take the same option (`serve`, `test`): declared once."""
    from bundle_cli.cli.predict_options import PredictOptions

    for name, spec, default, _ in parameters(PredictOptions):
        if name == field:
            return typer.Option(default, *spec.flags, metavar=spec.metavar, help=spec.help)
    raise KeyError(field)


def command(cls: type[T], body: Callable[[T], int | None], name: str) -> None:
    """Register the command `name` whose parameters are the fields of `cls` (declared with
    cli/options.py) and whose help is its docstring; it calls `body` with the parsed options
    inside the boundary (with --json, a JSON error document) and exits with the code it returns."""
    params = [
        inspect.Parameter(
            field,
            inspect.Parameter.KEYWORD_ONLY,
            default=(
                typer.Option(default, *spec.flags, metavar=spec.metavar, help=spec.help)
                if spec.flags
                else typer.Argument(default, metavar=spec.metavar, help=spec.help)
            ),
            annotation=kind,
        )
        for field, spec, default, kind in parameters(cls)
    ]

    def run(**values: Any) -> None:
        options = cls(**values)
        with boundary(as_json=bool(getattr(options, "as_json", False))):
            code = body(options)
        if code:
            raise typer.Exit(code)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__doc__ = cls.__doc__
    app.command(name)(run)
