"""Per-bundle imports: a bundle sees its own modules, the caller never does.

While a bundle's code runs (import, `__init__`, `load`, every hook, every generator step), its
import dirs are at the front of `sys.path`, its model package is importable by name and the modules
it imported before are back in `sys.modules`. When control returns to the caller, those modules
are moved into the bundle's private table and the caller's `sys.path`, `sys.modules` and
environment are as they were. Two bundles that both have `model/model.py` and a `helpers` package
therefore run side by side in one process.

Third-party modules a bundle imports from site-packages (numpy, torch) stay imported: they are
process-wide and re-importing them is neither cheap nor safe.

Activation is process-global, so it is counted: any number of threads and tasks may be inside
the *same* bundle's scope at once (its world is swapped in when the first enters and out when the
last leaves), while a call into a *different* bundle waits until the active one is left. A
bundle waiting for its turn is not overtaken by new calls into the active one, except calls
made from inside it (a hook calling back in), which never wait. A call into another bundle made
from inside a bundle's code (one bundle driving another) waits until no other call is inside
the outer bundle, then runs with its own world on top and puts the outer one back afterwards.
"""

from __future__ import annotations

import contextvars
import importlib.machinery
import os
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

_LOCK = threading.Lock()
_TURN = threading.Condition(_LOCK)  # notified when a scope is left by its last call
_ACTIVE: list[ImportScope] = []  # a stack: the top's world is the one in sys.modules
_WAITING: list[ImportScope] = []  # calls waiting for their scope's turn
# The scopes the current thread or task is inside (with repeats): re-entering one never waits.
_INSIDE: contextvars.ContextVar[tuple[ImportScope, ...]] = contextvars.ContextVar(
    "bundle_import_scopes", default=()
)
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
        self._users = 0  # calls inside this scope now, from any thread or task

    @property
    def modules(self) -> dict[str, ModuleType]:
        """The bundle's private modules (a copy), by name."""
        return dict(self._modules)

    def __enter__(self) -> ImportScope:
        inside = _INSIDE.get()
        self._acquire(inside, wait=True)
        _INSIDE.set((*inside, self))
        return self

    def __exit__(self, *exc: object) -> None:
        inside = _INSIDE.get()
        if inside and inside[-1] is self:
            _INSIDE.set(inside[:-1])
        else:
            self._leave(inside)
        with _LOCK:
            self._users -= 1
            if self._users:
                return
            self._last_out()

    async def __aenter__(self) -> ImportScope:
        """`async with scope:` on an event loop: waiting for the turn never blocks the loop."""
        inside = _INSIDE.get()
        if not self._acquire(inside, wait=False):
            import asyncio

            turn = asyncio.get_running_loop().run_in_executor(None, self._acquire, inside, True)
            try:
                await asyncio.shield(turn)
            except asyncio.CancelledError:  # entered all the same, a moment later: leave again
                turn.add_done_callback(self._release_entered)
                raise
        _INSIDE.set((*inside, self))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()

    def _acquire(self, inside: tuple[ImportScope, ...], wait: bool) -> bool:
        with _LOCK:
            at_once = not _ACTIVE or (_ACTIVE[-1] is self and not _WAITING)
            if not at_once and not self._may_enter(inside):
                if not wait:
                    return False
                _WAITING.append(self)
                try:
                    while not self._may_enter(inside):
                        _TURN.wait()
                finally:
                    _WAITING.remove(self)
            if not self._users:
                self._activate()
            self._users += 1
            return True

    def _release_entered(self, turn: Any) -> None:
        if turn.exception() is None:
            self._release()

    def _leave(self, inside: tuple[ImportScope, ...]) -> None:
        """Forget this scope in the context's list when it is not the last one entered (an
        async generator closed late)."""
        if self in inside:
            at = len(inside) - 1 - inside[::-1].index(self)
            _INSIDE.set(inside[:at] + inside[at + 1 :])

    def _release(self) -> None:
        with _LOCK:
            self._users -= 1
            if not self._users:
                self._last_out()

    def _last_out(self) -> None:
        """The last call left (under _LOCK): the caller's world back, the next bundle's turn."""
        try:
            self._deactivate()
        finally:
            if _WAITING:
                _TURN.notify_all()

    def _may_enter(self, inside: tuple[ImportScope, ...]) -> bool:
        if not _ACTIVE:
            return True
        top = _ACTIVE[-1]
        if top is self:  # the same bundle: at once, unless another bundle waits for its turn
            return self in inside or all(w is self for w in _WAITING)
        if top in inside:  # called from inside the active bundle's code: nest when alone there
            return top._users == inside.count(top)
        return False

    def _activate(self) -> None:
        saved_path = sys.path[:]
        sys.path[:0] = [*self._path, *self._path_added]
        hidden = self._hide_callers_modules()
        sys.modules.update(self._modules)
        sys.meta_path.insert(0, self._finder)
        try:
            env_set = self._set_environment() if self._environment else []
        except BaseException:
            sys.meta_path.remove(self._finder)
            sys.path[:] = saved_path
            self._take_back_modules()
            sys.modules.update(hidden)
            raise
        self._saved = (saved_path, hidden, len(sys.modules), env_set)
        _ACTIVE.append(self)

    def _deactivate(self) -> None:
        assert self._saved is not None and _ACTIVE[-1] is self
        _ACTIVE.pop()
        saved_path, hidden, count, env_set = self._saved
        self._saved = None
        meta_path = sys.meta_path
        if self._finder in meta_path:  # the bundle's code may have removed it itself
            meta_path.remove(self._finder)
        path, own = sys.path, self._path
        # What the bundle's code added to sys.path is kept for its next call; a call that
        # found nothing added and left sys.path as it was (most calls) needs no search.
        unchanged = (
            not self._path_added
            and len(path) == len(own) + len(saved_path)
            and path[: len(own)] == own
            and path[len(own) :] == saved_path
        )
        if not unchanged:
            known = {*saved_path, *self._path}
            self._path_added = [p for p in path if p not in known]
        path[:] = saved_path
        if len(sys.modules) != count:
            self._adopt_new_modules()
        self._take_back_modules()
        if hidden:
            sys.modules.update(hidden)
        for key in env_set:
            os.environ.pop(key, None)

    def _hide_callers_modules(self) -> dict[str, ModuleType]:
        """Move aside the caller's modules whose names the bundle provides itself."""
        hidden: dict[str, ModuleType] = {}
        mods = sys.modules
        for top in self._owned:
            current = mods.get(top)
            if current is None or current is self._modules.get(top):
                continue
            hidden[top] = mods.pop(top)
            if hasattr(current, "__path__"):  # a package: its submodules too
                prefix = top + "."
                for key in [k for k in mods if k.startswith(prefix)]:
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
