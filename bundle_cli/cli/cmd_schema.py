"""`bundle schema` and `bundle requirements`: what config.yaml declares, printed."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from bundle_cli.cli.app import app, boundary, emit_json


@app.command()
def schema() -> None:
    """Print the JSON Schema of config.yaml."""
    from bundle_cli.config import json_schema

    emit_json(json_schema())


@app.command()
def requirements(
    path: Path = typer.Argument(Path("."), help="Bundle directory."),
) -> None:
    """Print the bundle's requirements as a requirements file."""
    from bundle_cli.config import requirements_text

    with boundary():
        sys.stdout.write(requirements_text(path))
