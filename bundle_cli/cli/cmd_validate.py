"""`bundle validate` (the plain command lines run through `validate_fast`, without typer)."""

from __future__ import annotations

from pathlib import Path

import typer

from bundle_cli.cli.app import app, boundary


@app.command()
def validate(
    path: Path = typer.Argument(Path("."), help="Bundle directory or archive."),
    as_json: bool = typer.Option(
        False, "--json", help="Print a machine-readable report on stdout."
    ),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Check every file again, even when nothing changed."
    ),
    trust_pickles: bool = typer.Option(
        False, "--trust-pickles", help="Untrusted pickles are warnings, not errors."
    ),
) -> None:
    """Check a bundle without importing its model code."""
    from bundle_cli.cli.validate_fast import run

    with boundary(as_json=as_json):
        code = run(
            path, as_json=as_json, strict=strict, no_cache=no_cache, trust_pickles=trust_pickles
        )
    if code:
        raise typer.Exit(code)
