"""config.yaml: strict loading with positions, the typed model, Truss compatibility."""

from __future__ import annotations

from bundle_cli.config.load import ConfigResult, load_config, read_config

__all__ = ["ConfigResult", "load_config", "read_config"]
