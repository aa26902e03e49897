"""`bundle schema`."""

from __future__ import annotations

from bundle_cli.cli.app import app, emit_json


@app.command()
def schema() -> None:
    """Print the JSON Schema of config.yaml."""
    from bundle_cli.config import json_schema

    emit_json(json_schema())
