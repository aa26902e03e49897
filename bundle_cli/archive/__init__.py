"""Archives: file selection, manifest, reproducible writer, verification, safe extraction.

`bundle package` itself (validate, then write) is bundle_cli/packaging.py, above this package.

The public functions are loaded on first use so that importing this package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {
    "package": "bundle_cli.archive.package",
    "plan": "bundle_cli.archive.package",
    "verify": "bundle_cli.archive.verify",
    "unpack": "bundle_cli.archive.extract",
    "inspect": "bundle_cli.archive.inspect",
    "materialize": "bundle_cli.archive.cache",
    "is_archive": "bundle_cli.archive.cache",
    "cache_root": "bundle_cli.archive.cache",
    "select_files": "bundle_cli.archive.select",
    "Limits": "bundle_cli.archive.findings",
}

__all__ = list(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'bundle_cli.archive' has no attribute {name!r}")
    return getattr(import_module(module), name)
