"""Each command line declared once: a dataclass whose fields are the command's argument and options.

A field's flags, metavar and help are its metadata (`option(...)`, `argument(...)`), its type and
default are the field's own, and the class docstring is the command's help. From that one
declaration come both parsers:

- `parse(cls, argv)`, typer-free, for the commands whose budget leaves no room for typer's import
  (predict, validate, sign, serve). It reads the plain forms (`--opt value`, `--opt=value`, `-o value`,
  flags) and returns None for anything else (help, an unknown option, `-ivalue`, a number typer
  might read differently), which the typer command then handles with its usual messages.
- `cli/app.py::command(cls, body, name)`, the typer command with the same options, which renders
  the help and the usage errors (typer is imported there, never here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")

# a field's annotation (as written) -> how the fast parser reads it, and its type for typer
_KINDS: dict[str, tuple[str, Any]] = {
    "bool": ("flag", bool),
    "str": ("value", str),
    "int": ("int", int),
    "float": ("float", float),
    "str | None": ("value", str | None),
    "Path": ("value", Path),
    "Path | None": ("value", Path | None),
    "int | None": ("int", int | None),
    "float | None": ("float", float | None),
    "list[str]": ("many", list[str]),
}
_CONVERT: dict[str, Callable[[str], Any]] = {"int": int, "float": float}


class Spec(NamedTuple):
    """How a field appears on the command line; no flags: the positional argument. (A named
    tuple, not a frozen dataclass: making one runs at every fast command's start, ~0.3 ms.)"""

    flags: tuple[str, ...]
    help: str
    metavar: str | None = None


def option(default: Any, *flags: str, help: str, metavar: str | None = None) -> Any:
    """A field that is an option (`-i`, `--input`); a list default means "repeatable"."""
    meta = {"cli": Spec(flags, help, metavar)}
    if isinstance(default, list):
        return dataclasses.field(default_factory=list, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def argument(default: Any = dataclasses.MISSING, *, help: str, metavar: str | None = None) -> Any:
    """The field that is the command's positional argument; without a default it is required."""
    return dataclasses.field(default=default, metadata={"cli": Spec((), help, metavar)})


def shared(cls: type, name: str) -> Any:
    """The field `name` as another command's class declares it (`serve` takes some of
    `predict`'s options): each option declared once."""
    found = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    if found.default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=found.default_factory, metadata=found.metadata)
    return dataclasses.field(default=found.default, metadata=found.metadata)


def _kind(field: dataclasses.Field[Any]) -> str:
    return _KINDS[str(field.type)][0]


def table(cls: type) -> dict[str, tuple[str, str]]:
    """Every flag of the command -> (field, kind): flag, value, many (repeatable), int, float."""
    return {
        flag: (f.name, _kind(f))
        for f in dataclasses.fields(cls)
        for flag in f.metadata["cli"].flags
    }


def parse(cls: type[T], argv: list[str]) -> T | None:
    """The options of a plain command line, or None to let the typer command handle it."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    flags = table(cls)
    values: dict[str, Any] = {}
    positional: list[str] = []
    args = iter(argv)
    for arg in args:
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        spec = flags.get(name if name.startswith("--") or not eq else "")
        if spec is None:
            return None  # --help, --, -ifile, an unknown option: typer decides
        field, kind = spec
        if kind == "flag":
            if eq:
                return None
            values[field] = True
            continue
        raw = inline if eq else next(args, None)
        if raw is None or (kind in _CONVERT and not _plain_number(raw, kind)):
            return None
        value = _CONVERT.get(kind, _converter(fields[field]))(raw)
        if kind == "many":
            values.setdefault(field, []).append(value)
        else:
            values[field] = value
    (where,) = [f for f in fields.values() if not f.metadata["cli"].flags]
    if len(positional) > 1 or (not positional and where.default is dataclasses.MISSING):
        return None
    if positional:
        values[where.name] = _converter(where)(positional[0])
    return cls(**values)


def _converter(field: dataclasses.Field[Any]) -> Callable[[str], Any]:
    return Path if "Path" in str(field.type) else str


def _plain_number(text: str, kind: str) -> bool:
    """Digits (with one "." for a float): forms every number parser reads the same way."""
    whole, dot, fraction = text.partition(".")
    if kind == "int":
        return not dot and whole.isascii() and whole.isdigit()
    return (
        whole.isascii()
        and whole.isdigit()
        and (not dot or (fraction.isascii() and fraction.isdigit()))
    )


def parameters(cls: type) -> list[tuple[str, Spec, Any, Any]]:
    """(name, spec, default, type) of each field, in order, for the typer command; the default
    of a required argument is `...`, as typer spells it."""
    found = []
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ... if f.default is dataclasses.MISSING else f.default
        found.append((f.name, f.metadata["cli"], default, _KINDS[str(f.type)][1]))
    return found
