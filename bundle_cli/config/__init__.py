"""config.yaml: strict loading with positions, the typed model, Truss compatibility.

Names are loaded on first use, so that `bundle_cli.config.locate` (the file name, key paths)
is importable without the YAML loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle_cli.config.locate import CONFIG_FILENAME

if TYPE_CHECKING:
    from bundle_cli.config.load import ConfigResult as ConfigResult
    from bundle_cli.config.load import load_config as load_config
    from bundle_cli.config.load import read_config as read_config

__all__ = [
    "CONFIG_FILENAME",
    "ConfigResult",
    "json_schema",
    "load_config",
    "read_config",
    "requirements_text",
]
_LOAD = ("ConfigResult", "load_config", "read_config")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of config.yaml."""
    from bundle_cli.config.schema import json_schema as build

    return build()


def requirements_text(bundle_dir: str | Path) -> str:
    """The bundle's requirements as one requirements file (`-r` files inlined), for pip."""
    from bundle_cli.config.load import load_config, read_config
    from bundle_cli.config.requirements import bundle_entries

    bundle_dir = Path(bundle_dir)
    config = read_config(bundle_dir)
    entries = bundle_entries(bundle_dir, config, load_config(bundle_dir).positions)
    return "".join(f"{e.text}\n" for e in entries)


def __getattr__(name: str) -> Any:
    if name not in _LOAD:
        raise AttributeError(f"module 'bundle_cli.config' has no attribute {name!r}")
    from bundle_cli.config import load

    return getattr(load, name)
