"""Renders the top-level help exactly as typer prints it, for the stored fast-path copy."""

from __future__ import annotations


def render() -> str:
    """The output of `bundle --help` at 80 columns, produced by typer itself."""
    from typer.testing import CliRunner

    from bundle_cli.cli.commands import app

    result = CliRunner().invoke(app, ["--help"], prog_name="bundle", env={"COLUMNS": "80"})
    return result.output
