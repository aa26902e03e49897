"""Where a bundle's own importable code lives, read from its validated config (a plain dict).

One answer for the runtime (what goes on sys.path while the bundle's code runs) and for
`bundle validate` (where a flow's `module:function` must be found without importing it).
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
