"""What a pickle will import when loaded, read from its opcodes without unpickling it."""

from __future__ import annotations

import hashlib
import pickletools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING"}
_STRING_OPS |= {"SHORT_BINSTRING", "BINSTRING"}
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}
_GET_OPS = {"GET", "BINGET", "LONG_BINGET"}
# cloudpickle brings in modules a function uses through these, with the module name as argument
_IMPORTERS = {
    ("cloudpickle.cloudpickle", "subimport"),
    ("cloudpickle.cloudpickle", "dynamic_subimport"),
}


@dataclass(frozen=True)
class PickleSummary:
    """A pickle's digest and the modules loading it imports (sorted, top-level order kept)."""

    sha256: str
    modules: tuple[str, ...]


def summarize(path: Path) -> PickleSummary:
    """Read `path` as bytes and scan its opcodes; nothing in it is executed."""
    data = path.read_bytes()
    return PickleSummary(hashlib.sha256(data).hexdigest(), tuple(sorted(scan_modules(data))))


def scan_modules(data: bytes) -> set[str]:
    """Module names of every GLOBAL / STACK_GLOBAL, and of cloudpickle's module imports."""
    modules: set[str] = set()
    memo: dict[Any, Any] = {}
    pushed: list[Any] = [None, None]  # the last two values pushed: a string, or None
    importer = False  # the previous global imports the module named by the next string
    for op, arg, _pos in pickletools.genops(data):
        if op.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1]
            continue
        if op.name in _PUT_OPS:
            memo[arg] = pushed[-1]
            continue
        value = _pushed_value(op.name, arg, memo)
        if importer and isinstance(value, str):
            modules.add(value)
        importer = False
        ref = _global_ref(op.name, arg, pushed)
        if ref is not None:
            modules.add(ref[0])
            importer = ref in _IMPORTERS
        pushed = [pushed[-1], value]
    return modules


def _pushed_value(name: str, arg: Any, memo: dict[Any, Any]) -> Any:
    if name in _STRING_OPS:
        return arg if isinstance(arg, str) else str(arg)
    if name in _GET_OPS:
        return memo.get(arg)
    return None


def _global_ref(name: str, arg: Any, pushed: list[Any]) -> tuple[str, str] | None:
    if name == "GLOBAL":
        module, _, attr = str(arg).partition(" ")
        return module, attr
    if name == "STACK_GLOBAL" and all(isinstance(v, str) for v in pushed):
        return pushed[-2], pushed[-1]
    return None
