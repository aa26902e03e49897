"""The shared store: objects that a bundle's functions and hooks keep across calls and stages.

One Store lives as long as one loaded bundle. Code reaches it in two ways:
- `bundle_cli.store()` inside any hook, pre/post function or stage model call returns the store
  of the bundle being run (a context variable set around every load and call);
- a Model whose `__init__` names a `store` parameter (or takes **kwargs) receives it there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextvars import ContextVar
from typing import Any, TypeVar

from bundle_cli.errors import UsageError

T = TypeVar("T")


class Store(MutableMapping[str, Any]):
    """A thread-safe mapping of names to objects, private to one loaded bundle.

    Use it like a dict (`store["vocab"] = v`, `store.get("vocab")`); `get_or_create(name,
    factory)` builds a value once even when calls run concurrently; `lock` guards compound updates
    such as `with store.lock: store["n"] = store.get("n", 0) + 1`.
    """

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.lock = threading.RLock()

    def __getitem__(self, key: str) -> Any:
        with self.lock:
            return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self.lock:
            self._data[key] = value

    def __delitem__(self, key: str) -> None:
        with self.lock:
            del self._data[key]

    def __iter__(self) -> Iterator[str]:
        with self.lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def get_or_create(self, key: str, factory: Callable[[], T]) -> T:
        """The value under `key`, made by `factory()` the first time (once, under the lock)."""
        with self.lock:
            if key not in self._data:
                self._data[key] = factory()
            value: T = self._data[key]
            return value

    def __repr__(self) -> str:
        return f"Store({sorted(self._data)})"


_current: ContextVar[Store | None] = ContextVar("bundle_cli_store", default=None)


class active:  # a lower-case name: used as `with active(store):`, as before
    """Make `current` what `bundle_cli.store()` returns for the duration of the block.

    A class rather than a generator-based context manager: it is entered around every call of
    a hook, once per row of a batch job, where the generator's cost showed."""

    __slots__ = ("current", "token")

    def __init__(self, current: Store) -> None:
        self.current = current

    def __enter__(self) -> Store:
        self.token = _current.set(self.current)
        return self.current

    def __exit__(self, *exc: object) -> None:
        _current.reset(self.token)


def store() -> Store:
    """The store of the bundle whose code is running now."""
    current = _current.get()
    if current is None:
        raise UsageError(
            "bundle_cli.store() was called outside a running bundle",
            hint="call it inside a hook or a pre/post function, or take `store` in Model.__init__",
        )
    return current
