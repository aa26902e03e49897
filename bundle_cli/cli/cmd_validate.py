"""`bundle validate`."""

from __future__ import annotations

from pathlib import Path

import typer

from bundle_cli.cli.app import app, boundary, emit_json, render_diagnostics, say
from bundle_cli.errors import ExitCode


@app.command()
def validate(
    path: Path = typer.Argument(Path("."), help="Bundle directory."),
    as_json: bool = typer.Option(
        False, "--json", help="Print a machine-readable report on stdout."
    ),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check a bundle without importing its model code."""
    from bundle_cli.validation import validate as run_validation

    with boundary():
        report = run_validation(path, strict=strict)
    if as_json:
        emit_json(report.to_dict(strict=strict))
    else:
        render_diagnostics(report.diagnostics)
        say(report.summary(), color="green" if report.ok(strict=strict) else "red")
    if not report.ok(strict=strict):
        raise typer.Exit(ExitCode.USAGE)
