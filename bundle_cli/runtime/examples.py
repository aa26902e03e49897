"""examples.yaml: named example requests (Truss-compatible), for `bundle predict --example`.

The file is a YAML list of `{name, input, expected?, tolerance?, files?: {name: relative path}}`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.errors import UsageError
from bundle_cli.runtime.settings import Settings
from bundle_cli.validation.examples import ExpectedError


@dataclass(frozen=True)
class Example:
    name: str
    input: Any
    expected: Any = None
    has_expected: bool = False
    tolerance: float | None = None
    files: dict[str, Path] = field(default_factory=dict)
    expect_error: ExpectedError | None = None


def read_examples(settings: Settings) -> list[Example]:
    """Every entry of the bundle's examples file (an empty list when there is none)."""
    path = settings.examples_file
    shown = settings.show(path)
    if not path.is_file():
        return []
    from bundle_cli.config.yamlpos import load_yaml_file

    doc = load_yaml_file(path)
    if doc.problems:
        p = doc.problems[0]
        raise UsageError(f"{shown}:{p.line}:{p.column}: {p.message}")
    entries = doc.data or []
    if not isinstance(entries, list):
        raise UsageError(f"{shown}: expected a list of examples, each with a name and an input")
    return [_example(entry, n, settings, shown) for n, entry in enumerate(entries)]


def find_example(settings: Settings, name: str) -> Example:
    """The example called `name`; the error lists the names there are."""
    examples = read_examples(settings)
    for example in examples:
        if example.name == name:
            return example
    names = [e.name for e in examples]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f'did you mean "{close[0]}"?' if close else f"examples: {', '.join(names) or 'none'}"
    raise UsageError(
        f"--example {name}: no such example in {settings.show(settings.examples_file)}", hint=hint
    )


def _example(entry: Any, index: int, settings: Settings, shown: str) -> Example:
    where = f"{shown}: example {index + 1}"
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("name"), str)
        or "input" not in entry
    ):
        raise UsageError(f"{where}: each example needs a `name` (text) and an `input`")
    files = entry.get("files") or {}
    if not isinstance(files, dict):
        raise UsageError(f"{where}: `files` must map names to paths inside the bundle")
    tolerance = entry.get("tolerance")
    try:
        expect_error = (
            ExpectedError.parse(entry["expect_error"]) if "expect_error" in entry else None
        )
    except ValueError as exc:
        raise UsageError(f"{where}: expect_error: {exc}") from None
    return Example(
        expect_error=expect_error,
        name=entry["name"],
        input=entry["input"],
        expected=entry.get("expected"),
        has_expected="expected" in entry,
        tolerance=float(tolerance) if isinstance(tolerance, int | float) else None,
        files={str(k): _inside(settings, str(v), where) for k, v in files.items()},
    )


def _inside(settings: Settings, relative: str, where: str) -> Path:
    path = (settings.root / relative).resolve()
    if not path.is_relative_to(settings.root):
        raise UsageError(f"{where}: file {relative} is outside the bundle")
    if not path.is_file():
        raise UsageError(f"{where}: no such file: {relative}")
    return path
