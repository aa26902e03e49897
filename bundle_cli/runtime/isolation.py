"""Per-bundle imports: a bundle sees its own modules, the caller never does.

While a bundle's code runs (import, `__init__`, `load`, every hook, every generator step), its
import dirs are at the front of `sys.path`, its model package is importable by name and the modules
it imported before are back in `sys.modules`. When control returns to the caller, those modules
are moved into the bundle's private table and the caller's `sys.path`, `sys.modules` and
environment are as they were. Two bundles that both have `model/model.py` and a `helpers` package
therefore run side by side in one process.

Third-party modules a bundle imports from site-packages (numpy, torch) stay imported: they are
process-wide and re-importing them is neither cheap nor safe. Activation is process-global, so
it is serialised by one lock: calls into bundles from several threads run one at a time.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

_LOCK = threading.RLock()
_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


class _PackageFinder:
    """Makes exactly one package importable from a folder that is not itself on sys.path."""

    def __init__(self, name: str, parent: str) -> None:
        self.name, self.parent = name, parent

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [self.parent])


class ImportScope:
    """The import world of one bundle; `with scope:` around every call into its code."""

    def __init__(
        self,
        path_dirs: list[Path],
        package: tuple[str, Path],
        roots: list[Path],
        environment: dict[str, str] | None = None,
    ) -> None:
        self._path = [str(d) for d in path_dirs]
        name, parent = package
        self._finder = _PackageFinder(name, str(parent))
        self._owned = frozenset({name, *(n for d in path_dirs for n in importable_names(d))})
        self._roots = tuple(str(r).rstrip(os.sep) + os.sep for r in roots)
        self._environment = dict(environment or {})
        self._modules: dict[str, ModuleType] = {}
        self._path_added: list[str] = []  # what the bundle's own code appended to sys.path
        self._saved: tuple[list[str], dict[str, ModuleType], int, list[str]] | None = None
        self._depth = 0  # re-entering an active scope (a hook calling back in) is a no-op

    @property
    def modules(self) -> dict[str, ModuleType]:
        """The bundle's private modules (a copy), by name."""
        return dict(self._modules)

    def __enter__(self) -> ImportScope:
        _LOCK.acquire()
        self._depth += 1
        if self._depth > 1:
            return self
        try:
            saved_path = sys.path[:]
            sys.path[:0] = [*self._path, *self._path_added]
            hidden = self._hide_callers_modules()
            sys.modules.update(self._modules)
            sys.meta_path.insert(0, self._finder)
            env_set = self._set_environment()
        except BaseException:
            self._depth -= 1
            _LOCK.release()
            raise
        self._saved = (saved_path, hidden, len(sys.modules), env_set)
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth:
            _LOCK.release()
            return
        assert self._saved is not None
        saved_path, hidden, count, env_set = self._saved
        self._saved = None
        try:
            if self._finder in sys.meta_path:
                sys.meta_path.remove(self._finder)
            known = {*saved_path, *self._path}
            self._path_added = [p for p in sys.path if p not in known]
            sys.path[:] = saved_path
            if len(sys.modules) != count:
                self._adopt_new_modules()
            self._take_back_modules()
            sys.modules.update(hidden)
            for key in env_set:
                os.environ.pop(key, None)
        finally:
            _LOCK.release()

    def _hide_callers_modules(self) -> dict[str, ModuleType]:
        """Move aside the caller's modules whose names the bundle provides itself."""
        hidden: dict[str, ModuleType] = {}
        mods = sys.modules
        for top in self._owned:
            current = mods.get(top)
            if current is None or current is self._modules.get(top):
                continue
            prefix = top + "."
            for key in [k for k in mods if k == top or k.startswith(prefix)]:
                hidden[key] = mods.pop(key)
        return hidden

    def _adopt_new_modules(self) -> None:
        """Claim the modules imported during this call that belong to the bundle."""
        for name, module in list(sys.modules.items()):
            if name in self._modules:
                continue
            if name.partition(".")[0] in self._owned or self._is_inside(module):
                self._modules[name] = module

    def _take_back_modules(self) -> None:
        mods = sys.modules
        for name in list(self._modules):
            module = mods.pop(name, None)
            if module is None:  # the bundle removed it itself
                del self._modules[name]
            else:
                self._modules[name] = module

    def _is_inside(self, module: ModuleType) -> bool:
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            return file.startswith(self._roots)
        path = getattr(module, "__path__", None)  # namespace packages have no __file__
        try:
            return any(str(p).startswith(self._roots) for p in path or ())
        except TypeError:
            return False

    def _set_environment(self) -> list[str]:
        """Set the config's environment_variables that the process environment does not set."""
        added = [k for k in self._environment if k not in os.environ]
        for key in added:
            os.environ[key] = self._environment[key]
        return added


def importable_names(folder: Path) -> set[str]:
    """Top-level module names that `folder` provides when it is on sys.path."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return names
    for entry in entries:
        name = entry.name
        if entry.is_dir():
            stem = name
        elif name.endswith(".py"):
            stem = name[:-3]
        elif name.endswith(_EXTENSION_SUFFIXES):
            stem = name.partition(".")[0]
        else:
            continue
        if stem.isidentifier() and not stem.startswith("__"):
            names.add(stem)
    return names
