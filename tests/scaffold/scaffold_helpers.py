"""Helpers for the scaffold tests: listing trees, snapshots, importing a scaffold's model."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

FLAVOURS = ["numpy", "sklearn", "torch"]


def entries(root: Path) -> set[str]:
    """Every file and folder below root, as relative POSIX paths (folders end with "/")."""
    return {
        p.relative_to(root).as_posix() + ("/" if p.is_dir() and not p.is_symlink() else "")
        for p in root.rglob("*")
    }


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Path -> content (None for folders and links) of everything below root, root included."""
    shot: dict[str, bytes | None] = {".": None}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        shot[rel] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
    return shot


@contextmanager
def imported_model(bundle: Path) -> Iterator[ModuleType]:
    """Import bundle/model/model.py under a private name; sys.path and sys.modules restored.

    Only the bundle's own modules are forgotten afterwards: frameworks it imported (torch,
    sklearn) stay loaded, as they would in any process, because torch cannot be imported twice.
    """
    saved_path, saved_modules = list(sys.path), dict(sys.modules)
    name = f"_scaffold_model_{abs(hash(str(bundle)))}"
    try:
        spec = importlib.util.spec_from_file_location(name, bundle / "model" / "model.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = saved_path
        for added in set(sys.modules) - set(saved_modules):
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if added == name or Path(origin).is_relative_to(bundle):
                del sys.modules[added]
