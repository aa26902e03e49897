"""What a pickle stream would import and call, read from its opcodes without unpickling it.

A small symbolic pickle machine runs over `pickletools.genops`: literals, tuples, lists and
dicts are kept as values (so that names built from memoised strings are still read), while
every global (GLOBAL, STACK_GLOBAL, INST) is recorded as an import, and every REDUCE, NEWOBJ,
NEWOBJ_EX, OBJ, INST and BUILD as a call of what it would call. Anything the machine cannot
name is a problem, never a pass: a global whose name is computed while loading, a call of an
object that loading made, an extension-registry code.

joblib writes numpy arrays' bytes between pickle opcodes, after each NumpyArrayWrapper; those
bytes are skipped as joblib reads them (an array of objects is a nested pickle, scanned too).
"""

from __future__ import annotations

import io
import os
import pickletools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

_MARK = object()
_JOBLIB_WRAPPERS = {
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
}
_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_GET = {"GET", "BINGET", "LONG_BINGET"}
_CALLS = {"REDUCE": 2, "NEWOBJ": 2, "NEWOBJ_EX": 3}
_LITERALS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


@dataclass(frozen=True)
class Ref:
    """A global the pickle imports: `module` and `name` (a dotted path from protocol 4 on)."""

    module: str
    name: str

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


COMPUTED = Ref("?", "<name computed while loading>")


class Made:
    """An object loading would make: what made it, with which arguments, and its state."""

    def __init__(self, origin: Any, args: Any = None) -> None:
        self.origin, self.args, self.state = origin, args, None


class Unknown:
    """A value the machine does not follow (a number's arithmetic, a persistent object...)."""


@dataclass
class Findings:
    """Every import and call of one or more pickle streams, and what could not be followed."""

    imports: set[Ref] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    problems: dict[str, list[int]] = field(default_factory=dict)  # what -> byte offsets

    def problem_lines(self) -> list[str]:
        return [
            f"{what} (at byte {', '.join(map(str, where[:3]))}{', ...' if len(where) > 3 else ''})"
            for what, where in self.problems.items()
        ]


def scan_stream(f: IO[bytes], found: Findings | None = None) -> Findings:
    """Read one pickle from `f` (up to its STOP) and say what it would import and call."""
    machine = _Machine(f, found or Findings())
    for op, arg, pos in _opcodes(f):
        if op.name == "STOP":
            break
        machine.step(op, arg, pos)
    return machine.found


# Raw data (array bytes, tensors' storage): skipped, never read into memory. Longer strings
# than this are not names a global could have.
_SKIPPED = {"BINBYTES": 4, "BINBYTES8": 8, "BYTEARRAY8": 8, "BINUNICODE8": 8}
_SKIP_ABOVE = 4096


def _opcodes(f: IO[bytes]) -> Iterator[tuple[Any, Any, int]]:
    """pickletools.genops, but the bytes of large data arguments are skipped, not read."""
    while True:
        start = f.tell()
        code = f.read(1)
        op = _CODES.get(code.decode("latin-1")) if code else None
        if op is None:
            why = f"unknown opcode {code!r}" if code else "it ends before its STOP"
            raise ValueError(f"at byte {start}: {why}")
        width = _SKIPPED.get(op.name)
        if width is None:
            yield op, (op.arg.reader(f) if op.arg is not None else None), start
            if op.name == "STOP":
                return
            continue
        head = f.read(width)
        size = int.from_bytes(head, "little")
        if len(head) != width:
            raise ValueError(f"at byte {start}: it ends inside an argument")
        if size > _SKIP_ABOVE:
            _skip(f, size)
            yield op, Unknown(), start
            continue
        data = f.read(size)
        if len(data) != size:
            raise ValueError(f"at byte {start}: it ends inside an argument")
        yield (
            op,
            (data.decode("utf-8", "surrogatepass") if op.name == "BINUNICODE8" else data),
            start,
        )


_CODES: dict[str, Any] = {op.code: op for op in pickletools.opcodes}


