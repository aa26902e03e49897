"""Where a bundle's own importable code lives, read from its validated config (a plain dict).

One answer for the runtime (what goes on sys.path while the bundle's code runs), for
`bundle validate` (where a flow's `module:function` must be found without importing it) and for
`bundle package` (which files the code it imports needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# `bundle lock`'s hash-pinned requirements, beside config.yaml (read by envs/ and validation/)
LOCK_FILE = "requirements.lock"


def import_dirs(root: Path, config: Mapping[str, Any]) -> list[Path]:
    """The folders a bundle imports from, in lookup order (existing or not): for a flow its
    root first (pre/post modules and stage files may sit there), then the model folder,
    `bundled_packages_dir` and every `external_package_dirs` entry."""
    dirs = [root / config["model_module_dir"], root / config["bundled_packages_dir"]]
    if config.get("flow"):
        dirs.insert(0, root)
    return dirs + external_dirs(root, config)


def external_dirs(root: Path, config: Mapping[str, Any]) -> list[Path]:
    return [(root / d).resolve() for d in config.get("external_package_dirs") or ()]


class NotFound(Exception):
    """The reference does not resolve; the message says what is missing."""


def find_module(roots: list[Path], module: str) -> Path:
    """The file of a dotted module name under the first root that has it (as import would)."""
    parts = module.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    raise NotFound(f"module {module} is not in the bundle (looked in {_names(roots)})")


def _names(roots: list[Path]) -> str:
    return ", ".join(f"{r.name}/" for r in roots)
