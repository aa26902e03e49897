"""config.yaml: strict loading with positions, the typed model, Truss compatibility."""

from __future__ import annotations

from typing import Any

from bundle_cli.config.load import CONFIG_FILENAME, ConfigResult, load_config, read_config

__all__ = ["CONFIG_FILENAME", "ConfigResult", "json_schema", "load_config", "read_config"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of config.yaml."""
    from bundle_cli.config.schema import json_schema as build

    return build()