class _Machine:
    def __init__(self, f: IO[bytes], found: Findings) -> None:
        self.f, self.found = f, found
        self.stack: list[Any] = []
        self.memo: dict[Any, Any] = {}

    def pop(self) -> Any:
        return self.stack.pop() if self.stack else Unknown()

    def pop_mark(self) -> list[Any]:
        items: list[Any] = []
        while self.stack:
            top = self.stack.pop()
            if top is _MARK:
                break
            items.append(top)
        items.reverse()
        return items

    def problem(self, pos: int | None, what: str) -> None:
        self.found.problems.setdefault(what, []).append(pos or 0)

    def step(self, op: Any, arg: Any, pos: int | None) -> None:
        name = op.name
        handler = getattr(self, f"op_{name}", None)
        if handler is not None:
            handler(arg, pos)
        elif name in _PUT:
            self.memo[arg] = self.stack[-1] if self.stack else Unknown()
        elif name in _GET:
            self.stack.append(self.memo.get(arg, Unknown()))
        elif name in _CALLS:
            self.call(name, pos)
        elif name in _LITERALS:
            self.stack.append(_LITERALS[name])
        elif not op.stack_before and len(op.stack_after) == 1 and arg is not None:
            self.stack.append(arg)  # a string, bytes or number literal
        else:
            self.generic(op)

    def generic(self, op: Any) -> None:
        before = op.stack_before
        if pickletools.markobject in before:
            self.pop_mark()
            before = before[: before.index(pickletools.markobject)]
        for _ in before:
            self.pop()
        self.stack += [Unknown() for _ in op.stack_after]

    # imports
    def record(self, ref: Ref) -> Ref:
        self.found.imports.add(ref)
        return ref

    def op_GLOBAL(self, arg: Any, pos: int | None) -> None:
        module, _, attr = str(arg).partition(" ")
        self.stack.append(self.record(Ref(module, attr)))

    def op_STACK_GLOBAL(self, arg: Any, pos: int | None) -> None:
        attr, module = self.pop(), self.pop()
        if isinstance(module, str) and isinstance(attr, str):
            self.stack.append(self.record(Ref(module, attr)))
            return
        self.problem(pos, "imports a global whose name is computed while loading")
        self.found.imports.add(COMPUTED)
        self.stack.append(Unknown())

    def op_INST(self, arg: Any, pos: int | None) -> None:
        module, _, attr = str(arg).partition(" ")
        args = self.pop_mark()
        self.stack.append(self.made(self.record(Ref(module, attr)), tuple(args), pos))

    def op_EXT1(self, arg: Any, pos: int | None) -> None:
        self.problem(pos, f"imports extension-registry code {arg} (copyreg), which names no global")
        self.found.imports.add(Ref("copyreg", f"<extension {arg}>"))
        self.stack.append(Unknown())

    op_EXT2 = op_EXT4 = op_EXT1

    # calls
    def made(self, fn: Any, args: Any, pos: int | None, how: str = "") -> Made:
        if isinstance(fn, Ref):
            self.found.calls.add(f"{fn}{how}")
        else:
            self.problem(pos, "calls an object made while loading, not a named global")
            self.found.calls.add(f"<object made while loading>{how}")
        return Made(fn, args)

    def call(self, name: str, pos: int | None) -> None:
        kwargs = self.pop() if name == "NEWOBJ_EX" else None
        args, fn = self.pop(), self.pop()
        how = "" if name == "REDUCE" else ".__new__"
        self.stack.append(self.made(fn, (args, kwargs) if kwargs else args, pos, how))

    def op_OBJ(self, arg: Any, pos: int | None) -> None:
        items = self.pop_mark()
        fn = items[0] if items else Unknown()
        self.stack.append(self.made(fn, tuple(items[1:]), pos))

    def op_BUILD(self, arg: Any, pos: int | None) -> None:
        state = self.pop()
        target = self.stack[-1] if self.stack else Unknown()
        if isinstance(target, Made):
            target.state = state
            if isinstance(target.origin, Ref):
                self.found.calls.add(f"{target.origin}.__setstate__")
                if str(target.origin) in _JOBLIB_WRAPPERS:
                    self.joblib_array(target, pos)

    def op_BINPERSID(self, arg: Any, pos: int | None) -> None:
        self.pop()
        self.found.calls.add("<persistent_load>")
        self.stack.append(Unknown())

    def op_PERSID(self, arg: Any, pos: int | None) -> None:
        self.found.calls.add("<persistent_load>")
        self.stack.append(Unknown())

    # values
    def op_MARK(self, arg: Any, pos: int | None) -> None:
        self.stack.append(_MARK)

    def op_POP_MARK(self, arg: Any, pos: int | None) -> None:
        self.pop_mark()

    def op_DUP(self, arg: Any, pos: int | None) -> None:
        self.stack.append(self.stack[-1] if self.stack else Unknown())

    def op_MEMOIZE(self, arg: Any, pos: int | None) -> None:
        self.memo[len(self.memo)] = self.stack[-1] if self.stack else Unknown()

    def op_EMPTY_TUPLE(self, arg: Any, pos: int | None) -> None:
        self.stack.append(())

    def op_TUPLE(self, arg: Any, pos: int | None) -> None:
        self.stack.append(tuple(self.pop_mark()))

    def op_TUPLE1(self, arg: Any, pos: int | None) -> None:
        self.stack.append((self.pop(),))

    def op_TUPLE2(self, arg: Any, pos: int | None) -> None:
        b, a = self.pop(), self.pop()
        self.stack.append((a, b))

    def op_TUPLE3(self, arg: Any, pos: int | None) -> None:
        c, b, a = self.pop(), self.pop(), self.pop()
        self.stack.append((a, b, c))

    def op_EMPTY_LIST(self, arg: Any, pos: int | None) -> None:
        self.stack.append([])

    def op_LIST(self, arg: Any, pos: int | None) -> None:
        self.stack.append(self.pop_mark())

    def op_APPEND(self, arg: Any, pos: int | None) -> None:
        value = self.pop()
        if self.stack and isinstance(self.stack[-1], list):
            self.stack[-1].append(value)

    def op_APPENDS(self, arg: Any, pos: int | None) -> None:
        items = self.pop_mark()
        if self.stack and isinstance(self.stack[-1], list):
            self.stack[-1].extend(items)

    def op_EMPTY_DICT(self, arg: Any, pos: int | None) -> None:
        self.stack.append({})

    def op_DICT(self, arg: Any, pos: int | None) -> None:
        items = self.pop_mark()
        self.stack.append(self.pairs({}, items))

    def op_SETITEM(self, arg: Any, pos: int | None) -> None:
        value, key = self.pop(), self.pop()
        if self.stack and isinstance(self.stack[-1], dict):
            self.pairs(self.stack[-1], [key, value])

    def op_SETITEMS(self, arg: Any, pos: int | None) -> None:
        items = self.pop_mark()
        if self.stack and isinstance(self.stack[-1], dict):
            self.pairs(self.stack[-1], items)

    @staticmethod
    def pairs(target: dict[Any, Any], items: list[Any]) -> dict[Any, Any]:
        for key, value in zip(items[::2], items[1::2], strict=False):
            try:
                target[key] = value
            except TypeError:  # an unhashable key: not a value this machine needs
                continue
        return target

    # joblib
    def joblib_array(self, wrapper: Made, pos: int | None) -> None:
        """Skip the array bytes joblib writes after a wrapper, as joblib reads them."""
        try:
            shape, descr, alignment = _wrapper_state(wrapper.state)
            import numpy as np

            dtype = np.dtype(descr)
        except (TypeError, ValueError, KeyError):
            raise ValueError(
                f"at byte {pos}: a joblib array whose shape or dtype cannot be read"
            ) from None
        if dtype.hasobject:
            scan_stream(self.f, self.found)  # an array of objects: a pickle of its own
            return
        if alignment is not None:
            padding = self.f.read(1)
            self.f.read(padding[0] if padding else 0)
        count = 1
        for n in shape:
            count *= n
        _skip(self.f, count * dtype.itemsize)


def _wrapper_state(state: Any) -> tuple[tuple[int, ...], str, Any]:
    if not isinstance(state, dict):
        raise TypeError("state")
    shape, dtype = state["shape"], state["dtype"]
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise TypeError("shape")
    if not (isinstance(dtype, Made) and str(dtype.origin) == "numpy.dtype"):
        raise TypeError("dtype")
    args = dtype.args
    if not (isinstance(args, tuple) and args and isinstance(args[0], str)):
        raise TypeError("dtype")
    return shape, args[0], state.get("numpy_array_alignment_bytes")


def _skip(f: IO[bytes], n: int) -> None:
    if isinstance(f, io.BufferedReader):  # a plain file: no need to read what is skipped
        here = f.tell()
        end = os.fstat(f.fileno()).st_size
        if here + n > end:
            raise EOFError("the file ends inside a data argument")
        f.seek(n, io.SEEK_CUR)
        return
    while n > 0:
        chunk = f.read(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the file ends inside a joblib array")
        n -= len(chunk)
