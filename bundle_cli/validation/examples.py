"""examples.yaml: optional; when present, a list of named example requests.

Each entry: `name` (unique text) and `input` (any YAML value, the request's JSON input); optionally
`expected` (the output `bundle test` compares with), `tolerance` (a non-negative number, for floats)
and `files` (a mapping of file name -> path inside the bundle, the request's binary files).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle_cli.config.locate import Locator
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.paths import display, escapes

if TYPE_CHECKING:
    from bundle_cli.config.schema import BundleConfig


@dataclass(frozen=True)
class ExpectedError:
    """An example's `expect_error`: the name of the exception the model raises (InvalidInput,
    ValueError, ...) and optionally a regular expression its message must contain."""

    type: str
    match: str | None = None

    @classmethod
    def parse(cls, value: Any) -> ExpectedError:
        if isinstance(value, str) and value.isidentifier():
            return cls(value)
        if isinstance(value, dict) and set(value) <= {"type", "match"}:
            kind, match = value.get("type"), value.get("match")
            if isinstance(kind, str) and kind.isidentifier() and isinstance(match, str | None):
                return cls(kind, match)
        raise ValueError(
            "expected an exception name such as InvalidInput, or {type: InvalidInput, match: TEXT}"
        )


ENTRY_KEYS = ("name", "input", "expected", "expect_error", "tolerance", "files")


def check_examples(bundle_dir: Path, config: BundleConfig) -> list[Diagnostic]:
    """Every problem of the examples file; none when the bundle has no such file."""
    from bundle_cli.config.yamlpos import REFUSED, load_yaml_file

    relative = config.examples_filename
    path = bundle_dir / relative
    if escapes(relative) or not path.exists():
        return []  # optional; a path outside the bundle is check_files' to report
    at = Locator(path, {}, fallback=(1, 1), key_paths=False)  # positions come with the YAML
    if not path.is_file():
        return [at("examples-not-a-file", f'"{display(relative)}" is a folder, not a file', ())]
    try:
        doc = load_yaml_file(path)
    except UnicodeDecodeError as exc:
        return [
            at("examples-unreadable", f"not UTF-8 text (byte {exc.start}); save it as UTF-8", ())
        ]
    except OSError as exc:
        return [at("examples-unreadable", f"cannot read it: {exc.strerror or exc}", ())]
    at.positions = doc.positions
    found = [
        Diagnostic(p.code, "error", p.message, at.file, p.line, p.column) for p in doc.problems
    ]
    if doc.data is None or doc.data is REFUSED:
        return found
    if not isinstance(doc.data, list):
        message = "must be a list of examples, each a mapping with `name` and `input`"
        return [
            *found,
            at("examples-not-a-list", f"{message}; start each entry with `- name: ...`", ()),
        ]
    # A refused entry is dropped from the list, so later entries no longer match their positions;
    # an entry that lost a refused or repeated key would only echo that problem.
    if any(len(p.key_path) <= 1 for p in doc.problems):
        return found
    damaged = {p.key_path[0] for p in doc.problems}
    found += _check_entries(doc.data, bundle_dir, at, damaged)
    return sorted(found, key=lambda d: (d.line or 0, d.column or 0))


def _check_entries(
    entries: list[Any], bundle_dir: Path, at: Locator, damaged: set[str | int]
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    names: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if index in damaged:
            continue
        label = f"example {index + 1}"
        if not isinstance(entry, dict):
            message = f"{label} is {_kind(entry)}, not a mapping; give it `name` and `input` keys"
            found.append(at("example-not-a-mapping", message, (index,)))
            continue
        name = entry.get("name")
        if isinstance(name, str) and name.strip():
            label = f'example "{name}"'
            if name in names:
                line = at.positions.get((names[name], "name"), (0, 0))[0]
                message = (
                    f"{label} is named twice (first on line {line}); give each example its own name"
                )
                found.append(at("example-duplicate-name", message, (index, "name")))
            names.setdefault(name, index)
        found += _check_entry(entry, index, label, bundle_dir, at)
    return found


def _check_entry(
    entry: dict[Any, Any], index: int, label: str, bundle_dir: Path, at: Locator
) -> list[Diagnostic]:
    found = [_unknown_key(key, index, label, at) for key in entry if key not in ENTRY_KEYS]
    name = entry.get("name")
    if "name" not in entry:
        found.append(
            at("example-missing-name", f"{label} has no `name`; add `name: <text>`", (index,))
        )
    elif not isinstance(name, str) or not name.strip():
        message = f"{label}: `name` must be non-empty text, not {_kind(name)}; quote it"
        found.append(at("example-invalid-name", message, (index, "name")))
    if "input" not in entry:
        message = f"{label} has no `input`; add the request's JSON input under `input:`"
        found.append(at("example-missing-input", message, (index,)))
    for key in ("input", "expected"):
        if key in entry:
            found += _check_json(entry[key], key, index, label, at)
    if "tolerance" in entry:
        found += _check_tolerance(entry, index, label, at)
    if "files" in entry:
        found += _check_files(entry["files"], index, label, bundle_dir, at)
    if "expect_error" in entry:
        found += _check_expect_error(entry, index, label, at)
    return found


def _check_expect_error(
    entry: dict[Any, Any], index: int, label: str, at: Locator
) -> list[Diagnostic]:
    """`expect_error: InvalidInput`, or `{type: InvalidInput, match: REGEX}`; not with expected."""
    import re

    key = (index, "expect_error")
    try:
        expected = ExpectedError.parse(entry["expect_error"])
        re.compile(expected.match or "")
    except (ValueError, re.error) as exc:
        return [at("example-invalid-expect-error", f"{label}: expect_error: {exc}", key)]
    if "expected" in entry:
        message = f"{label}: give `expected` (an output) or `expect_error`, not both"
        return [at("example-invalid-expect-error", message, key)]
    return []


def _unknown_key(key: Any, index: int, label: str, at: Locator) -> Diagnostic:
    close = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1, cutoff=0.6)
    hint = f'did you mean "{close[0]}"?' if close else f"the keys are {', '.join(ENTRY_KEYS)}"
    return at("example-unknown-key", f'{label}: unknown key "{key}"; {hint}', (index, str(key)))


def _check_json(value: Any, key: str, index: int, label: str, at: Locator) -> list[Diagnostic]:
    """YAML builds dates, bytes and sets, and allows non-text keys; a JSON request has none."""
    bad = _not_json(value)
    if bad is None:
        return []
    message = (
        f"{label}: `{key}` holds {bad}, which a JSON request cannot carry; "
        "quote it in the YAML to keep it text"
    )
    return [at("example-not-json", message, (index, key))]


def _not_json(value: Any) -> str | None:
    if value is None or isinstance(value, str | bool | int | float):
        return None
    if isinstance(value, list):
        return next((b for b in map(_not_json, value) if b), None)
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"the non-text key {k!r}"
            bad = _not_json(v)
            if bad:
                return bad
        return None
    return f"{type(value).__name__} {value!r}"


def _check_tolerance(
    entry: dict[Any, Any], index: int, label: str, at: Locator
) -> list[Diagnostic]:
    import math

    value, key = entry["tolerance"], (index, "tolerance")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        message = f"{label}: tolerance {value!r} is not a non-negative number; use for example 1e-6"
        return [at("example-invalid-tolerance", message, key)]
    if "expected" not in entry:
        message = f"{label}: tolerance is set but there is no `expected` output to compare with; add `expected` or remove tolerance"
        return [at("example-tolerance-unused", message, key, "warning")]
    return []


def _check_files(
    files: Any, index: int, label: str, bundle_dir: Path, at: Locator
) -> list[Diagnostic]:
    if not isinstance(files, dict):
        message = f"{label}: `files` must map a file name to a path in the bundle, such as `image: data/cat.png`"
        return [at("example-invalid-files", message, (index, "files"))]
    found = []
    for name, value in files.items():
        key = (index, "files", str(name))
        if not isinstance(value, str) or not value:
            message = f"{label}: file {name} must be a path in the bundle, not {_kind(value)}"
            found.append(at("example-invalid-files", message, key))
        elif escapes(value):
            message = f'{label}: file {name} "{display(value)}" is outside the bundle; put the file inside it and use a relative path'
            found.append(at("example-file-outside", message, key))
        elif not (bundle_dir / value).is_file():
            message = f'{label}: file {name} "{display(value)}" is not a file in the bundle; fix the path (relative to the bundle folder)'
            found.append(at("example-file-missing", message, key))
    return found


def _kind(value: Any) -> str:
    if value is None:
        return "empty (null)"
    names = {str: "text", bool: "a boolean", int: "a number", float: "a number", list: "a list"}
    return names.get(type(value), type(value).__name__)
